import type { SubgraphDeps } from '../kit/context.js';
import { badUserInput, forbidden } from '../kit/errors.js';
import { requireSignedIn, Role } from '../kit/identity.js';
import { doublingDelayMs } from '../kit/poller.js';
import type { SubgraphWorker } from '../kit/subgraph.js';
import { PartnerPlatform, PartnerUnavailable, type PartnerConfig } from './adapters/partners.js';
import { settingsOf, type Ctx } from './service.js';
import { TELE_STAFF } from './policies.js';

/**
 * One schedule across platforms. A clinic may also take bookings on partner platforms
 * (WellaHealth, Reliance Telemedicine, Mobihealth, Doctoora). Their appointments for our
 * clinicians are mirrored in (so booking here never takes a slot they sold), and ours are pushed
 * out (so they never sell one of ours). Durable: the pull keeps each partner's cursor, the push
 * what each partner last received, and a partner that is down is retried with a doubling delay.
 */
const OURS = 'caregraph-';
const RETRY_BASE_MS = 5_000;

const platformsOf = (deps: Pick<SubgraphDeps, 'telemedicine'>): PartnerPlatform[] => (settingsOf(deps).partners ?? []).map((config: PartnerConfig) => new PartnerPlatform(config));
const configOf = (deps: Pick<SubgraphDeps, 'telemedicine'>, code: string): PartnerConfig | undefined => (settingsOf(deps).partners ?? []).find((p) => p.code === code);

/** Mirrors what changed on the partner's side (our own appointments echoed back are skipped). */
async function pull(deps: SubgraphDeps, platform: PartnerPlatform): Promise<number> {
  const config = configOf(deps, platform.code) as PartnerConfig;
  const cursor = (await deps.prisma.partnerCursor.findUnique({ where: { partner: platform.code } }))?.cursor ?? null;
  const changes = await platform.changes(cursor);
  let mirrored = 0;
  await deps.prisma.$transaction(async (tx) => {
    for (const appointment of changes.appointments) {
      if (appointment.id.startsWith(OURS)) continue;
      const clinicianId = platform.clinicianOf(appointment.practitionerId);
      if (!clinicianId) continue;
      const data = { organizationId: config.organizationId, clinicianId, startsAt: new Date(appointment.start), endsAt: new Date(appointment.end), status: appointment.status, syncedAt: new Date() };
      await tx.partnerAppointment.upsert({ where: { partner_externalId: { partner: platform.code, externalId: appointment.id } }, create: { partner: platform.code, externalId: appointment.id, direction: 'IN', ...data }, update: data });
      mirrored += 1;
    }
    if (changes.cursor !== null) await tx.partnerCursor.upsert({ where: { partner: platform.code }, create: { partner: platform.code, cursor: changes.cursor }, update: { cursor: changes.cursor } });
  });
  if (changes.unreadable > 0) deps.log.warn({ partner: platform.code, unreadable: changes.unreadable }, 'partner appointments that do not read were left out');
  return mirrored;
}

