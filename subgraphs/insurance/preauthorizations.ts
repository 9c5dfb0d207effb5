import type { Claim, ClaimLine, Prisma, PriorAuthorization } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import { badUserInput, InputProblems } from '../kit/errors.js';
import { requireOwnOrStaff, requireSignedIn, requireStaffOf } from '../kit/identity.js';
import { checkDocuments, documentsById, toSend } from './documents.js';
import { INSURANCE_STAFF } from './policies.js';
import { activeCoverage, ICD10, memberOf, payersOf, PROCEDURE, providerAt, type Ctx } from './service.js';
import { decimalFromMinor } from './x12/views.js';

/**
 * Pre-authorization: before costly care, staff ask the payer to authorize services at an
 * estimated cost. Each estimate is checked against the plan's tariff first (a service the plan
 * does not list, or priced above its tariff, is refused before the payer is asked). An approval
 * carries the payer's code and is valid 30 days. A claim for a service the payer requires
 * authorization for must cite an approval of the same patient and payer, unexpired and covering
 * that service; otherwise it is refused before it leaves (claims.ts).
 */
export const AUTHORIZATION_DAYS = 30;

export interface ServiceEstimate {
  procedureCode: string;
  units: number;
  /** Minor units, for all units. */
  estimatedCost: number;
}

export function loadPreAuthorization(ctx: Ctx, id: string): Promise<PriorAuthorization> {
  requireSignedIn(ctx.identity);
  return loadVisible<PriorAuthorization>(ctx, 'PriorAuthorization', id);
}

export function preAuthorizationsOfPatient(ctx: Ctx, patientId: string): Promise<PriorAuthorization[]> {
  requireOwnOrStaff(ctx.identity, patientId, INSURANCE_STAFF, 'authorizations');
  return ctx.loaders.groupedBy<PriorAuthorization>('preauthorizationsByPatient', (ids) => ctx.db.priorAuthorization.findMany({ where: { patientId: { in: ids } }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] }), (row) => row.patientId).load(patientId);
}

export function servicesOf(authorization: PriorAuthorization): ServiceEstimate[] {
  return Array.isArray(authorization.services) ? (authorization.services as unknown as ServiceEstimate[]) : [];
}

export async function requestPreAuthorization(ctx: Ctx, input: { patientId: string; payerId: string; diagnoses: string[]; services: ServiceEstimate[]; documentIds: string[] }): Promise<PriorAuthorization> {
  const caller = requireStaffOf(ctx.identity, INSURANCE_STAFF, 'Only billing staff and administrators request pre-authorization');
  const problems = new InputProblems();
  if (input.services.length < 1 || input.services.length > 20) problems.add('input.services', 'list 1-20 services');
  if (input.diagnoses.length < 1 || input.diagnoses.length > 12) problems.add('input.diagnoses', 'list 1-12 ICD-10 codes');
  input.diagnoses.forEach((code, index) => problems.check(ICD10.test(code), `input.diagnoses[${index}]`, `"${code}" is not an ICD-10 code`));
  input.services.forEach((service, index) => {
    problems.check(PROCEDURE.test(service.procedureCode), `input.services[${index}].procedureCode`, 'must be a 5-character CPT/HCPCS code');
    problems.check(Number.isInteger(service.units) && service.units >= 1 && service.units <= 999, `input.services[${index}].units`, 'must be 1-999');
    problems.check(Number.isInteger(service.estimatedCost) && service.estimatedCost > 0, `input.services[${index}].estimatedCost`, 'must be a positive amount in minor units');
  });
  problems.throwIfAny();
  await ctx.directory.require('Patient', input.patientId, [caller.organizationId]);
  const coverage = await activeCoverage(ctx, input.patientId, input.payerId);
  const documentIds = await checkDocuments(ctx, input.patientId, input.documentIds, 'input.documentIds');

  // Against the plan's tariffs, before anything is asked.
  const tariffs = await ctx.db.payerTariff.findMany({ where: { payerId: coverage.payerId, procedureCode: { in: input.services.map((service) => service.procedureCode) } } });
  const tariffProblems = new InputProblems();
  input.services.forEach((service, index) => {
    const tariff = tariffs.find((row) => row.procedureCode === service.procedureCode);
    if (!tariff) tariffProblems.add(`input.services[${index}].procedureCode`, `${service.procedureCode} is not on ${coverage.payer.name}'s tariff`);
    else if (service.estimatedCost > tariff.maxAmount * service.units) {
      tariffProblems.add(`input.services[${index}].estimatedCost`, `${decimalFromMinor(BigInt(service.estimatedCost))} ${coverage.payer.currency} is above the tariff of ${decimalFromMinor(BigInt(tariff.maxAmount * service.units))} for ${service.units} × ${service.procedureCode}`);
    }
  });
  tariffProblems.throwIfAny();

  const estimatedTotal = input.services.reduce((sum, service) => sum + service.estimatedCost, 0);
  const authorization = await ctx.db.priorAuthorization.create({
    data: {
      organizationId: coverage.organizationId, patientId: input.patientId, coverageId: coverage.id, payerId: coverage.payerId,
      services: input.services as unknown as Prisma.InputJsonValue, procedureCodes: input.services.map((service) => service.procedureCode),
      estimatedTotal, currency: coverage.payer.currency, reasons: [], documentIds, createdById: caller.subject,
    },
  });
  // A payer that cannot be asked leaves the request REQUESTED (recorded, to ask again) and the error is the caller's.
  const answer = await payersOf(ctx).requestPreAuthorization({
    payer: { code: coverage.payer.code, name: coverage.payer.name },
    provider: await providerAt(ctx, coverage.organizationId, coverage.payerId),
    requestId: authorization.id,
    member: memberOf(coverage),
    diagnoses: input.diagnoses,
    services: input.services.map((service) => ({ procedureCode: service.procedureCode, units: service.units, estimatedCost: decimalFromMinor(BigInt(service.estimatedCost)) })),
    documents: toSend(await documentsById(ctx, documentIds)),
  });
  const approvedAt = answer.status === 'APPROVED' ? new Date() : null;
  return ctx.db.priorAuthorization.update({
    where: { id: authorization.id },
    data: {
      status: answer.status, authCode: answer.authCode, reasons: answer.reasons, approvedAt,
      expiresAt: approvedAt ? new Date(approvedAt.getTime() + AUTHORIZATION_DAYS * 86_400_000) : null,
    },
  });
}

