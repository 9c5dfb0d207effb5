import { randomUUID } from 'node:crypto';
import type { ChatMessage, ChatSession, Prisma } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import { runInBackground, type SubgraphContext, type SubgraphDeps } from '../kit/context.js';
import { badUserInput, forbidden } from '../kit/errors.js';
import { requireRole, requireSignedIn, requireStaffOf, Role, type AuthenticatedIdentity, type RoleName } from '../kit/identity.js';
import { ChatEvents } from '../kit/events/chat.js';
import { recordEvent, type TransactionClient } from '../kit/outbox.js';
import { OpenAICompatibleResponder, streamWords, type Responder } from '../kit/responder.js';
import { openTopic } from '../kit/subscriptions.js';
import { LlmRedFlagReviewer, type RedFlagReviewer } from './adapters/llm-red-flags.js';
import { addReviewedFlags, detectRedFlags, type RedFlag } from '../kit/red-flags/red-flag-detector.js';
import { emergencyGuidance } from '../kit/red-flags/red-flags.js';

/**
 * Patient chat with the AI assistant. Every patient message goes through red-flag detection
 * before the assistant answers: a critical flag makes the assistant send emergency guidance
 * at once instead of a reply, and any flag raises a nurse alert (a `chat.red_flag.raised`
 * event in the message's transaction; the nurse subgraph turns it into a queue entry).
 * Message text is PHI: it stays in this schema, is read and written only through the chat's
 * access policies (policies.ts: audited there), and never goes into events or logs.
 */

type Ctx = Pick<SubgraphContext, 'db' | 'prisma' | 'identity' | 'loaders' | 'log' | 'pubsub' | 'directory'> & Partial<Pick<SubgraphDeps, 'llm' | 'rateLimiter' | 'background'>>;

/** Staff who see and join their organization's patients' chats. */
export const CHAT_STAFF: readonly RoleName[] = [Role.NURSE, Role.CLINICIAN];
/** Everyone who takes part in chats: patients (their own) and staff. */
const PARTICIPANTS: readonly RoleName[] = [Role.PATIENT, ...CHAT_STAFF];
/** Per patient: generous for a conversation, tight for a script. */
export const MESSAGE_LIMIT = { perWindow: 20, windowSeconds: 60 };
const MAX_MESSAGE_LENGTH = 4_000;

export const messagesTopic = (sessionId: string): string => `chat.messages.${sessionId}`;
export const replyTopic = (sessionId: string): string => `chat.reply.${sessionId}`;

export interface ReplyChunk {
  messageId: string;
  seq: number;
  delta: string;
  done: boolean;
  text: string;
}

/** A chat the caller may see (FORBIDDEN when it is someone else's, NOT_FOUND when there is none); the read is audited. */
export async function loadSession(ctx: Ctx, id: string): Promise<ChatSession> {
  requireSignedIn(ctx.identity);
  return loadVisible<ChatSession>(ctx, 'ChatSession', id);
}

/** A patient starts a chat for themself; a nurse or clinician on behalf of a patient of their organization. */
export async function startChat(ctx: Ctx, patientId?: string | null): Promise<ChatSession> {
  const caller = requireRole(ctx.identity, PARTICIPANTS, 'You may not start chats');
  if (caller.role === Role.PATIENT) {
    if (!caller.patientId || !caller.organizationId) throw forbidden('Your account is not linked to a patient record');
    if (patientId && patientId !== caller.patientId) throw forbidden('Patients start chats for themselves only');
    return ctx.db.chatSession.create({ data: { patientId: caller.patientId, organizationId: caller.organizationId, startedById: caller.subject } });
  }
  const staff = requireStaffOf(caller, CHAT_STAFF, 'You may not start chats');
  if (!patientId) throw badUserInput('patientId', 'is required when staff start a chat');
  // Another organization's patient is FORBIDDEN, an unknown one NOT_FOUND: nothing is written.
  await ctx.directory.require('Patient', patientId, [staff.organizationId]);
  return ctx.db.chatSession.create({ data: { patientId, organizationId: staff.organizationId, startedById: staff.subject } });
}

