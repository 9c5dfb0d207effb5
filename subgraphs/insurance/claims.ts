import { randomInt } from 'node:crypto';
import type { Claim, ClaimLine, ClaimStatus, ClaimTransition, Coverage, Payer, Prisma } from '../../prisma/generated/client/client.js';
import { isUniqueViolation, loadVisible } from '../kit/access.js';
import { badUserInput, conflict, DomainError, ErrorCode, InputProblems, notFound } from '../kit/errors.js';
import { InsuranceEvents } from '../kit/events/insurance.js';
import { requireOwnOrStaff, requireSignedIn, requireStaffOf } from '../kit/identity.js';
import { recordEvent, recordEventsOf, type TransactionClient } from '../kit/outbox.js';
import { PayerUnavailable, type ClaimAcknowledgment, type ClaimToSubmit, type InstitutionalDetails } from './adapters/payer.js';
import { stringify as stringifyLossless } from 'lossless-json';
import { bundleWith, claimResource } from './adapters/fhir.js';
import { checkDocuments, documentsById, toSend } from './documents.js';
import { INSURANCE_STAFF } from './policies.js';
import { outOfNetwork } from './networks.js';
import { authorizationFacts, authorizationProblem, checkClaimAuthorization } from './preauthorizations.js';
import { activeCoverage, coverageOf, ICD10, memberOf, payersOf, PROCEDURE, providerAt, type Ctx } from './service.js';
import { decimalFromMinor } from './x12/views.js';

/**
 * Claims from draft to payment. A claim is drafted against a patient's coverage, sent to its
 * payer (alone or in a batch: one transmission per payer), acknowledged (accepted or rejected
 * with the payer's reasons), adjudicated and paid by a remittance (remittance.ts). Every change
 * of status is a ClaimTransition and an event in the same transaction; a change is made only
 * from the status it expects, so two callers racing change it once.
 */
const STAFF_ONLY = 'Only billing staff and administrators manage claims';
export const MAX_BATCH = 500;
const MAX_LINES = 50;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Statuses from which a claim may be (re)sent: a draft, or one the payer rejected at the door (sent again as it is, or corrected by correctClaim). */
const SENDABLE: ClaimStatus[] = ['DRAFT', 'REJECTED'];

export interface ClaimLineInput {
  procedureCode: string;
  /** Institutional lines: the four-digit revenue code. */
  revenueCode: string | null;
  modifiers: string[];
  /** Minor units of the payer's currency. */
  charge: number;
  units: number;
  diagnosisPointers: number[];
  serviceDate: string;
}

/** What a claim says (a new claim, or the corrected version of one). */
export interface ClaimContent {
  kind: 'PROFESSIONAL' | 'INSTITUTIONAL';
  /** Professional claims. */
  placeOfService: string | null;
  /** Institutional claims. */
  institutional: InstitutionalDetails | null;
  diagnoses: string[];
  priorAuthorization: string | null;
  documentIds: string[];
  lines: ClaimLineInput[];
}

export interface ClaimInput extends ClaimContent {
  patientId: string;
  payerId: string;
}

export type ClaimWithLines = Claim & { lines: ClaimLine[] };

export function loadClaim(ctx: Ctx, id: string): Promise<Claim> {
  requireSignedIn(ctx.identity);
  return loadVisible<Claim>(ctx, 'Claim', id);
}

export function linesOf(ctx: Ctx, claimId: string): Promise<ClaimLine[]> {
  return ctx.loaders.groupedBy<ClaimLine>('claimLines', (ids) => ctx.db.claimLine.findMany({ where: { claimId: { in: ids } }, orderBy: { position: 'asc' } }), (line) => line.claimId).load(claimId);
}

export function historyOf(ctx: Ctx, claimId: string): Promise<ClaimTransition[]> {
  return ctx.loaders.groupedBy<ClaimTransition>('claimHistory', (ids) => ctx.db.claimTransition.findMany({ where: { claimId: { in: ids } }, orderBy: { seq: 'asc' } }), (row) => row.claimId).load(claimId);
}