type ClaimFacts = Pick<Claim, 'patientId' | 'payerId' | 'priorAuthorization'> & { lines: Array<Pick<ClaimLine, 'procedureCode'>> };

/** What the authorization check needs for a set of claims, read in two queries whatever their number. */
export interface AuthorizationFacts {
  /** `payerId procedureCode` of every tariff that requires authorization. */
  requiring: ReadonlySet<string>;
  approvals: PriorAuthorization[];
}

export async function authorizationFacts(db: Ctx['db'], claims: ClaimFacts[]): Promise<AuthorizationFacts> {
  const tariffs = await db.payerTariff.findMany({
    where: { requiresAuthorization: true, payerId: { in: [...new Set(claims.map((claim) => claim.payerId))] }, procedureCode: { in: [...new Set(claims.flatMap((claim) => claim.lines.map((line) => line.procedureCode)))] } },
  });
  const codes = [...new Set(claims.flatMap((claim) => (claim.priorAuthorization ? [claim.priorAuthorization] : [])))];
  const approvals = codes.length ? await db.priorAuthorization.findMany({ where: { authCode: { in: codes } } }) : [];
  return { requiring: new Set(tariffs.map((tariff) => `${tariff.payerId} ${tariff.procedureCode}`)), approvals };
}

/**
 * Why a claim may not go for want of authorization, or null: each line whose procedure the
 * payer requires authorization for must be covered by the approval the claim cites — same
 * patient and payer, approved, not expired at the time of the check.
 */
export function authorizationProblem(facts: AuthorizationFacts, claim: ClaimFacts, now = new Date()): string | null {
  const needing = [...new Set(claim.lines.map((line) => line.procedureCode))].filter((code) => facts.requiring.has(`${claim.payerId} ${code}`));
  if (needing.length === 0) return null;
  if (!claim.priorAuthorization) return `${needing.join(', ')} needs the payer's prior authorization; cite its code`;
  const approval = facts.approvals.find((row) => row.authCode === claim.priorAuthorization && row.payerId === claim.payerId && row.patientId === claim.patientId);
  if (!approval || approval.status !== 'APPROVED') return `authorization ${claim.priorAuthorization} is not an approval of this patient's payer`;
  if (!approval.expiresAt || approval.expiresAt < now) return `authorization ${claim.priorAuthorization} expired on ${approval.expiresAt?.toISOString().slice(0, 10) ?? 'approval'}`;
  const uncovered = needing.filter((code) => !approval.procedureCodes.includes(code));
  if (uncovered.length > 0) return `authorization ${claim.priorAuthorization} does not cover ${uncovered.join(', ')}`;
  return null;
}

/** For createClaim: the same check as a precise input error. */
export async function checkClaimAuthorization(ctx: Ctx, claim: ClaimFacts): Promise<void> {
  const problem = authorizationProblem(await authorizationFacts(ctx.db, [claim]), claim);
  if (problem) throw badUserInput('input.priorAuthorization', problem);
}