export async function joinChat(ctx: Ctx, sessionId: string): Promise<ChatSession> {
  const staff = requireStaffOf(ctx.identity, CHAT_STAFF, 'Only nurses and clinicians join chats');
  const session = await loadSession(ctx, sessionId);
  await ctx.db.chatParticipant.upsert({ where: { sessionId_userId: { sessionId, userId: staff.subject } }, create: { sessionId, userId: staff.subject }, update: {} });
  return session;
}

/** A chat's history: the chat's read and each message's read are audited by the data path, once each. */
export async function listMessages(ctx: Ctx, sessionId: string): Promise<ChatMessage[]> {
  await loadSession(ctx, sessionId);
  return ctx.db.chatMessage.findMany({ where: { sessionId }, orderBy: { createdAt: 'asc' } });
}

/** The latest message of each session, batched: one query however many sessions a page shows. */
export async function lastMessages(ctx: Ctx, sessionId: string): Promise<ChatMessage | null> {
  return ctx.loaders
    .get<string, ChatMessage | null>('lastChatMessage', async (ids) => {
      const rows = await ctx.db.chatMessage.findMany({ where: { sessionId: { in: [...ids] } }, orderBy: [{ sessionId: 'asc' }, { createdAt: 'desc' }], distinct: ['sessionId'] });
      return ids.map((id) => rows.find((row) => row.sessionId === id) ?? null);
    })
    .load(sessionId);
}

export async function sessionsForPatient(ctx: Ctx, patientId: string): Promise<ChatSession[]> {
  const caller = requireRole(ctx.identity, PARTICIPANTS, 'You may not see chats');
  // Refused rather than shown empty: a patient asking for another patient's chats is not allowed to ask.
  if (caller.role === Role.PATIENT && caller.patientId !== patientId) throw forbidden('You may see only your own chats');
  return ctx.loaders
    .groupedBy<ChatSession>('chatSessionsByPatient', (patientIds) => ctx.db.chatSession.findMany({ where: { patientId: { in: patientIds } }, orderBy: { createdAt: 'desc' } }), (row) => row.patientId)
    .load(patientId);
}

/** Flags stored before detectors were named came from the rules. */
const toFlags = (value: Prisma.JsonValue): RedFlag[] =>
  Array.isArray(value) ? (value as unknown as Array<Partial<RedFlag> & Pick<RedFlag, 'code' | 'urgency' | 'evidence'>>).map((f) => ({ ...f, detectedBy: f.detectedBy ?? ['RULES'], signals: f.signals ?? [] })) : [];
export const flagsOf = (message: ChatMessage): RedFlag[] => toFlags(message.redFlags);

/**
 * Sends stored messages to the live feed, in order, after the answer: the message is stored
 * (and a red flag recorded) whatever the feed does, so a slow or unreachable Redis never
 * holds up the patient's answer (each publish may wait up to its command timeout).
 */
function echoLive(ctx: Ctx, ...publishes: Array<() => Promise<unknown>>): void {
  runInBackground(ctx, 'chat.live-echo', async () => {
    for (const publish of publishes) await publish();
  });
}

/** A message as the live feed carries it: JSON, so its time is an ISO string. */
export type PublishedMessage = Omit<ChatMessage, 'createdAt'> & { createdAt: string };

async function publishMessage(ctx: Ctx, message: ChatMessage): Promise<void> {
  await ctx.pubsub.publish(messagesTopic(message.sessionId), { ...message, createdAt: message.createdAt.toISOString() } satisfies PublishedMessage);
}

export interface SentMessage {
  message: ChatMessage;
  /** The assistant message now streaming through assistantReply (or already sent: emergency guidance). */
  replyMessageId: string | null;
}

type NewMessage = Pick<ChatMessage, 'role' | 'text'> & { id?: string; authorId?: string | null; redFlags?: Prisma.InputJsonValue };

/**
 * Appends messages to a chat through the chat itself: the chat's write policy decides who may,
 * the change is audited on the chat, and the messages keep the order given. (Written nested
 * rather than checked per message: a per-message check would look the chat up outside the
 * caller's transaction.)
 */