export function institutionalOf(claim: Claim): InstitutionalDetails | null {
  return claim.kind === 'INSTITUTIONAL' && claim.institutional ? (claim.institutional as unknown as InstitutionalDetails) : null;
}

export async function correctionOf(ctx: Ctx, claimId: string): Promise<Claim | null> {
  return ctx.loaders.groupedBy<Claim>('claimCorrections', (ids) => ctx.db.claim.findMany({ where: { replacesClaimId: { in: ids } } }), (row) => row.replacesClaimId as string).load(claimId).then((rows) => rows[0] ?? null);
}

/** The claim as FHIR payers receive it: an R4 Claim in a Bundle with its DocumentReferences (their content left out here). */
export async function fhirBundleOf(ctx: Ctx, claimId: string): Promise<string> {
  const claim = await ctx.db.claim.findFirst({ where: { id: claimId }, include: { lines: { orderBy: { position: 'asc' } }, coverage: { include: { payer: true } }, replaces: true } });
  if (!claim) throw notFound('Claim');
  const payer = claim.coverage.payer;
  const connections = payersOf(ctx);
  const endpoint = connections.configured(payer.code) ? connections.endpoint(payer.code) : { protocol: 'FHIR' as const, baseUrl: '', currency: payer.currency };
  const documents = toSend(await documentsById(ctx, claim.documentIds)).map((document) => ({ ...document, data: null }));
  const resource = claimResource(toSubmission(claim, documents), { payer: { code: payer.code, name: payer.name }, provider: await providerAt(ctx, claim.organizationId, claim.payerId) }, { ...endpoint, currency: endpoint.currency ?? payer.currency });
  return stringifyLossless(bundleWith(resource, documents, false)) ?? '';
}

/** A patient's claims: their own for the patient, the organization's for staff. */
export function claimsOfPatient(ctx: Ctx, patientId: string): Promise<Claim[]> {
  requireOwnOrStaff(ctx.identity, patientId, INSURANCE_STAFF, 'claims');
  return ctx.loaders.groupedBy<Claim>('claimsByPatient', (ids) => ctx.db.claim.findMany({ where: { patientId: { in: ids } }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] }), (row) => row.patientId).load(patientId);
}

export function listClaims(ctx: Ctx, status: ClaimStatus[] | null | undefined, first: number): Promise<Claim[]> {
  requireStaffOf(ctx.identity, INSURANCE_STAFF, STAFF_ONLY);
  if (!Number.isInteger(first) || first < 1 || first > MAX_BATCH) throw badUserInput('first', `must be 1-${MAX_BATCH}`);
  return ctx.db.claim.findMany({ where: status?.length ? { status: { in: status } } : {}, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: first });
}

/** Facility types whose claims are inpatient stays (bill type classification 1 or 2 at a hospital, SNF, religious or intermediate-care facility): they say when the patient was admitted. */
const INPATIENT = /^[1246][12]$/;
const MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;

