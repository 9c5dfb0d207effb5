import type { PrismaClient } from './generated/client/client.js';
import type { Prisma } from './generated/client/client.js';
import { validateCaseContent } from '../subgraphs/training/domain/case-content.js';
import { registerCohort, registerPartner } from '../subgraphs/training/service.js';
import { SEED_CASES } from './seed-cases.js';
import { CASE_SET_ID, caseIdFor, COHORTS, ORGS, PARTNERS, PATIENTS, seedId, USERS, type SeedUser } from './seed-data.js';

/** Loads the synthetic demo data. Idempotent: running it twice changes nothing. */
export async function seed(prisma: PrismaClient): Promise<void> {
  const orgs = [ORGS.chain, ORGS.hospital, ORGS.clinicNorth, ORGS.clinicSouth]; // parents first
  for (const org of orgs) {
    await prisma.organization.upsert({ where: { id: org.id }, create: { ...org }, update: { name: org.name, kind: org.kind, parentId: org.parentId } });
  }
  for (const p of Object.values(PATIENTS)) {
    const data = { ...p, birthDate: new Date(`${p.birthDate}T00:00:00Z`) };
    await prisma.patient.upsert({ where: { id: p.id }, create: data, update: data });
  }
  for (const u of Object.values(USERS) as SeedUser[]) {
    await prisma.user.upsert({
      where: { id: u.id },
      create: { id: u.id, email: u.email, displayName: u.displayName, patientId: u.patientId ?? null },
      update: { email: u.email, displayName: u.displayName, patientId: u.patientId ?? null },
    });
    await prisma.membership.upsert({
      where: { userId_organizationId_role: { userId: u.id, organizationId: u.organizationId, role: u.role } },
      create: { userId: u.id, organizationId: u.organizationId, role: u.role },
      update: {},
    });
    if (u.practitioner) {
      const data = { organizationId: u.organizationId, name: u.displayName, qualification: u.practitioner.qualification, specialty: u.practitioner.specialty ?? null };
      await prisma.practitioner.upsert({ where: { userId: u.id }, create: { ...data, userId: u.id }, update: data });
    }
  }
  await seedTraining(prisma);
}

async function seedTraining(prisma: PrismaClient): Promise<void> {
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
}
