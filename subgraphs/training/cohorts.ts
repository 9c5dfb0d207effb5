import type { Cohort } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import { requireSignedIn } from '../kit/identity.js';
import type { Ctx } from './access.js';

/** Reading cohorts and what is assigned to them, as the caller may (access.ts decides which). */

export interface CohortCase {
  caseId: string;
  title: string;
  slug: string;
  versionNumber: number | null;
  dueAt: Date | null;
}

/** A cohort by id for entity lookups, batched per request: FORBIDDEN when not the caller's to see, NOT_FOUND when unknown. */
export async function loadCohort(ctx: Ctx, id: string): Promise<Cohort> {
  requireSignedIn(ctx.identity);
  return loadVisible<Cohort>(ctx, 'Cohort', id);
}

/** One cohort with the selection the client asked for (Pothos' `query`). */
export function findCohort(ctx: Ctx, id: string, query: object = {}): Promise<Cohort> {
  return ctx.db.cohort.findUniqueOrThrow({ ...query, where: { id } });
}

/** The cases assigned to a cohort (on their own or through a case set), each once, with its latest published version. */
export async function listCohortCases(ctx: Ctx, cohortId: string): Promise<CohortCase[]> {
  await loadCohort(ctx, cohortId);
  const latestPublished = { versions: { where: { status: 'PUBLISHED' as const }, orderBy: { number: 'desc' as const }, take: 1 } };
  const assignments = await ctx.db.cohortAssignment.findMany({
    where: { cohortId },
    include: {
      case: { include: latestPublished },
      caseSet: { include: { items: { orderBy: { position: 'asc' }, include: { case: { include: latestPublished } } } } },
    },
    orderBy: { createdAt: 'asc' },
  });
  const seen = new Set<string>();
  const out: CohortCase[] = [];
  for (const assignment of assignments) {
    const cases = assignment.case ? [assignment.case] : (assignment.caseSet?.items.map((item) => item.case) ?? []);
    for (const c of cases) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      out.push({ caseId: c.id, title: c.title, slug: c.slug, versionNumber: c.versions[0]?.number ?? null, dueAt: assignment.dueAt });
    }
  }
  return out;
}