function checkClaimContent(input: ClaimContent): void {
  const problems = new InputProblems();
  if (input.diagnoses.length < 1 || input.diagnoses.length > 12) problems.add('input.diagnoses', 'must list 1-12 ICD-10 codes');
  input.diagnoses.forEach((code, index) => problems.check(ICD10.test(code), `input.diagnoses[${index}]`, `"${code}" is not an ICD-10 code`));
  const institutional = input.kind === 'INSTITUTIONAL';
  if (institutional) {
    problems.check(input.placeOfService === null, 'input.placeOfService', 'an institutional claim has a facility type, not a place of service');
    const details = input.institutional;
    if (!details) problems.add('input.institutional', 'an institutional claim needs its facility type, discharge status and attending provider');
    else {
      problems.check(/^\d{2}$/.test(details.facilityType), 'input.institutional.facilityType', 'must be a two-digit facility type code (11 hospital inpatient, 13 hospital outpatient…)');
      problems.check(/^\d{2}$/.test(details.dischargeStatus), 'input.institutional.dischargeStatus', 'must be a two-digit patient status code (01 discharged home…)');
      problems.check(/^\d{10}$/.test(details.attending.npi), 'input.institutional.attending.npi', 'must be a 10-digit NPI');
      problems.check(/^.{1,60}$/.test(details.attending.lastName.trim()) && /^.{1,35}$/.test(details.attending.firstName.trim()), 'input.institutional.attending', 'needs a last name (1-60) and a first name (1-35)');
      if (INPATIENT.test(details.facilityType) && !details.admission) problems.add('input.institutional.admission', `facility type ${details.facilityType} is inpatient: give the admission`);
      if (details.admission) {
        problems.check(MINUTE.test(details.admission.at) && !Number.isNaN(Date.parse(`${details.admission.at}:00Z`)), 'input.institutional.admission.at', 'must be YYYY-MM-DDTHH:MM');
        problems.check(/^[1-59]$/.test(details.admission.type), 'input.institutional.admission.type', 'must be an admission type code (1 emergency, 2 urgent, 3 elective, 4 newborn, 5 trauma, 9 unknown)');
        problems.check(/^[0-9A-Z]$/.test(details.admission.source), 'input.institutional.admission.source', 'must be a one-character point of origin code');
      }
    }
  } else {
    problems.check(input.institutional === null, 'input.institutional', 'only institutional claims carry facility details');
    problems.check(input.placeOfService !== null && /^\d{2}$/.test(input.placeOfService), 'input.placeOfService', 'must be a two-digit place of service code');
  }
  if (input.priorAuthorization !== null) problems.check(/^[A-Za-z0-9-]{1,50}$/.test(input.priorAuthorization), 'input.priorAuthorization', 'must be 1-50 letters, digits or -');
  if (input.lines.length < 1 || input.lines.length > MAX_LINES) problems.add('input.lines', `must have 1-${MAX_LINES} lines`);
  input.lines.forEach((line, index) => {
    const at = `input.lines[${index}]`;
    problems.check(PROCEDURE.test(line.procedureCode), `${at}.procedureCode`, 'must be a 5-character CPT/HCPCS code');
    if (institutional) problems.check(line.revenueCode !== null && /^\d{4}$/.test(line.revenueCode), `${at}.revenueCode`, 'an institutional line needs a four-digit revenue code (0450 emergency room…)');
    else problems.check(line.revenueCode === null, `${at}.revenueCode`, 'only institutional lines carry a revenue code');
    problems.check(line.modifiers.length <= 4 && line.modifiers.every((modifier) => /^[A-Z0-9]{2}$/.test(modifier)), `${at}.modifiers`, 'at most four two-character modifiers');
    problems.check(Number.isInteger(line.charge) && line.charge > 0 && line.charge <= 100_000_000, `${at}.charge`, 'must be 1-100,000,000 minor units');
    problems.check(Number.isInteger(line.units) && line.units >= 1 && line.units <= 999, `${at}.units`, 'must be 1-999');
    problems.check(line.diagnosisPointers.length >= 1 && line.diagnosisPointers.length <= 4 && line.diagnosisPointers.every((pointer) => Number.isInteger(pointer) && pointer >= 1 && pointer <= input.diagnoses.length), `${at}.diagnosisPointers`, 'must point at 1-4 of the claim’s diagnoses (1-based)');
    problems.check(DATE.test(line.serviceDate) && !Number.isNaN(Date.parse(line.serviceDate)), `${at}.serviceDate`, 'must be a date, YYYY-MM-DD');
  });
  problems.throwIfAny();
}

/** Drafts a claim against the patient's active coverage with the payer. */
export async function createClaim(ctx: Ctx, input: ClaimInput): Promise<Claim> {
  const caller = requireStaffOf(ctx.identity, INSURANCE_STAFF, STAFF_ONLY);
  checkClaimContent(input);
  await ctx.directory.require('Patient', input.patientId, [caller.organizationId]);
  const coverage = await activeCoverage(ctx, input.patientId, input.payerId);
  return draft(ctx, caller.subject, coverage, input, null);
}

