import type { ChatMessage, ChatSession, Prisma } from '../../prisma/generated/client/client.js';
import { runInBackground, type SubgraphContext, type SubgraphDeps } from '../kit/context.js';
import { audit } from '../kit/audit.js';
import { badUserInput, forbidden, notFound, unauthenticated } from '../kit/errors.js';
import { isAuthenticated, Role, type AuthenticatedIdentity, type RoleName } from '../kit/identity.js';
import { recordEvent } from '../kit/outbox.js';
import { OpenAICompatibleResponder, streamWords, type Responder } from '../kit/responder.js';
import { detectRedFlags, emergencyGuidance, type RedFlag } from './domain/red-flags.js';

/**
 * Patient chat with the AI assistant. Every patient message goes through red-flag detection
 * before the assistant answers: a critical flag makes the assistant send emergency guidance
 * at once instead of a reply, and any flag raises a nurse alert (a `chat.red_flag.raised`
 * event in the message's transaction; the nurse subgraph turns it into a queue entry).
 * Message text is PHI: it stays in this schema, is audited when read, and never goes into
 * events or logs.
 */

export const SOURCE = 'chat';
export const RED_FLAG_RAISED = 'chat.red_flag.raised';
type Ctx = Pick<SubgraphContext, 'prisma' | 'identity' | 'loaders' | 'log' | 'pubsub'> & Partial<Pick<SubgraphDeps, 'llm' | 'rateLimiter' | 'background'>>;

/** Staff who see and join their organization's patients' chats. */
export const CHAT_STAFF: readonly RoleName[] = [Role.NURSE, Role.CLINICIAN];
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

function requireIdentity(ctx: Ctx): AuthenticatedIdentity {
  if (!isAuthenticated(ctx.identity)) throw unauthenticated();
  return ctx.identity;
}

function canSee(identity: AuthenticatedIdentity, session: Pick<ChatSession, 'patientId' | 'organizationId'>): boolean {
  if (identity.role === Role.PATIENT) return identity.patientId === session.patientId;
  return CHAT_STAFF.includes(identity.role) && identity.organizationId === session.organizationId;
}

export async function loadSession(ctx: Ctx, id: string): Promise<ChatSession> {
  const identity = requireIdentity(ctx);
  const session = await ctx.loaders.byId('chatSessionById', (ids) => ctx.prisma.chatSession.findMany({ where: { id: { in: ids } } })).load(id);
  if (!session) throw notFound('Chat session');
  if (!canSee(identity, session)) throw forbidden('You may not see this chat');
  return session;
}

/** A patient starts a chat for themself; a nurse or clinician on a patient's behalf. */
export async function startChat(ctx: Ctx, patientId?: string | null): Promise<ChatSession> {
  const identity = requireIdentity(ctx);
  if (identity.role === Role.PATIENT) {
    if (!identity.patientId || !identity.organizationId) throw forbidden('Your account is not linked to a patient record');
    if (patientId && patientId !== identity.patientId) throw forbidden('Patients start chats for themselves only');
    return ctx.prisma.chatSession.create({ data: { patientId: identity.patientId, organizationId: identity.organizationId, startedById: identity.subject } });
  }
  if (!CHAT_STAFF.includes(identity.role) || !identity.organizationId) throw forbidden('You may not start chats');
  if (!patientId) throw badUserInput('patientId', 'is required when staff start a chat');
  return ctx.prisma.chatSession.create({ data: { patientId, organizationId: identity.organizationId, startedById: identity.subject } });
}

export async function joinChat(ctx: Ctx, sessionId: string): Promise<ChatSession> {
  const identity = requireIdentity(ctx);
  if (!CHAT_STAFF.includes(identity.role)) throw forbidden('Only nurses and clinicians join chats');
  const session = await loadSession(ctx, sessionId);
  await ctx.prisma.chatParticipant.upsert({ where: { sessionId_userId: { sessionId, userId: identity.subject } }, create: { sessionId, userId: identity.subject }, update: {} });
  return session;
}

export async function listMessages(ctx: Ctx, sessionId: string): Promise<ChatMessage[]> {
  await loadSession(ctx, sessionId);
  const messages = await ctx.prisma.chatMessage.findMany({ where: { sessionId }, orderBy: { createdAt: 'asc' } });
  await audit(ctx.prisma, ctx.identity, { source: SOURCE, action: 'read', entityType: 'ChatSession', entityIds: [sessionId] });
  return messages;
}

/** The latest message of each session, batched: one query however many sessions a page shows. */
export async function lastMessages(ctx: Ctx, sessionId: string): Promise<ChatMessage | null> {
  return ctx.loaders
    .get<string, ChatMessage | null>('lastChatMessage', async (ids) => {
      const rows = await ctx.prisma.chatMessage.findMany({ where: { sessionId: { in: [...ids] } }, orderBy: [{ sessionId: 'asc' }, { createdAt: 'desc' }], distinct: ['sessionId'] });
      return ids.map((id) => rows.find((row) => row.sessionId === id) ?? null);
    })
    .load(sessionId);
}

