import type { Coverage, Prisma } from '../../prisma/generated/client/client.js';
import { MemoryCache, type TtlCache } from '../kit/cache.js';
import type { InsuranceSettings } from '../kit/config.js';
import type { SubgraphContext } from '../kit/context.js';
import { notFound } from '../kit/errors.js';
import { adapterFor } from './adapters/index.js';
import { DEFAULT_RESILIENCE, PayerConnections, type Member } from './adapters/payer.js';

/**
 * Insurance's services share this. By concern: coverages.ts (a patient's cover), eligibility.ts
 * (asking payers, cached), adapters/ (one interface over FHIR, X12 and the HMOs' JSON APIs),
 * x12/ and fhir/ (the wire formats, written once). Who may see and change what is policies.ts,
 * applied by `ctx.db`.
 */
export type Ctx = Pick<SubgraphContext, 'db' | 'prisma' | 'identity' | 'loaders' | 'log' | 'directory' | 'cache' | 'insurance'>;

/** Answers are kept this long unless configured otherwise. */
export const ELIGIBILITY_CACHE_SECONDS = 300;
/** When a payer is down, an answer this recent is given instead, marked stale. */
export const STALE_ANSWER_SECONDS = 24 * 3600;

/** INSURANCE_PAYERS: the same shape as InsuranceSettings.payers, as JSON. */
export function insuranceSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): InsuranceSettings {
  const text = env['INSURANCE_PAYERS'];
  const dropDir = env['INSURANCE_REMITTANCE_DIR'] ? { remittanceDropDir: env['INSURANCE_REMITTANCE_DIR'] } : {};
  if (!text) return { payers: {}, ...dropDir };
  let payers: unknown;
  try {
    payers = JSON.parse(text);
  } catch {
    throw new Error('INSURANCE_PAYERS must be JSON: { "CODE": { "protocol": "FHIR" | "X12" | "REST", "baseUrl": … } }');
  }
  if (typeof payers !== 'object' || payers === null || Array.isArray(payers)) throw new Error('INSURANCE_PAYERS must be an object keyed by payer code');
  return { payers: payers as InsuranceSettings['payers'], ...dropDir };
}

/** One set of payer connections per configuration, for the life of the process: circuit breakers must remember. */
const connections = new WeakMap<InsuranceSettings, PayerConnections>();
let fromEnvironment: { settings: InsuranceSettings; connections: PayerConnections } | undefined;

export function settingsOf(ctx: Pick<Ctx, 'insurance'>): InsuranceSettings {
  if (ctx.insurance) return ctx.insurance;
  fromEnvironment ??= (() => {
    const settings = insuranceSettingsFromEnv();
    return { settings, connections: connectionsFor(settings) };
  })();
  return fromEnvironment.settings;
}

export function payersOf(ctx: Pick<Ctx, 'insurance'>): PayerConnections {
  const settings = settingsOf(ctx);
  let found = connections.get(settings);
  if (!found) {
    found = connectionsFor(settings);
    connections.set(settings, found);
  }
  return found;
}

function connectionsFor(settings: InsuranceSettings): PayerConnections {
  return new PayerConnections(settings.payers, adapterFor, { ...DEFAULT_RESILIENCE, ...settings.resilience });
}

/** ICD-10 diagnosis codes (with or without the dot) and 5-character CPT/HCPCS procedure codes, as claims and authorizations take them. */
export const ICD10 = /^[A-TV-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$/;
export const PROCEDURE = /^[A-Z0-9]{5}$/;

export type CoverageWithPayer = Prisma.CoverageGetPayload<{ include: { payer: true } }>;

/** The patient's coverage in force with the payer (the latest, if several): NOT_FOUND when there is none the caller may see. */
export async function activeCoverage(ctx: Pick<Ctx, 'db'>, patientId: string, payerId: string): Promise<CoverageWithPayer> {
  const coverage = await ctx.db.coverage.findFirst({ where: { patientId, payerId, status: 'ACTIVE' }, include: { payer: true }, orderBy: { periodStart: 'desc' } });
  if (!coverage) throw notFound('Coverage');
  return coverage;
}

/** A coverage (any status) with its payer, as the caller may see it: what a claim was drafted against. */
export async function coverageOf(ctx: Pick<Ctx, 'db'>, coverageId: string): Promise<CoverageWithPayer> {
  const coverage = await ctx.db.coverage.findFirst({ where: { id: coverageId }, include: { payer: true } });
  if (!coverage) throw notFound('Coverage');
  return coverage;
}

/** The member as the payer knows them: the subscriber on the card. */
export function memberOf(coverage: Coverage): Member {
  return {
    memberId: coverage.memberId, lastName: coverage.subscriberLastName, firstName: coverage.subscriberFirstName,
    birthDate: coverage.subscriberBirthDate?.toISOString().slice(0, 10) ?? null,
  };
}

/** The organization as the payer knows it (its enrollment), or a placeholder when it has none on record. */
export async function providerAt(ctx: Pick<Ctx, 'db'>, organizationId: string, payerId: string): Promise<{ name: string; npi: string }> {
  const enrollment = await ctx.db.payerEnrollment.findUnique({ where: { organizationId_payerId: { organizationId, payerId } } });
  return { name: enrollment?.providerName ?? 'CareGraph provider', npi: enrollment?.providerNumber ?? '0000000000' };
}

/** Short-lived shared answers: the process's cache (Redis when configured), or one in memory without it. */
const memoryCache = new MemoryCache();
export function cacheOf(ctx: Pick<Ctx, 'cache'>): TtlCache {
  return ctx.cache ?? memoryCache;
}