/**
 * Drafts a claim's content against a coverage: the total, the authorization it must cite, the
 * documents it carries and whether the provider is in network are checked first; the claim,
 * its first transition and `claim.created` are written together.
 */
async function draft(ctx: Ctx, actorId: string, coverage: Awaited<ReturnType<typeof activeCoverage>>, input: ClaimContent & { patientId: string }, replaces: Claim | null): Promise<Claim> {
  const totalCharge = input.lines.reduce((sum, line) => sum + line.charge, 0);
  if (totalCharge > 2_147_483_647) throw badUserInput('input.lines', 'the claim total is too large');
  const documentIds = await checkDocuments(ctx, input.patientId, input.documentIds, 'input.documentIds');
  await checkClaimAuthorization(ctx, { patientId: input.patientId, payerId: coverage.payerId, priorAuthorization: input.priorAuthorization, lines: input.lines });
  const network = await outOfNetwork(ctx, coverage.organizationId, coverage.payer);
  try {
    return await ctx.db.$transaction(async (tx) => {
      const claim = await tx.claim.create({
        data: {
          organizationId: coverage.organizationId, patientId: input.patientId, coverageId: coverage.id, payerId: coverage.payerId, currency: coverage.payer.currency,
          kind: input.kind, institutional: input.institutional ? (input.institutional as unknown as Prisma.InputJsonValue) : undefined, replacesClaimId: replaces?.id ?? null, documentIds,
          totalCharge, diagnoses: input.diagnoses.map((code) => code.toUpperCase()), placeOfService: input.placeOfService, priorAuthorization: input.priorAuthorization, outOfNetwork: network,
          createdById: actorId,
          lines: { create: input.lines.map((line, position) => ({ position, procedureCode: line.procedureCode, revenueCode: line.revenueCode, modifiers: line.modifiers, charge: line.charge, units: line.units, diagnosisPointers: line.diagnosisPointers, serviceDate: new Date(line.serviceDate) })) },
        },
      });
      await tx.claimTransition.create({ data: { claimId: claim.id, from: null, to: 'DRAFT', reason: replaces ? `drafted as the correction of claim ${replaces.id}` : 'drafted', actorId } });
      await recordEvent(tx, InsuranceEvents.claimCreated, { aggregateId: claim.id, organizationId: claim.organizationId, payload: eventFields(claim) });
      return claim;
    });
  } catch (error) {
    if (replaces && isUniqueViolation(error)) throw conflict(`claim ${replaces.id} already has a correction`);
    throw error;
  }
}

/** Claims the payer adjudicated as denied, or approved and paid only in part: these may be corrected or appealed. */
export function disputable(claim: Pick<Claim, 'status' | 'adjudication'>): boolean {
  return (claim.status === 'ADJUDICATED' && claim.adjudication === 'DENIED') || (claim.status === 'PAID' && claim.adjudication === 'PARTIALLY_APPROVED');
}

/**
 * Corrects a claim the payer denied, paid in part or rejected: a new claim (a draft, with the
 * corrected content) that replaces it. It is sent as a replacement of the payer's claim number
 * (frequency 7, REF*F8 / Claim.related) when the payer had one; the original stays as it was,
 * with its history, until the payer accepts the correction, and is then closed.
 */
export async function correctClaim(ctx: Ctx, claimId: string, input: ClaimContent): Promise<Claim> {
  const caller = requireStaffOf(ctx.identity, INSURANCE_STAFF, STAFF_ONLY);
  const original = await ctx.db.claim.findFirst({ where: { id: claimId } });
  if (!original) throw notFound('Claim');
  if (!disputable(original) && original.status !== 'REJECTED') throw conflict(`the claim is ${describe(original)}; only denied, partly paid or rejected claims are corrected`);
  checkClaimContent(input);
  const coverage = await coverageOf(ctx, original.coverageId);
  return draft(ctx, caller.subject, coverage, { ...input, patientId: original.patientId }, original);
}

const describe = (claim: Claim): string => (claim.adjudication && (claim.status === 'ADJUDICATED' || claim.status === 'PAID') ? `${claim.status.toLowerCase()} (${claim.adjudication.toLowerCase().replace('_', ' ')})` : claim.status.toLowerCase());

