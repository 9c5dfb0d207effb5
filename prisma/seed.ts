import type { PrismaClient } from './generated/client/client.js';
import { ORGS, PATIENTS, USERS, type SeedUser } from './seed-data.js';

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
}
