import type { CaseSession } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import { badUserInput, conflict } from '../kit/errors.js';
import { requireRole, requireSignedIn, Role } from '../kit/identity.js';
import type { Ctx } from './access.js';
import { loadCohort } from './cohorts.js';
import type { CaseContent } from './domain/case-content.js';

/** Reading case sessions as the caller may (access.ts decides which: own, the partner's, the organization's). */

/** A session by id for entity lookups and streams, batched per request: FORBIDDEN when not the caller's to see, NOT_FOUND when unknown. */
export async function loadSession(ctx: Ctx, id: string): Promise<CaseSession> {
  requireSignedIn(ctx.identity);
  return loadVisible<CaseSession>(ctx, 'CaseSession', id);
}

/** One session with the selection the client asked for (Pothos' `query`); mutations read their result back with it. */
export function findSession(ctx: Ctx, id: string, query: object = {}): Promise<CaseSession> {
  return ctx.db.caseSession.findUniqueOrThrow({ ...query, where: { id } });
}

/** A learner's own sessions, or a cohort's for its partner and staff. `query` is Pothos' selection, so a list loads in one query. */
export async function listSessions(ctx: Ctx, filter: { cohortId?: string | null }, query: object = {}): Promise<CaseSession[]> {
  const identity = requireSignedIn(ctx.identity);
  const orderBy = { startedAt: 'desc' as const };
  if (identity.role === Role.LEARNER) return ctx.db.caseSession.findMany({ ...query, where: filter.cohortId ? { cohortId: filter.cohortId } : {}, orderBy });
  if (!filter.cohortId) throw badUserInput('cohortId', 'is required');
  // A cohort the caller may not see is FORBIDDEN, not an empty list.
  await loadCohort(ctx, filter.cohortId);
  return ctx.db.caseSession.findMany({ ...query, where: { cohortId: filter.cohortId }, orderBy });
}

export type ActiveSession = CaseSession & { caseVersion: { caseId: string; number: number }; content: CaseContent };

/** The caller's own active session with its case: only the learner works a case (the policies keep others' sessions out). */
export async function ownActiveSession(ctx: Ctx, id: string): Promise<ActiveSession> {
  requireRole(ctx.identity, [Role.LEARNER], 'Only the learner working this session may do that');
  const session = await ctx.db.caseSession.findUniqueOrThrow({ where: { id }, include: { caseVersion: { select: { caseId: true, number: true, content: true } } } });
  if (session.status !== 'ACTIVE') throw conflict('The session is already completed');
  return { ...session, content: session.caseVersion.content as unknown as CaseContent };
}