async function appendMessages<const T extends readonly NewMessage[]>(db: TransactionClient, sessionId: string, messages: T): Promise<{ [K in keyof T]: ChatMessage }> {
  const now = Date.now();
  const rows = messages.map((message, i) => ({ ...message, id: message.id ?? randomUUID(), createdAt: new Date(now + i) }));
  const updated = await db.chatSession.update({
    where: { id: sessionId },
    data: { messages: { create: rows } },
    select: { id: true, messages: { where: { id: { in: rows.map((row) => row.id) } }, orderBy: { createdAt: 'asc' } } },
  });
  return updated.messages as { [K in keyof T]: ChatMessage };
}

/**
 * Stores a message. For a patient's message: red flags first; any flag raises a nurse alert in
 * the same transaction; a critical flag answers at once with emergency guidance (no model
 * involved); otherwise the assistant's reply starts streaming. A detector failure, a late
 * answer or a message the detectors cannot read is a safety flag: the nurse is alerted rather
 * than nothing.
 */
export async function sendMessage(ctx: Ctx, sessionId: string, rawText: string): Promise<SentMessage> {
  const caller = requireRole(ctx.identity, PARTICIPANTS, 'You may not write in chats');
  const text = rawText.trim();
  if (text.length === 0 || text.length > MAX_MESSAGE_LENGTH) throw badUserInput('text', `must be 1-${MAX_MESSAGE_LENGTH} characters`);
  const session = await loadSession(ctx, sessionId);
  if (caller.role === Role.PATIENT) {
    // A patient is never refused because the limiter's store (Redis) is down: the limiter
    // lets the message through and logs that it did (the limit's name only, no patient).
    await ctx.rateLimiter?.consume(`chat:patient:${session.patientId}`, MESSAGE_LIMIT.perWindow, MESSAGE_LIMIT.windowSeconds, { failOpen: true });
    return sendPatientMessage(ctx, session, caller, text);
  }
  const [message] = await appendMessages(ctx.db, sessionId, [{ role: 'NURSE', authorId: caller.subject, text }]);
  echoLive(ctx, () => publishMessage(ctx, message));
  return { message, replyMessageId: null };
}

/** How long a patient's message may wait for the LLM's second opinion. */
export const LLM_REVIEW_TIMEOUT_MS = 3_000;
const reviewers = new WeakMap<object, RedFlagReviewer>();

/**
 * The detectors' flags, plus any the LLM adds when one is configured. The LLM never removes a
 * flag; when it is slow or fails, the detectors' flags stand (they already alert the nurse for
 * anything they found or could not assess) and the failure is logged without the message.
 */
async function assessMessage(ctx: Ctx, sessionId: string, text: string): Promise<RedFlag[]> {
  const flags = detectRedFlags(text);
  if (!ctx.llm) return flags;
  let reviewer = reviewers.get(ctx.llm);
  if (!reviewer) reviewers.set(ctx.llm, (reviewer = new LlmRedFlagReviewer(ctx.llm)));
  try {
    const codes = await reviewer.codesFor(text, AbortSignal.timeout(LLM_REVIEW_TIMEOUT_MS));
    return addReviewedFlags(flags, codes, 'raised by the LLM review');
  } catch (error) {
    ctx.log.warn({ err: error, sessionId }, 'LLM red-flag review failed; the detectors’ flags stand');
    return flags;
  }
}