/** Pushes our consultations of the partner's organization that changed since it last heard (mapped clinicians only). */
async function push(deps: SubgraphDeps, platform: PartnerPlatform): Promise<number> {
  const config = configOf(deps, platform.code) as PartnerConfig;
  const clinicians = Object.values(config.clinicians);
  const consultations = await deps.prisma.consultation.findMany({ where: { organizationId: config.organizationId, clinicianId: { in: clinicians }, endsAt: { gt: new Date(Date.now() - 86_400_000) } }, take: 200 });
  const sent = await deps.prisma.partnerAppointment.findMany({ where: { partner: platform.code, direction: 'OUT', consultationId: { in: consultations.map((c) => c.id) } } });
  const byConsultation = new Map(sent.map((row) => [row.consultationId, row]));
  let pushed = 0;
  for (const consultation of consultations) {
    const previous = byConsultation.get(consultation.id);
    if (previous?.pushedVersion && previous.pushedVersion >= consultation.updatedAt) continue;
    if (previous?.nextAttemptAt && previous.nextAttemptAt > new Date()) continue;
    const practitionerId = platform.practitionerOf(consultation.clinicianId) as string;
    const status = consultation.status === 'CANCELLED' ? 'CANCELLED' : 'BOOKED';
    const externalId = `${OURS}${consultation.id}`;
    const row = { organizationId: consultation.organizationId, clinicianId: consultation.clinicianId, consultationId: consultation.id, startsAt: consultation.startsAt, endsAt: consultation.endsAt, status };
    try {
      await platform.put({ id: externalId, practitionerId, start: consultation.startsAt.toISOString(), end: consultation.endsAt.toISOString(), status });
      await deps.prisma.partnerAppointment.upsert({
        where: { partner_externalId: { partner: platform.code, externalId } },
        create: { partner: platform.code, externalId, direction: 'OUT', ...row, pushedVersion: consultation.updatedAt },
        update: { ...row, pushedVersion: consultation.updatedAt, attempts: 0, nextAttemptAt: null, lastError: null, syncedAt: new Date() },
      });
      pushed += 1;
    } catch (error) {
      if (!(error instanceof PartnerUnavailable)) throw error;
      const attempts = (previous?.attempts ?? 0) + 1;
      const retry = { attempts, lastError: error.message.slice(0, 200), nextAttemptAt: new Date(Date.now() + doublingDelayMs(RETRY_BASE_MS, attempts, RETRY_BASE_MS * 2 ** 10)) };
      await deps.prisma.partnerAppointment.upsert({ where: { partner_externalId: { partner: platform.code, externalId } }, create: { partner: platform.code, externalId, direction: 'OUT', ...row, ...retry }, update: retry });
    }
  }
  return pushed;
}

export const partnerSync: SubgraphWorker = {
  name: 'partner-sync',
  intervalMs: 2_000,
  async step(deps) {
    let done = 0;
    for (const platform of platformsOf(deps)) {
      try {
        done += await pull(deps, platform);
      } catch (error) {
        if (!(error instanceof PartnerUnavailable)) throw error;
        deps.log.warn({ partner: platform.code, problem: error.message }, 'partner appointments could not be read; will retry');
      }
      done += await push(deps, platform);
    }
    return done;
  },
};

export interface AgendaItem {
  startsAt: Date;
  endsAt: Date;
  /** CAREGRAPH, or the partner platform that booked it. */
  source: string;
  consultationId: string | null;
}

/** A clinician's one schedule: our consultations and partners' bookings, in time order (staff of the organization; a clinician their own). */
export async function agendaOf(ctx: Ctx, clinicianId: string, from: Date, to: Date): Promise<AgendaItem[]> {
  const caller = requireSignedIn(ctx.identity);
  if (!(TELE_STAFF as readonly string[]).includes(caller.role) || (caller.role === Role.CLINICIAN && caller.subject !== clinicianId)) throw forbidden('Staff see clinicians’ schedules; a clinician their own');
  if (to <= from || to.getTime() - from.getTime() > 31 * 86_400_000) throw badUserInput('to', 'the period must be positive and at most 31 days');
  const ours = await ctx.db.consultation.findMany({ where: { clinicianId, status: { notIn: ['CANCELLED'] }, startsAt: { lt: to }, endsAt: { gt: from } } });
  const theirs = await ctx.db.partnerAppointment.findMany({ where: { clinicianId, direction: 'IN', status: 'BOOKED', startsAt: { lt: to }, endsAt: { gt: from } } });
  return [
    ...ours.map((c) => ({ startsAt: c.startsAt, endsAt: c.endsAt, source: 'CAREGRAPH', consultationId: c.id })),
    ...theirs.map((p) => ({ startsAt: p.startsAt, endsAt: p.endsAt, source: p.partner, consultationId: null })),
  ].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
}
