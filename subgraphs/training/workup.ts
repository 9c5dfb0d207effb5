import type { CaseSession, Prisma, PrismaClient } from '../../prisma/generated/client/client.js';
import { badUserInput, conflict } from '../kit/errors.js';
import type { EventPayload } from '../kit/events/define.js';
import { TrainingEvents } from '../kit/events/training.js';
import { recordEvent } from '../kit/outbox.js';
import type { Ctx } from './access.js';
import type { CaseContent } from './domain/case-content.js';
import { scoreSession, type ScoreCard, type SessionRecord } from './domain/scoring.js';
import { findSession, ownActiveSession } from './sessions.js';

/**
 * The work-up after the conversation: investigations, diagnosis, management plan, then
 * completion, which scores the session deterministically from the rubric and the session's
 * record and queues its summary for the partner.
 */

export async function orderInvestigation(ctx: Ctx, sessionId: string, code: string): Promise<{ code: string; name: string; result: string }> {
  const session = await ownActiveSession(ctx, sessionId);
  const investigation = session.content.investigations.find((i) => i.code === code.trim().toUpperCase());
  if (!investigation) throw badUserInput('code', `unknown investigation; available: ${session.content.investigations.map((i) => i.code).join(', ')}`);
  // Ordering twice is ordering once.
  await ctx.db.investigationOrder.createMany({ data: [{ sessionId, code: investigation.code }], skipDuplicates: true });
  return { code: investigation.code, name: investigation.name, result: investigation.result };
}

/** Records the diagnosis; returns the session with `query`'s selection. */
export async function submitDiagnosis(ctx: Ctx, sessionId: string, diagnosis: string, query: object = {}): Promise<CaseSession> {
  const trimmed = diagnosis.trim();
  if (trimmed.length === 0 || trimmed.length > 500) throw badUserInput('diagnosis', 'must be 1-500 characters');
  await ownActiveSession(ctx, sessionId);
  return ctx.db.caseSession.update({ ...query, where: { id: sessionId }, data: { diagnosis: trimmed } });
}

/** Records the management plan; returns the session with `query`'s selection. */
export async function submitManagement(ctx: Ctx, sessionId: string, plan: string, query: object = {}): Promise<CaseSession> {
  const trimmed = plan.trim();
  if (trimmed.length === 0 || trimmed.length > 5_000) throw badUserInput('plan', 'must be 1-5000 characters');
  await ownActiveSession(ctx, sessionId);
  return ctx.db.caseSession.update({ ...query, where: { id: sessionId }, data: { managementPlan: trimmed } });
}

/** The session's record as scoring sees it. */
async function sessionRecord(db: Prisma.TransactionClient | PrismaClient, session: CaseSession): Promise<SessionRecord> {
  const [turns, orders] = await Promise.all([
    db.sessionTurn.findMany({ where: { sessionId: session.id, role: 'LEARNER' }, orderBy: { seq: 'asc' } }),
    db.investigationOrder.findMany({ where: { sessionId: session.id }, orderBy: { orderedAt: 'asc' } }),
  ]);
  return {
    learnerTurns: turns.map((t) => t.text),
    revealedFactIds: [...new Set(turns.flatMap((t) => t.revealedFactIds))],
    examinedFindingIds: [...new Set(turns.flatMap((t) => t.examinedFindingIds))],
    orderedCodes: orders.map((o) => o.code),
    diagnosis: session.diagnosis,
    managementPlan: session.managementPlan,
  };
}

/** What the partner receives when a session completes (the `training.session.completed` payload). */
export interface SessionSummary {
  sessionId: string;
  caseId: string;
  caseVersion: number;
  cohortId: string;
  learnerId: string;
  status: 'ACTIVE' | 'COMPLETED';
  startedAt: Date;
  endedAt: Date | null;
  durationSeconds: number | null;
  score: ScoreCard | null;
}

export function summarize(session: CaseSession, version: { caseId: string; number: number }): SessionSummary {
  return {
    sessionId: session.id,
    caseId: version.caseId,
    caseVersion: version.number,
    cohortId: session.cohortId,
    learnerId: session.learnerId,
    status: session.status,
    startedAt: session.startedAt,
    endedAt: session.endedAt,
    durationSeconds: session.endedAt ? Math.round((session.endedAt.getTime() - session.startedAt.getTime()) / 1000) : null,
    score: (session.score as unknown as ScoreCard | null) ?? null,
  };
}

/** Scores the session, completes it, and queues its summary for the partner, in one transaction. Returns it with `query`'s selection. */
export async function completeSession(ctx: Ctx, sessionId: string, query: object = {}): Promise<CaseSession> {
  const session = await ownActiveSession(ctx, sessionId);
  await ctx.db.$transaction(async (tx) => {
    const card = scoreSession(session.content, await sessionRecord(tx, session));
    // Only an active session completes: a concurrent completion wins once.
    const { count } = await tx.caseSession.updateMany({
      where: { id: sessionId, status: 'ACTIVE' },
      data: { status: 'COMPLETED', endedAt: new Date(), score: card as unknown as Prisma.InputJsonValue, totalScore: card.total },
    });
    if (count === 0) throw conflict('The session is already completed');
    const completed = await tx.caseSession.findUniqueOrThrow({ where: { id: sessionId } });
    await recordEvent(tx, TrainingEvents.sessionCompleted, {
      aggregateId: sessionId, organizationId: completed.organizationId, partnerId: completed.partnerId,
      payload: JSON.parse(JSON.stringify(summarize(completed, session.caseVersion))) as EventPayload<typeof TrainingEvents.sessionCompleted>,
    });
  });
  return findSession(ctx, sessionId, query);
}

/** Scores a session again from its stored record: the same result every time. */
export async function rescoreSession(ctx: Ctx, sessionId: string): Promise<ScoreCard> {
  const session = await ctx.db.caseSession.findUniqueOrThrow({ where: { id: sessionId }, include: { caseVersion: { select: { content: true } } } });
  return scoreSession(session.caseVersion.content as unknown as CaseContent, await sessionRecord(ctx.db, session));
}