/** Adds documents (the same patient's) to a claim not yet closed; they go with its next transmission or appeal. */
export async function attachClaimDocuments(ctx: Ctx, claimId: string, documentIds: string[]): Promise<Claim> {
  requireStaffOf(ctx.identity, INSURANCE_STAFF, STAFF_ONLY);
  const claim = await ctx.db.claim.findFirst({ where: { id: claimId } });
  if (!claim) throw notFound('Claim');
  if (claim.status === 'CLOSED') throw conflict('the claim is closed');
  const ids = await checkDocuments(ctx, claim.patientId, [...claim.documentIds, ...documentIds], 'documentIds');
  const { count } = await ctx.db.claim.updateMany({ where: { id: claim.id, status: { not: 'CLOSED' } }, data: { documentIds: ids } });
  if (count === 0) throw conflict('the claim is closed');
  return ctx.db.claim.findUniqueOrThrow({ where: { id: claim.id } });
}

/** Closes a claim staff are done with: a denial written off, a payment reconciled. Never a claim still with the payer. */
export async function closeClaim(ctx: Ctx, claimId: string, reason: string): Promise<Claim> {
  const caller = requireStaffOf(ctx.identity, INSURANCE_STAFF, STAFF_ONLY);
  if (reason.trim().length < 3 || reason.length > 500) throw badUserInput('reason', 'must be 3-500 characters');
  const closable: ClaimStatus[] = ['DRAFT', 'REJECTED', 'ADJUDICATED', 'PAID'];
  const claim = await ctx.db.claim.findFirst({ where: { id: claimId } });
  if (!claim) throw notFound('Claim');
  if (!closable.includes(claim.status) || (claim.status === 'ADJUDICATED' && claim.adjudication !== 'DENIED')) throw conflict(`the claim is ${describe(claim)}; it is with the payer or awaiting payment`);
  return ctx.db.$transaction(async (tx) => {
    const closed = await move(tx, claim, [claim.status], 'CLOSED', caller.subject, reason.trim());
    if (!closed) throw conflict('the claim changed meanwhile');
    await recordEvent(tx, InsuranceEvents.claimClosed, { aggregateId: closed.id, organizationId: closed.organizationId, payload: { ...eventFields(closed), reason: reason.trim(), replacedByClaimId: null } });
    return closed;
  });
}

export interface BatchResult {
  submitted: Claim[];
  failed: Array<{ claimId: string; code: ErrorCode; message: string }>;
}

/** Sends one claim; its failure is the caller's error. */
export async function submitClaim(ctx: Ctx, claimId: string): Promise<Claim> {
  const result = await submitClaimBatch(ctx, [claimId]);
  const failure = result.failed[0];
  if (failure) throw new DomainError(failure.code, failure.message, { claimId });
  return result.submitted[0] as Claim;
}

/**
 * Sends up to 500 claims, one transmission per payer. Each claim gets its own result: a claim
 * that cannot be sent (not found, not the caller's, not a draft, its coverage no longer in
 * force) is reported and the others go on; a transmission that fails leaves its claims as they
 * were (drafts, to be sent again) and reports PAYER_UNAVAILABLE for each.
 */
