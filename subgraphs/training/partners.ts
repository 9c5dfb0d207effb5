import type { Cohort, Partner, Prisma, PrismaClient } from '../../prisma/generated/client/client.js';
import { conflict } from '../kit/errors.js';
import { TrainingEvents } from '../kit/events/training.js';
import { recordEvent } from '../kit/outbox.js';

/**
 * The partner and cohort directory: registered by system work (seeds, onboarding), never by a
 * request, so these take the system client. Each registration is announced, so domains that
 * decide partner access from events (analytics, the kit's directory) learn it.
 */

export interface PartnerRegistration {
  id: string;
  organizationId: string;
  name: string;
  launchIssuer: string;
  launchSecret?: string | null;
  jwksUri?: string | null;
  oidcAudience?: string | null;
  principalId?: string | null;
  learnerAppUrl?: string | null;
}

export interface CohortRegistration {
  id: string;
  organizationId: string;
  partnerId: string;
  name: string;
}

/**
 * Registers a partner (or updates it) and announces who acts for it. Announced when something
 * others rely on changed, or when it never was announced (a database seeded before the event existed).
 */
export async function registerPartner(prisma: PrismaClient, partner: PartnerRegistration): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const before = await tx.partner.findUnique({ where: { id: partner.id } });
    await tx.partner.upsert({ where: { id: partner.id }, create: partner, update: partner });
    const unchanged = before?.organizationId === partner.organizationId && before.principalId === (partner.principalId ?? null);
    if (unchanged && (await announced(tx, TrainingEvents.partnerRegistered.type, partner.id))) return;
    await announcePartner(tx, { id: partner.id, organizationId: partner.organizationId, principalId: partner.principalId ?? null });
  });
}

/** `training.partner.registered`: which organization a partner is of and who acts for it. */
export async function announcePartner(tx: Prisma.TransactionClient, partner: Pick<Partner, 'id' | 'organizationId' | 'principalId'>): Promise<void> {
  await recordEvent(tx, TrainingEvents.partnerRegistered, {
    aggregateId: partner.id, organizationId: partner.organizationId, partnerId: partner.id,
    payload: { partnerId: partner.id, organizationId: partner.organizationId, principalId: partner.principalId },
  });
}

/** `training.cohort.registered`: which partner and organization a cohort is of. */
export async function announceCohort(tx: Prisma.TransactionClient, cohort: Pick<Cohort, 'id' | 'organizationId' | 'partnerId'>): Promise<void> {
  await recordEvent(tx, TrainingEvents.cohortRegistered, {
    aggregateId: cohort.id, organizationId: cohort.organizationId, partnerId: cohort.partnerId,
    payload: { cohortId: cohort.id, partnerId: cohort.partnerId, organizationId: cohort.organizationId },
  });
}

/** Registers a cohort (or renames it) and announces it once, as registerPartner does. */
export async function registerCohort(prisma: PrismaClient, cohort: CohortRegistration): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const before = await tx.cohort.findUnique({ where: { id: cohort.id } });
    if (before && (before.partnerId !== cohort.partnerId || before.organizationId !== cohort.organizationId)) {
      throw conflict('A cohort cannot move to another partner or organization');
    }
    await tx.cohort.upsert({ where: { id: cohort.id }, create: cohort, update: { name: cohort.name } });
    if (await announced(tx, TrainingEvents.cohortRegistered.type, cohort.id)) return;
    await announceCohort(tx, cohort);
  });
}

async function announced(tx: Prisma.TransactionClient, type: string, aggregateId: string): Promise<boolean> {
  return (await tx.outboxEvent.findFirst({ where: { type, aggregateId }, select: { id: true } })) !== null;
}
