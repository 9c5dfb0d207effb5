import type { EligibilityCheck, Prisma } from '../../prisma/generated/client/client.js';
import { badUserInput } from '../kit/errors.js';
import { requireStaffOf } from '../kit/identity.js';
import { PayerUnavailable, type Benefit } from './adapters/payer.js';
import { INSURANCE_STAFF } from './policies.js';
import { activeCoverage, cacheOf, ELIGIBILITY_CACHE_SECONDS, memberOf, payersOf, providerAt, settingsOf, STALE_ANSWER_SECONDS, type Ctx } from './service.js';

/**
 * "Is this patient covered for this service, and what will they pay?" asked of the payer
 * through its adapter. Every answer is stored (the audit trail, and the fallback below). An
 * answer is served again for five minutes per coverage and service type (Redis when
 * configured), never older; after that the payer is asked again. When the payer cannot be
 * asked, the latest answer of the last day is returned marked `stale`, with the error;
 * without one the error is the caller's (PAYER_UNAVAILABLE).
 */
export interface EligibilityResult {
  check: EligibilityCheck;
  /** Served from the cache: the payer was not asked this time. */
  cached: boolean;
  /** The payer could not be asked; this is the last answer it gave. */
  stale: boolean;
  error: string | null;
}

const STAFF_ONLY = 'Only billing staff and administrators check eligibility';
/** X12 service type codes: one or two letters or digits (30 plan coverage, 98 professional visit, MH mental health…). */
const SERVICE_TYPE = /^[A-Z0-9]{1,2}$/;

interface CachedAnswer {
  checkId: string;
  checkedAt: string;
}

export async function checkEligibility(ctx: Ctx, patientId: string, payerId: string, serviceType: string): Promise<EligibilityResult> {
  const caller = requireStaffOf(ctx.identity, INSURANCE_STAFF, STAFF_ONLY);
  if (!SERVICE_TYPE.test(serviceType)) throw badUserInput('serviceType', 'must be an X12 service type code, such as 30 or 98');
  await ctx.directory.require('Patient', patientId, [caller.organizationId]);
  const coverage = await activeCoverage(ctx, patientId, payerId);

  const ttlSeconds = settingsOf(ctx).eligibilityCacheSeconds ?? ELIGIBILITY_CACHE_SECONDS;
  const cache = cacheOf(ctx);
  const key = `insurance:eligibility:${coverage.id}:${serviceType}`;
  const hit = await cache.get<CachedAnswer>(key);
  if (hit && Date.now() - Date.parse(hit.checkedAt) < ttlSeconds * 1000) {
    const check = await ctx.db.eligibilityCheck.findFirst({ where: { id: hit.checkId } });
    if (check) return { check, cached: true, stale: false, error: null };
  }

  const provider = await providerAt(ctx, coverage.organizationId, coverage.payerId);
  let answer;
  try {
    answer = await payersOf(ctx).checkEligibility({
      payer: { code: coverage.payer.code, name: coverage.payer.name },
      provider,
      member: memberOf(coverage),
      serviceType,
      trace: `${coverage.id.slice(0, 8)}-${Date.now().toString(36)}`,
    });
  } catch (error) {
    if (!(error instanceof PayerUnavailable)) throw error;
    ctx.log.warn({ payer: coverage.payer.code, reason: error.reason }, 'payer unavailable for an eligibility check');
    const recent = await ctx.db.eligibilityCheck.findFirst({
      where: { coverageId: coverage.id, serviceType, checkedAt: { gte: new Date(Date.now() - STALE_ANSWER_SECONDS * 1000) } },
      orderBy: { checkedAt: 'desc' },
    });
    if (recent) return { check: recent, cached: false, stale: true, error: error.message };
    throw error;
  }
  const check = await ctx.db.eligibilityCheck.create({
    data: {
      coverageId: coverage.id, organizationId: coverage.organizationId, patientId: coverage.patientId, serviceType, protocol: coverage.payer.protocol,
      inForce: answer.inForce, planName: answer.planName, currency: answer.currency, copay: answer.copay, coinsurancePercent: answer.coinsurancePercent,
      deductibleRemaining: answer.deductibleRemaining, benefits: answer.benefits as unknown as Prisma.InputJsonValue, rejection: answer.rejection, askedById: caller.subject,
    },
  });
  await cache.set(key, { checkId: check.id, checkedAt: check.checkedAt.toISOString() } satisfies CachedAnswer, ttlSeconds);
  return { check, cached: false, stale: false, error: null };
}

/** The benefits a check stored (written by this module from the adapter's answer). */
export function benefitsOf(check: EligibilityCheck): Benefit[] {
  return Array.isArray(check.benefits) ? (check.benefits as unknown as Benefit[]) : [];
}

/** The latest answer for a coverage, if any (what a patient's coverage shows); one query for all coverages of a request. */
export function latestCheck(ctx: Ctx, coverageId: string): Promise<EligibilityCheck | null> {
  return ctx.loaders.get<string, EligibilityCheck | null>('latestEligibility', async (ids) => {
    const rows = await ctx.db.eligibilityCheck.findMany({ where: { coverageId: { in: [...ids] } }, orderBy: [{ coverageId: 'asc' }, { checkedAt: 'desc' }], distinct: ['coverageId'] });
    return ids.map((id) => rows.find((row) => row.coverageId === id) ?? null);
  }).load(coverageId);
}
