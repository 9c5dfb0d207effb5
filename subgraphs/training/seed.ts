import type { Prisma } from '../../prisma/generated/client/client.js';
import { SEED_CASES } from '../../prisma/seed-cases.js';
import { CASE_SET_ID, caseIdFor, COHORTS, ORGS, PARTNERS, seedId, USERS } from '../../prisma/seed-data.js';
import type { SubgraphDeps } from '../kit/context.js';
import { validateCaseContent } from './domain/case-content.js';
import { registerCohort, registerPartner } from './partners.js';

/** Training's part of the synthetic demo data: partners, cases, the case set, cohorts, assignments and the demo learner. Idempotent. */
export async function seedTraining({ prisma }: SubgraphDeps): Promise<void> {
  // Through the training service, which announces partners and cohorts to the other domains.
  for (const partner of Object.values(PARTNERS)) await registerPartner(prisma, partner);
  for (const [position, seedCase] of SEED_CASES.entries()) {
    const problems = validateCaseContent(seedCase.content);
    if (problems.length > 0) throw new Error(`seed case ${seedCase.slug} is invalid: ${JSON.stringify(problems)}`);
    const caseId = caseIdFor(seedCase.slug);
    const content = seedCase.content as unknown as Prisma.InputJsonValue;
    await prisma.case.upsert({ where: { id: caseId }, create: { id: caseId, organizationId: ORGS.clinicNorth.id, slug: seedCase.slug, title: seedCase.title }, update: { title: seedCase.title } });
    // Version 1 is published once and never rewritten: a changed seed case would be a new version.
    await prisma.caseVersion.upsert({
      where: { caseId_number: { caseId, number: 1 } },
      create: { id: seedId(`caseversion:${seedCase.slug}:1`), caseId, number: 1, status: 'PUBLISHED', publishedAt: new Date('2026-01-01T00:00:00Z'), content },
      update: {},
    });
    await prisma.caseSet.upsert({ where: { id: CASE_SET_ID }, create: { id: CASE_SET_ID, organizationId: ORGS.clinicNorth.id, title: 'Emergency presentations' }, update: {} });
    await prisma.caseSetItem.upsert({ where: { caseSetId_caseId: { caseSetId: CASE_SET_ID, caseId } }, create: { caseSetId: CASE_SET_ID, caseId, position }, update: { position } });
  }
  for (const cohort of Object.values(COHORTS)) await registerCohort(prisma, cohort);
  const assignments = [
    { id: seedId('assignment:northwind-a:emergency'), cohortId: COHORTS.northwindA.id, caseSetId: CASE_SET_ID, caseId: null },
    { id: seedId('assignment:southbank:acs'), cohortId: COHORTS.southbank.id, caseSetId: null, caseId: caseIdFor('chest-pain-acs') },
  ];
  for (const assignment of assignments) {
    await prisma.cohortAssignment.upsert({ where: { id: assignment.id }, create: assignment, update: {} });
  }
  // The seeded LEARNER user exists as a learner (of Northwind, in no cohort), so the gateway,
  // which refuses tokens of learners that no longer exist, accepts `npm run token -- --role learner`.
  await prisma.learner.upsert({
    where: { id: USERS.learner.id },
    create: { id: USERS.learner.id, partnerId: PARTNERS.northwind.id, externalSubject: `caregraph-demo:${USERS.learner.id}`, displayName: USERS.learner.displayName },
    update: {},
  });
}