export async function submitClaimBatch(ctx: Ctx, claimIds: string[]): Promise<BatchResult> {
  const caller = requireStaffOf(ctx.identity, INSURANCE_STAFF, STAFF_ONLY);
  const ids = [...new Set(claimIds)];
  if (ids.length < 1 || ids.length > MAX_BATCH) throw badUserInput('claimIds', `must list 1-${MAX_BATCH} claims`);
  const failed: BatchResult['failed'] = [];
  const visible = await ctx.db.claim.findMany({ where: { id: { in: ids } }, include: { lines: { orderBy: { position: 'asc' } }, coverage: { include: { payer: true } }, replaces: true, replacedBy: { select: { id: true } } } });
  const byId = new Map(visible.map((claim) => [claim.id, claim]));
  const authorizations = await authorizationFacts(ctx.db, visible);
  const sendable: typeof visible = [];
  for (const id of ids) {
    const claim = byId.get(id);
    // Authorization is checked again at sending: an approval may have expired since the draft.
    const problem = !claim ? 'no such claim of your organization' : (problemOf(claim) ?? authorizationProblem(authorizations, claim));
    if (problem) failed.push({ claimId: id, code: claim ? ErrorCode.CONFLICT : ErrorCode.NOT_FOUND, message: problem });
    else sendable.push(claim as (typeof visible)[number]);
  }
  const submitted: Claim[] = [];
  const byPayer = new Map<string, typeof visible>();
  for (const claim of sendable) byPayer.set(claim.payerId, [...(byPayer.get(claim.payerId) ?? []), claim]);
  for (const claims of byPayer.values()) {
    const payer = (claims[0] as (typeof visible)[number]).coverage.payer;
    const outcome = await transmit(ctx, caller.subject, caller.organizationId, payer, claims);
    submitted.push(...outcome.submitted);
    failed.push(...outcome.failed);
  }
  return { submitted, failed };
}

type SendableClaim = ClaimWithLines & { coverage: Prisma.CoverageGetPayload<{ include: { payer: true } }>; replaces: Claim | null; replacedBy: { id: string } | null };

function problemOf(claim: SendableClaim): string | null {
  if (!SENDABLE.includes(claim.status)) return `the claim is ${claim.status.toLowerCase()}; only drafts and rejected claims are sent`;
  if (claim.coverage.status !== 'ACTIVE') return 'the claim’s coverage is no longer active';
  if (claim.replacedBy) return `the claim was corrected by claim ${claim.replacedBy.id}; send the correction`;
  if (claim.replaces && claim.replaces.status === 'CLOSED') return `the claim it corrects (${claim.replaces.id}) is closed`;
  if (claim.replaces && claim.replaces.status === 'APPEALED') return `the claim it corrects (${claim.replaces.id}) is under appeal`;
  const outside = claim.lines.find((line) => line.serviceDate < claim.coverage.periodStart || (claim.coverage.periodEnd !== null && line.serviceDate > claim.coverage.periodEnd));
  if (outside) return `line ${outside.position + 1} is outside the coverage period`;
  if (claim.lines.reduce((sum, line) => sum + line.charge, 0) !== claim.totalCharge) return 'the claim total does not match its lines';
  return null;
}