export async function sessionsForPatient(ctx: Ctx, patientId: string): Promise<ChatSession[]> {
  const identity = requireIdentity(ctx);
  if (identity.role === Role.PATIENT && identity.patientId !== patientId) throw forbidden('You may see only your own chats');
  if (identity.role !== Role.PATIENT && !CHAT_STAFF.includes(identity.role)) throw forbidden('You may not see chats');
  return ctx.loaders
    .groupedBy<ChatSession>(`chatSessionsByPatient:${identity.organizationId ?? ''}`, (patientIds) => ctx.prisma.chatSession.findMany({ where: { patientId: { in: patientIds }, ...(identity.role === Role.PATIENT ? {} : { organizationId: identity.organizationId ?? '∅' }) }, orderBy: { createdAt: 'desc' } }), (row) => row.patientId)
    .load(patientId);
}

const toFlags = (value: Prisma.JsonValue): RedFlag[] => (Array.isArray(value) ? (value as unknown as RedFlag[]) : []);
export const flagsOf = (message: ChatMessage): RedFlag[] => toFlags(message.redFlags);

async function publishMessage(ctx: Ctx, message: ChatMessage): Promise<void> {
  await ctx.pubsub.publish(messagesTopic(message.sessionId), { ...message, createdAt: message.createdAt.toISOString() });
}

export interface SentMessage {
  message: ChatMessage;
  /** The assistant message now streaming through assistantReply (or already sent: emergency guidance). */
  replyMessageId: string | null;
}

/**
 * Stores a message. For a patient's message: red flags first; any flag raises a nurse alert in
 * the same transaction; a critical flag answers at once with emergency guidance (no model
 * involved); otherwise the assistant's reply starts streaming. A failure of the detector is
 * treated as a red flag of unknown kind: the nurse is alerted rather than nothing.
 */
export async function sendMessage(ctx: Ctx, sessionId: string, rawText: string): Promise<SentMessage> {
  const identity = requireIdentity(ctx);
  const text = rawText.trim();
  if (text.length === 0 || text.length > MAX_MESSAGE_LENGTH) throw badUserInput('text', `must be 1-${MAX_MESSAGE_LENGTH} characters`);
  const session = await loadSession(ctx, sessionId);
  if (identity.role === Role.PATIENT) {
    await ctx.rateLimiter?.consume(`chat:patient:${session.patientId}`, MESSAGE_LIMIT.perWindow, MESSAGE_LIMIT.windowSeconds);
    return sendPatientMessage(ctx, session, identity, text);
  }
  const message = await ctx.prisma.chatMessage.create({ data: { sessionId, role: 'NURSE', authorId: identity.subject, text } });
  await publishMessage(ctx, message);
  return { message, replyMessageId: null };
}

async function sendPatientMessage(ctx: Ctx, session: ChatSession, identity: AuthenticatedIdentity, text: string): Promise<SentMessage> {
  let flags: RedFlag[];
  let detectionFailed = false;
  try {
    flags = detectRedFlags(text);
  } catch (error) {
    ctx.log.error({ err: error, sessionId: session.id }, 'red-flag detection failed; alerting a nurse');
    flags = [];
    detectionFailed = true;
  }
  const guidance = emergencyGuidance(flags);
  const { message, emergency } = await ctx.prisma.$transaction(async (tx) => {
    const created = await tx.chatMessage.create({ data: { sessionId: session.id, role: 'PATIENT', authorId: identity.subject, text, redFlags: flags as unknown as Prisma.InputJsonValue } });
    if (flags.length > 0 || detectionFailed) {
      await recordEvent(tx, {
        source: SOURCE,
        type: RED_FLAG_RAISED,
        aggregateId: session.id,
        organizationId: session.organizationId,
        // Codes and urgency only: the patient's words stay in the chat schema.
        payload: {
          sessionId: session.id,
          messageId: created.id,
          patientId: session.patientId,
          organizationId: session.organizationId,
          flags: detectionFailed ? [{ code: 'DETECTION_FAILED', urgency: 'high' }] : flags.map((f) => ({ code: f.code, urgency: f.urgency })),
        },
      });
    }
    const emergencyMessage = guidance ? await tx.chatMessage.create({ data: { sessionId: session.id, role: 'ASSISTANT', text: guidance } }) : null;
    return { message: created, emergency: emergencyMessage };
  });
  await publishMessage(ctx, message);
  if (emergency) {
    // Guidance is sent at once, as one finished reply (and as a message to everyone in the chat).
    await ctx.pubsub.publish(replyTopic(session.id), { messageId: emergency.id, seq: 1, delta: emergency.text, done: true, text: emergency.text } satisfies ReplyChunk);
    await publishMessage(ctx, emergency);
    return { message, replyMessageId: emergency.id };
  }
  const replyMessageId = crypto.randomUUID();
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
    const history = await ctx.prisma.chatMessage.findMany({ where: { sessionId: session.id, role: { in: ['PATIENT', 'ASSISTANT'] } }, orderBy: { createdAt: 'asc' }, take: 20 });
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
  const stored = await ctx.prisma.chatMessage.create({ data: { id: messageId, sessionId: session.id, role: 'ASSISTANT', text } });
  await ctx.pubsub.publish(topic, { messageId, seq: seq + 1, delta: '', done: true, text } satisfies ReplyChunk);
  await publishMessage(ctx, stored);
}

/** Checks the caller may follow a chat (before a stream opens). */
export async function authorizeStream(ctx: Ctx, sessionId: string): Promise<void> {
  await loadSession(ctx, sessionId);
}
