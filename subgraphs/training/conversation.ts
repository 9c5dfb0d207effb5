import { runInBackground } from '../kit/context.js';
import { badUserInput } from '../kit/errors.js';
import { OpenAICompatibleResponder, streamWords, type Responder } from '../kit/responder.js';
import { openTopic } from '../kit/subscriptions.js';
import type { Ctx } from './access.js';
import type { CaseContent } from './domain/case-content.js';
import { answerAsPatient } from './domain/responder.js';
import { loadSession, ownActiveSession } from './sessions.js';

/**
 * The conversation with the simulated patient: the learner's messages are stored as turns and
 * the patient's reply streams chunk by chunk through `patientReply` (the embedded patient
 * answers from the case only, or an OpenAI-compatible model), then is stored as a turn too.
 */

export interface ReplyChunk {
  turnId: string;
  seq: number;
  delta: string;
  done: boolean;
  /** The reply so far (the whole reply when done). */
  text: string;
}

export const replyTopic = (sessionId: string): string => `training.reply.${sessionId}`;
const MAX_MESSAGE_LENGTH = 2_000;

function systemPrompt(content: CaseContent): string {
  const p = content.persona;
  return [
    `You are ${p.name}, a ${p.age}-year-old ${p.sex} patient, talking to a medical learner. Stay in character.`,
    `Your problem: ${p.presentingComplaint}. Answer only from these facts, revealing one only when asked about it; say you do not know otherwise.`,
    ...content.history.map((fact) => `- ${fact.answer}`),
    `Allergies: ${p.allergies.join(', ') || 'none'}. Medicines: ${p.medications.join(', ') || 'none'}.`,
    'Never give the diagnosis or suggest tests.',
  ].join('\n');
}

function responderFor(ctx: Ctx, content: CaseContent, question: string): Responder {
  if (ctx.llm) return new OpenAICompatibleResponder(ctx.llm);
  return { name: 'embedded', stream: () => streamWords(answerAsPatient(content, question).text, 5) };
}

interface Reply {
  sessionId: string;
  replyTurnId: string;
  seq: number;
  responder: Responder;
  system: string;
  history: Array<{ role: 'user' | 'assistant'; content: string }>;
  message: string;
}

/**
 * Stores the learner's turn and starts the patient's reply, which streams through
 * `patientReply` and is stored as a turn when done. What the question revealed (for scoring)
 * is decided from the question and the case, not from the model's wording, so scores do not
 * depend on which responder answered.
 */
export async function sendLearnerMessage(ctx: Ctx, sessionId: string, text: string): Promise<{ learnerTurnId: string; replyTurnId: string }> {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_MESSAGE_LENGTH) throw badUserInput('text', `must be 1-${MAX_MESSAGE_LENGTH} characters`);
  const session = await ownActiveSession(ctx, sessionId);
  const answer = answerAsPatient(session.content, trimmed);
  const history = await ctx.db.sessionTurn.findMany({ where: { sessionId }, orderBy: { seq: 'asc' } });
  const nextSeq = (history.at(-1)?.seq ?? 0) + 1;
  const learnerTurn = await ctx.db.sessionTurn.create({ data: { sessionId, seq: nextSeq, role: 'LEARNER', text: trimmed, revealedFactIds: answer.revealedFactIds, examinedFindingIds: answer.examinedFindingIds } });
  const reply: Reply = {
    sessionId,
    replyTurnId: crypto.randomUUID(),
    seq: nextSeq + 1,
    responder: responderFor(ctx, session.content, trimmed),
    system: systemPrompt(session.content),
    history: history.map((t) => ({ role: t.role === 'LEARNER' ? 'user' as const : 'assistant' as const, content: t.text })),
    message: trimmed,
  };
  runInBackground(ctx, 'training.patient-reply', () => streamReply(ctx, reply));
  return { learnerTurnId: learnerTurn.id, replyTurnId: reply.replyTurnId };
}

/** Streams the reply to the session's subscribers, then stores it (as the learner: the request's scope outlives its response). */
async function streamReply(ctx: Ctx, reply: Reply): Promise<void> {
  const topic = replyTopic(reply.sessionId);
  let text = '';
  let chunkSeq = 0;
  try {
    for await (const delta of reply.responder.stream({ system: reply.system, history: reply.history, message: reply.message })) {
      text += delta;
      chunkSeq += 1;
      await ctx.pubsub.publish(topic, { turnId: reply.replyTurnId, seq: chunkSeq, delta, done: false, text } satisfies ReplyChunk);
    }
  } catch (error) {
    ctx.log.warn({ err: error, sessionId: reply.sessionId, responder: reply.responder.name }, 'patient reply failed');
    text = text || "Sorry, I'm finding it hard to talk right now. Could you ask me again?";
  }
  await ctx.db.sessionTurn.create({ data: { id: reply.replyTurnId, sessionId: reply.sessionId, seq: reply.seq, role: 'PATIENT', text, revealedFactIds: [], examinedFindingIds: [] } });
  await ctx.pubsub.publish(topic, { turnId: reply.replyTurnId, seq: chunkSeq + 1, delta: '', done: true, text } satisfies ReplyChunk);
}

/** Checks the caller may follow a session's replies (before the stream opens). */
/** The simulated patient's reply chunks in a session the caller may see. */
export async function replyStream(ctx: Ctx, sessionId: string): Promise<AsyncIterableIterator<ReplyChunk>> {
  await loadSession(ctx, sessionId);
  return openTopic<ReplyChunk>(ctx.pubsub, replyTopic(sessionId));
}