async function transmit(ctx: Ctx, actorId: string, organizationId: string, payer: Payer, claims: SendableClaim[]): Promise<BatchResult> {
  const provider = await providerAt(ctx, organizationId, payer.id);
  // Recorded before anything leaves: a transmission is never lost track of, whatever happens next.
  const submission = await ctx.db.claimSubmission.create({
    data: { organizationId, payerId: payer.id, controlNumber: String(randomInt(1, 999_999_999)), claimIds: claims.map((claim) => claim.id), outcome: 'SENT' },
  });
  let acknowledgments: ClaimAcknowledgment[];
  const documents = toSend(await documentsById(ctx, [...new Set(claims.flatMap((claim) => claim.documentIds))]));
  try {
    acknowledgments = await payersOf(ctx).submitClaims({
      payer: { code: payer.code, name: payer.name },
      provider: { ...provider, taxId: '000000000' },
      controlNumber: submission.controlNumber,
      claims: claims.map((claim) => toSubmission(claim, documents.filter((document) => claim.documentIds.includes(document.id)))),
    });
  } catch (error) {
    const message = error instanceof DomainError ? error.message : 'The payer could not be reached';
    await ctx.db.claimSubmission.update({ where: { id: submission.id }, data: { outcome: 'FAILED', error: error instanceof PayerUnavailable ? error.reason : 'ERROR' } });
    if (!(error instanceof DomainError)) ctx.log.error({ err: error, payer: payer.code }, 'claim transmission failed');
    return { submitted: [], failed: claims.map((claim) => ({ claimId: claim.id, code: ErrorCode.PAYER_UNAVAILABLE, message })) };
  }
  // The acknowledgments applied in one transaction whose statements do not grow with each
  // step: per claim one conditional update to where the payer left it (accepted or rejected),
  // then every transition and every event of the batch written together.
  const result: BatchResult = { submitted: [], failed: [] };
  await ctx.db.$transaction(async (tx) => {
    const applied: Array<{ claim: Claim; ack: ClaimAcknowledgment; from: ClaimStatus }> = [];
    for (const claim of claims) {
      const ack = acknowledgments.find((candidate) => candidate.claimId === claim.id) as ClaimAcknowledgment;
      const { count } = await tx.claim.updateMany({
        where: { id: claim.id, status: claim.status },
        data: ack.accepted
          ? { status: 'ACCEPTED', lastSubmissionId: submission.id, payerClaimNumber: ack.payerClaimNumber, reasons: [] }
          : { status: 'REJECTED', lastSubmissionId: submission.id, reasons: ack.reasons },
      });
      if (count === 0) {
        result.failed.push({ claimId: claim.id, code: ErrorCode.CONFLICT, message: 'the claim changed meanwhile' });
        continue;
      }
      const now: Claim = { ...claim, status: ack.accepted ? 'ACCEPTED' : 'REJECTED', lastSubmissionId: submission.id, payerClaimNumber: ack.accepted ? ack.payerClaimNumber : claim.payerClaimNumber, reasons: ack.accepted ? [] : ack.reasons };
      applied.push({ claim: now, ack, from: claim.status });
      result.submitted.push(now);
    }
    await tx.claimTransition.createMany({
      data: applied.flatMap(({ claim, ack, from }) => [
        { claimId: claim.id, from, to: 'SUBMITTED' as const, reason: `sent in transmission ${submission.controlNumber}`, actorId },
        { claimId: claim.id, from: 'SUBMITTED' as const, to: claim.status, reason: ack.accepted ? 'acknowledged by the payer' : `rejected by the payer: ${ack.reasons.join(', ')}`, actorId: null },
      ]),
    });
    const envelope = (claim: Claim) => ({ aggregateId: claim.id, organizationId: claim.organizationId });
    await recordEventsOf(tx, InsuranceEvents.claimSubmitted, applied.map(({ claim }) => ({ ...envelope(claim), payload: { ...eventFields({ ...claim, status: 'SUBMITTED' }), submissionId: submission.id } })));
    await recordEventsOf(tx, InsuranceEvents.claimAccepted, applied.filter(({ ack }) => ack.accepted).map(({ claim, ack }) => ({ ...envelope(claim), payload: { ...eventFields(claim), payerClaimNumber: ack.payerClaimNumber } })));
    await recordEventsOf(tx, InsuranceEvents.claimRejected, applied.filter(({ ack }) => !ack.accepted).map(({ claim, ack }) => ({ ...envelope(claim), payload: { ...eventFields(claim), reasons: ack.reasons } })));
    // A correction the payer accepted supersedes the claim it corrects.
    for (const { claim } of applied.filter(({ ack, claim }) => ack.accepted && claim.replacesClaimId)) {
      const reason = `replaced by corrected claim ${claim.id}`;
      const closed = await move(tx, { id: claim.replacesClaimId as string }, ['ADJUDICATED', 'PAID', 'REJECTED'], 'CLOSED', actorId, reason);
      if (closed) await recordEvent(tx, InsuranceEvents.claimClosed, { ...envelope(closed), payload: { ...eventFields(closed), reason, replacedByClaimId: claim.id } });
    }
  });
  await ctx.db.claimSubmission.update({ where: { id: submission.id }, data: { outcome: 'ACKNOWLEDGED' } });
  return result;
}

/**
 * Moves a claim from one of `from` to `to` (recording the transition), only if it is still in
 * one of `from`; returns the claim as changed, or null when it had moved on meanwhile.
 */
