import { ORGS, PATIENTS, USERS, type SeedUser } from '../../prisma/seed-data.js';
import type { SubgraphDeps } from '../kit/context.js';
import { registerPatient } from './patients.js';

/** Identity's part of the synthetic demo data: organizations, patients, users and their roles. Idempotent. */
export async function seedIdentity({ prisma, identifierKey }: SubgraphDeps): Promise<void> {
  const orgs = [ORGS.chain, ORGS.hospital, ORGS.clinicNorth, ORGS.clinicSouth]; // parents first
  for (const org of orgs) {
    await prisma.organization.upsert({ where: { id: org.id }, create: { ...org }, update: { name: org.name, kind: org.kind, parentId: org.parentId } });
  }
  // Announced once each (identity.patient.registered), so other domains' directories know them.
  for (const p of Object.values(PATIENTS)) await registerPatient(prisma, { ...p, birthDate: new Date(`${p.birthDate}T00:00:00Z`) }, identifierKey);
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
}
