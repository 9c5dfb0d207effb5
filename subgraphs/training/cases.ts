import { Prisma, type CaseVersion } from '../../prisma/generated/client/client.js';
import { conflictOnUniqueViolation } from '../kit/access.js';
import { badUserInput, conflict, forbidden, InputProblems } from '../kit/errors.js';
import { requireRole, requireStaffOf, Role } from '../kit/identity.js';
import { TRAINING_STAFF, type Ctx } from './access.js';
import { parseCaseContent, type CaseContent } from './domain/case-content.js';
import { cohortArchived } from './enrolment.js';

/**
 * Authoring: an organization's staff write cases as versions (a published version never
 * changes; a change is a new draft) and assign cases or case sets to cohorts, as the cohort's
 * partner may too. Whose case, version or cohort is which is the policies' (access.ts): a
 * record outside the caller's scope is FORBIDDEN, an unknown one NOT_FOUND.
 */

/** The caller's organization's cases; `query` is Pothos' selection (versions in the same query). */
export function listCases(ctx: Ctx, query: object = {}) {
  requireStaffOf(ctx.identity, TRAINING_STAFF, 'Only organization staff list cases');
  return ctx.db.case.findMany({ ...query, orderBy: { slug: 'asc' } });
}

/** Parses untrusted case content, reporting every problem under `prefix` as BAD_USER_INPUT. */
function checkedContent(problems: InputProblems, prefix: string, raw: unknown): CaseContent {
  const parsed = parseCaseContent(raw);
  if ('problems' in parsed) for (const problem of parsed.problems) problems.add(problem.path ? `${prefix}.${problem.path}` : prefix, problem.message);
  problems.throwIfAny();
  return (parsed as { content: CaseContent }).content;
}

const asJson = (content: CaseContent): Prisma.InputJsonValue => content as unknown as Prisma.InputJsonValue;

/** Creates a case with its first draft version; refused when the content is incomplete or not synthetic. Returns the version with `query`'s selection. */
export async function createCase(ctx: Ctx, input: { slug: string; title: string; content: unknown }, query: object = {}): Promise<CaseVersion> {
  const { organizationId } = requireStaffOf(ctx.identity, TRAINING_STAFF, 'Only organization staff author cases');
  const problems = new InputProblems();
  problems.check(/^[a-z0-9-]{3,64}$/.test(input.slug), 'input.slug', 'must be 3-64 lower-case letters, digits or dashes');
  problems.check(input.title.trim().length > 0 && input.title.length <= 200, 'input.title', 'must be 1-200 characters');
  const content = checkedContent(problems, 'input.content', input.content);
  const created = await ctx.db.case
    .create({
      data: { organizationId, slug: input.slug, title: input.title.trim(), versions: { create: { number: 1, content: asJson(content) } } },
      select: { versions: { select: { id: true } } },
    })
    .catch((error: unknown) => conflictOnUniqueViolation(error, 'A case with this slug already exists'));
  const versionId = created.versions[0]?.id as string;
  return ctx.db.caseVersion.findUniqueOrThrow({ ...query, where: { id: versionId } });
}

/** A new draft version from new content (or the draft edited): published versions never change. */
export async function reviseCase(ctx: Ctx, caseId: string, rawContent: unknown, query: object = {}): Promise<CaseVersion> {
  requireStaffOf(ctx.identity, TRAINING_STAFF, 'Only the organization’s staff revise its cases');
  const existing = await ctx.db.case.findUniqueOrThrow({ where: { id: caseId }, include: { versions: { orderBy: { number: 'desc' }, take: 1 } } });
  const content = checkedContent(new InputProblems(), 'content', rawContent);
  const latest = existing.versions[0];
  if (latest && latest.status === 'DRAFT') return ctx.db.caseVersion.update({ ...query, where: { id: latest.id }, data: { content: asJson(content) } });
  const created = await ctx.db.caseVersion.create({ data: { caseId, number: (latest?.number ?? 0) + 1, content: asJson(content) }, select: { id: true } });
  return ctx.db.caseVersion.findUniqueOrThrow({ ...query, where: { id: created.id } });
}

export async function publishCaseVersion(ctx: Ctx, versionId: string, query: object = {}): Promise<CaseVersion> {
  requireStaffOf(ctx.identity, TRAINING_STAFF, 'Only the organization’s staff publish its cases');
  const version = await ctx.db.caseVersion.findUniqueOrThrow({ where: { id: versionId } });
  if (version.status === 'PUBLISHED') throw conflict('This version is already published and cannot change');
  return ctx.db.caseVersion.update({ ...query, where: { id: versionId }, data: { status: 'PUBLISHED', publishedAt: new Date() } });
}

/** Assigns one case or one case set of the cohort's organization to a cohort the caller manages. */
export async function assignToCohort(ctx: Ctx, input: { cohortId: string; caseId?: string | null; caseSetId?: string | null; dueAt?: Date | null }): Promise<{ id: string }> {
  requireRole(ctx.identity, [...TRAINING_STAFF, Role.PARTNER], 'Only staff or the cohort’s partner assign cases');
  const cohort = await ctx.db.cohort.findUniqueOrThrow({ where: { id: input.cohortId } });
  if (cohort.archivedAt) throw cohortArchived();
  if (Boolean(input.caseId) === Boolean(input.caseSetId)) throw badUserInput('input', 'give exactly one of caseId and caseSetId');
  if (input.dueAt && input.dueAt.getTime() < Date.now()) throw badUserInput('input.dueAt', 'is in the past');
  // What is assigned must be one the caller may read, and of the cohort's own organization.
  const assigned = input.caseId
    ? await ctx.db.case.findUniqueOrThrow({ where: { id: input.caseId }, select: { organizationId: true } })
    : await ctx.db.caseSet.findUniqueOrThrow({ where: { id: input.caseSetId as string }, select: { organizationId: true } });
  if (assigned.organizationId !== cohort.organizationId) throw forbidden('Only cases of the cohort’s organization may be assigned to it');
  return ctx.db.cohortAssignment.create({ data: { cohortId: cohort.id, caseId: input.caseId ?? null, caseSetId: input.caseSetId ?? null, dueAt: input.dueAt ?? null }, select: { id: true } });
}