export async function move(tx: TransactionClient, claim: Pick<Claim, 'id'>, from: ClaimStatus[], to: ClaimStatus, actorId: string | null, reason: string, data: Prisma.ClaimUpdateManyMutationInput = {}): Promise<Claim | null> {
  const current = await tx.claim.findUnique({ where: { id: claim.id }, select: { status: true } });
  if (!current || !from.includes(current.status)) return null;
  const { count } = await tx.claim.updateMany({ where: { id: claim.id, status: { in: from } }, data: { ...data, status: to } });
  if (count === 0) return null;
  await tx.claimTransition.create({ data: { claimId: claim.id, from: current.status, to, reason, actorId } });
  return tx.claim.findUniqueOrThrow({ where: { id: claim.id } });
}

export function eventFields(claim: Claim) {
  return { claimId: claim.id, organizationId: claim.organizationId, patientId: claim.patientId, payerId: claim.payerId, status: claim.status, currency: claim.currency, totalCharge: claim.totalCharge };
}

/** A claim as it leaves; `documents` its own. */
export function toSubmission(claim: ClaimWithLines & { coverage: Coverage; replaces: Claim | null }, documents: ClaimToSubmit['documents']): ClaimToSubmit {
  // A correction replaces the payer's claim when the payer had numbered it (it adjudicated it); otherwise it is a new original.
  const original = claim.replaces?.payerClaimNumber ?? null;
  return {
    claimId: claim.id,
    kind: claim.kind,
    institutional: claim.kind === 'INSTITUTIONAL' ? (claim.institutional as unknown as InstitutionalDetails) : null,
    documents,
    totalCharge: decimalFromMinor(BigInt(claim.totalCharge)),
    placeOfService: claim.placeOfService ?? '',
    frequency: original ? '7' : '1',
    originalPayerClaimNumber: original,
    priorAuthorization: claim.priorAuthorization,
    subscriber: memberOf(claim.coverage),
    diagnoses: claim.diagnoses,
    lines: claim.lines.map((line) => ({
      procedureCode: line.procedureCode, revenueCode: line.revenueCode, modifiers: line.modifiers, charge: decimalFromMinor(BigInt(line.charge)), units: line.units, diagnosisPointers: line.diagnosisPointers, serviceDate: line.serviceDate.toISOString().slice(0, 10),
    })),
  };
}

export interface StatusResult {
  claim: Claim;
  category: string;
  code: string;
  message: string | null;
  payerClaimNumber: string | null;
  checkedAt: Date;
}

/**
 * Asks the payer where it has got to with a sent claim (276 → 277 and the like). The answer is
 * the payer's; the claim's own status still changes only by acknowledgments and remittances.
 */
export async function claimStatus(ctx: Ctx, claimId: string): Promise<StatusResult> {
  requireStaffOf(ctx.identity, INSURANCE_STAFF, STAFF_ONLY);
  const claim = await ctx.db.claim.findFirst({ where: { id: claimId }, include: { lines: true, coverage: { include: { payer: true } } } });
  if (!claim) throw notFound('Claim');
  if (claim.status === 'DRAFT') throw badUserInput('id', 'a draft has not been sent: the payer knows nothing of it');
  const dates = claim.lines.map((line) => line.serviceDate.toISOString().slice(0, 10)).sort();
  const coverage = claim.coverage;
  const [answer] = await payersOf(ctx).claimStatus({
    payer: { code: coverage.payer.code, name: coverage.payer.name },
    provider: await providerAt(ctx, claim.organizationId, claim.payerId),
    claims: [{
      claimId: claim.id, payerClaimNumber: claim.payerClaimNumber, totalCharge: decimalFromMinor(BigInt(claim.totalCharge)),
      member: memberOf(coverage),
      serviceDates: { from: dates[0] as string, to: dates.at(-1) as string },
    }],
  });
  if (!answer) throw new DomainError(ErrorCode.PAYER_UNAVAILABLE, 'The payer gave no status', { payer: coverage.payer.code, reason: 'MALFORMED_ANSWER' });
  return { claim, category: answer.category, code: answer.code, message: answer.message, payerClaimNumber: answer.payerClaimNumber, checkedAt: new Date() };
}