async function sendPatientMessage(ctx: Ctx, session: ChatSession, caller: AuthenticatedIdentity, text: string): Promise<SentMessage> {
  // Never throws: a detector that fails, runs late or cannot read the message adds a safety
  // flag, and every flag alerts a nurse.
  const flags = await assessMessage(ctx, session.id, text);
  const guidance = emergencyGuidance(flags);
  const messageId = randomUUID();
  const [message, emergency] = await ctx.db.$transaction(async (tx) => {
    const stored = await appendMessages(tx, session.id, [
      { id: messageId, role: 'PATIENT', authorId: caller.subject, text, redFlags: flags as unknown as Prisma.InputJsonValue },
      ...(guidance ? [{ role: 'ASSISTANT' as const, text: guidance }] : []),
    ]);
    if (flags.length > 0) {
      await recordEvent(tx, ChatEvents.redFlagRaised, {
        aggregateId: session.id,
        organizationId: session.organizationId,
        // Codes and urgency only: the patient's words stay in the chat schema.
        payload: {
          sessionId: session.id,
          messageId,
          patientId: session.patientId,
          organizationId: session.organizationId,
          flags: flags.map((f) => ({ code: f.code, urgency: f.urgency })),
        },
      });
    }
    return stored;
  });
  if (emergency) {
    // Guidance is sent at once, as one finished reply (and as a message to everyone in the chat).
    echoLive(
      ctx,
      () => publishMessage(ctx, message),
      () => ctx.pubsub.publish(replyTopic(session.id), { messageId: emergency.id, seq: 1, delta: emergency.text, done: true, text: emergency.text } satisfies ReplyChunk),
      () => publishMessage(ctx, emergency),
    );
    return { message, replyMessageId: emergency.id };
  }
  echoLive(ctx, () => publishMessage(ctx, message));
  const replyMessageId = randomUUID();
  runInBackground(ctx, 'chat.assistant-reply', () => streamAssistantReply(ctx, session, replyMessageId, text));
  return { message, replyMessageId };
}

const ASSISTANT_SYSTEM_PROMPT = [
  'You are a careful clinic assistant talking with a patient. Ask short triage questions (onset, severity, what makes it better or worse).',
  'Never give a diagnosis or prescribe. Say that a nurse can review the conversation.',
  'If anything sounds like an emergency, tell them to call their local emergency number now.',
].join(' ');

function embeddedAssistant(): Responder {
  return {
    name: 'embedded',
    stream: () =>
      streamWords(
        'Thank you for telling me. When did this start, and how bad is it on a scale from 0 to 10? ' +
          'Is anything making it better or worse? A nurse can review this conversation. ' +
          'If it suddenly gets much worse, call your local emergency number.',
        3,
      ),
  };
}

async function streamAssistantReply(ctx: Ctx, session: ChatSession, messageId: string, patientText: string): Promise<void> {
  const responder: Responder = ctx.llm ? new OpenAICompatibleResponder(ctx.llm) : embeddedAssistant();
  const topic = replyTopic(session.id);
  let text = '';
  let seq = 0;
  try {
    // The model reads the patient's history: audited like any other read of it.
    const history = await ctx.db.chatMessage.findMany({ where: { sessionId: session.id, role: { in: ['PATIENT', 'ASSISTANT'] } }, orderBy: { createdAt: 'asc' }, take: 20 });
    const turns = history.slice(0, -1).map((m) => ({ role: m.role === 'PATIENT' ? ('user' as const) : ('assistant' as const), content: m.text }));
    for await (const delta of responder.stream({ system: ASSISTANT_SYSTEM_PROMPT, history: turns, message: patientText })) {
      text += delta;
      seq += 1;
      await ctx.pubsub.publish(topic, { messageId, seq, delta, done: false, text } satisfies ReplyChunk);
    }
  } catch (error) {
    ctx.log.warn({ err: error, sessionId: session.id, responder: responder.name }, 'assistant reply failed');
    text = text || 'Sorry, I cannot answer right now. A nurse can review your message; if this is an emergency, call your local emergency number.';
  }
  const [stored] = await appendMessages(ctx.db, session.id, [{ id: messageId, role: 'ASSISTANT', text }]);
  await ctx.pubsub.publish(topic, { messageId, seq: seq + 1, delta: '', done: true, text } satisfies ReplyChunk);
  await publishMessage(ctx, stored);
}

/** Checks the caller may follow a chat (before a stream opens). */
/** The assistant's reply chunks in a chat the caller may see. */
export async function replyStream(ctx: Ctx, sessionId: string): Promise<AsyncIterableIterator<ReplyChunk>> {
  await loadSession(ctx, sessionId);
  return openTopic<ReplyChunk>(ctx.pubsub, replyTopic(sessionId));
}

/** Every new message in a chat the caller may see, as published (times as ISO strings). */
export async function messageStream(ctx: Ctx, sessionId: string): Promise<AsyncIterableIterator<PublishedMessage>> {
  await loadSession(ctx, sessionId);
  return openTopic<PublishedMessage>(ctx.pubsub, messagesTopic(sessionId));
}
