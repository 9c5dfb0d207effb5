import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClaimResponse, ExplanationOfBenefit } from 'fhir/r4.js';
import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import type { Prisma, PrismaClient } from '../../prisma/generated/client/client.js';
import { isUniqueViolation } from '../kit/access.js';
import type { RemittanceMapping } from '../kit/config.js';
import type { SubgraphDeps } from '../kit/context.js';
import { InsuranceEvents } from '../kit/events/insurance.js';
import { errorResponse, type RouteResponse } from '../kit/http.js';
import { recordEvent, type TransactionClient } from '../kit/outbox.js';
import type { SubgraphRoute, SubgraphWorker } from '../kit/subgraph.js';
import { decideAppeal } from './appeals.js';
import { eventFields, move } from './claims.js';
import { valueAtPath } from './adapters/rest.js';
import { readFhir } from './fhir/read.js';
import { settingsOf } from './service.js';
import { parseX12, transactionsOf } from './x12/parse.js';
import { minorUnits, type RemittanceView } from './x12/views.js';

/**
 * Payments arrive as remittance advice: an 835 from X12 payers, a ClaimResponse with its
 * payment or an ExplanationOfBenefit from FHIR payers, CareGraph's JSON profile from HMOs. Each is posted to
 * `/webhooks/insurance/{payer}/remittance`, signed by the payer with its shared secret, and
 * checked before anything is stored. A remittance is applied once (by the payer's trace
 * number), in one transaction: each claim it pays is adjudicated (approved, partly approved or
 * denied) and, when money came, settled — each step a transition and an event. Claims it
 * names that are not ours are kept with it as unmatched, not dropped.
 */
export interface RemittanceAdvice {
  traceNumber: string;
  /** Minor units. */
  paymentAmount: number;
  currency: string;
  paymentDate: string;
  claims: Array<{ claimId: string; denied: boolean; charge: number; paid: number; patientResponsibility: number; payerClaimNumber: string | null; reasons: string[] }>;
}

export class BadRemittance extends Error {
  constructor(readonly problems: unknown[]) {
    super('the remittance cannot be read');
    this.name = 'BadRemittance';
  }
}

const minor = (text: string): number => {
  try {
    return Number(minorUnits(text));
  } catch {
    throw new BadRemittance([{ code: 'BAD_AMOUNT', message: `"${text}" is not an amount` }]);
  }
};

/** An 835's payment and claims; any error in it refuses the whole file (nothing is applied from a file that does not read). */
export function adviceFrom835(text: string, currency: string): RemittanceAdvice[] {
  const document = parseX12(text);
  const errors = document.issues.filter((issue) => issue.severity === 'error');
  if (errors.length > 0) throw new BadRemittance(errors);
  const views = transactionsOf(document).map((transaction) => transaction.view).filter((view): view is RemittanceView => view.kind === 'remittance');
  if (views.length === 0) throw new BadRemittance([{ code: 'NOT_AN_835', message: 'the interchange holds no 835' }]);
  return views.map((view) => ({
    traceNumber: view.payment.traceNumber,
    paymentAmount: minor(view.payment.amount),
    currency,
    paymentDate: `${view.payment.date.slice(0, 4)}-${view.payment.date.slice(4, 6)}-${view.payment.date.slice(6, 8)}`,
    claims: view.claims.map((claim) => {
      const reasons = [...claim.adjustments, ...claim.services.flatMap((service) => service.adjustments)].map((adjustment) => `${adjustment.group}-${adjustment.reason}`);
      return {
        claimId: claim.patientControlNumber,
        denied: claim.status === '4' || minor(claim.paid) === 0,
        charge: minor(claim.charge),
        paid: minor(claim.paid),
        patientResponsibility: claim.patientResponsibility ? minor(claim.patientResponsibility) : 0,
        payerClaimNumber: claim.payerClaimControlNumber || null,
        reasons,
      };
    }),
  }));
}

/**
 * A FHIR payment advice for one claim: a ClaimResponse with its payment, or an
 * ExplanationOfBenefit (the claim it explains, its outcome, totals and payment). Both name our
 * claim by its identifier (`request` / `claim`), and carry the payment's own identifier (the trace).
 */
export function adviceFromFhir(text: string): RemittanceAdvice[] {
  const document = readFhir(text);
  const errors = document.issues.filter((issue) => issue.severity === 'error');
  if (errors.length > 0) throw new BadRemittance(errors);
  const type = document.resource?.resourceType;
  if (type !== 'ClaimResponse' && type !== 'ExplanationOfBenefit') throw new BadRemittance([{ code: 'NOT_A_PAYMENT_ADVICE', path: 'resourceType', message: 'expected a ClaimResponse or an ExplanationOfBenefit' }]);
  const advice = document.resource as ClaimResponse | ExplanationOfBenefit;
  const claimId = advice.resourceType === 'ClaimResponse' ? advice.request?.identifier?.value : advice.claim?.identifier?.value;
  const payment = advice.payment;
  if (!claimId || !payment?.amount || payment.amount.value === undefined || !payment.identifier?.value) {
    const claimPath = advice.resourceType === 'ClaimResponse' ? 'request.identifier' : 'claim.identifier';
    throw new BadRemittance([{ code: 'REQUIRED', path: `${type}.${claimPath} / payment.amount / payment.identifier`, message: 'a remittance names the claim and carries a payment with its identifier' }]);
  }
  const written = (path: string, value: number | undefined): number => minor(document.decimals.get(path) ?? String(value ?? 0));
  const paid = written(`${type}.payment.amount.value`, payment.amount.value);
  const totalIndex = (advice.total ?? []).findIndex((total) => total.category.coding?.[0]?.code === 'submitted');
  const charge = totalIndex >= 0 ? written(`${type}.total[${totalIndex}].amount.value`, advice.total?.[totalIndex]?.amount.value) : paid;
  const errorsOf = advice.resourceType === 'ClaimResponse' ? (advice.error ?? []).map((error) => error.code.coding?.[0]?.code) : (advice.processNote ?? []).map((note) => note.text);
  return [{
    traceNumber: payment.identifier.value,
    paymentAmount: paid,
    currency: payment.amount.currency ?? 'USD',
    paymentDate: payment.date ?? new Date().toISOString().slice(0, 10),
    claims: [{ claimId, denied: advice.outcome === 'error' || paid === 0, charge, paid, patientResponsibility: 0, payerClaimNumber: advice.identifier?.[0]?.value ?? advice.id ?? null, reasons: errorsOf.map((code) => `FHIR ${code ?? 'error'}`) }],
  }];
}

/**
 * CareGraph's JSON profile: `{"remittanceId", "paymentDate", "currency", "paymentAmount",
 * "claims": [{claimId, status: PAID|DENIED, charge, paid, patientResponsibility, reference,
 * reasons}]}`, amounts as decimals. HMOs that post their own shape describe it with a mapping.
 */
export const CAREGRAPH_REMITTANCE_PROFILE: RemittanceMapping = {
  traceNumber: 'remittanceId', paymentDate: 'paymentDate', paymentAmount: 'paymentAmount', currency: 'currency', claims: 'claims',
  claim: { claimId: 'claimId', status: 'status', charge: 'charge', paid: 'paid', patientResponsibility: 'patientResponsibility', reference: 'reference', reasons: 'reasons' },
  paidValues: ['PAID'], deniedValues: ['DENIED'],
};

/** A JSON remittance read through its mapping; every missing or unreadable fact is named by its path, and refuses the whole remittance. */
export function adviceFromJson(text: string, mapping: RemittanceMapping = CAREGRAPH_REMITTANCE_PROFILE, defaultCurrency = 'NGN'): RemittanceAdvice[] {
  let json: unknown;
  try {
    json = parseLossless(text);
  } catch {
    throw new BadRemittance([{ code: 'INVALID_JSON', message: 'the body is not JSON' }]);
  }
  const problems: Array<{ code: string; path: string; message: string }> = [];
  const written = (from: unknown, path: string, shown = path): string | null => {
    const value = valueAtPath(from, path);
    if (typeof value === 'string' && value !== '') return value;
    if (isLosslessNumber(value)) return String(value);
    problems.push({ code: 'REQUIRED', path: shown, message: 'missing or not a value' });
    return null;
  };
  const amount = (from: unknown, path: string | undefined, shown: string, optional = false): number => {
    if (!path || (optional && valueAtPath(from, path) === undefined)) return 0;
    const value = written(from, path, shown);
    if (value === null) return 0;
    if (mapping.amounts === 'minor') {
      if (/^\d+$/.test(value)) return Number(value);
    } else {
      try {
        return Number(minorUnits(value));
      } catch {
        // reported below
      }
    }
    problems.push({ code: 'BAD_AMOUNT', path: shown, message: `"${value}" is not an amount in ${mapping.amounts === 'minor' ? 'minor' : 'major'} units` });
    return 0;
  };
  const traceNumber = written(json, mapping.traceNumber);
  const paymentDate = isoDate(written(json, mapping.paymentDate), mapping.dateFormat ?? 'YYYY-MM-DD');
  if (paymentDate === undefined) problems.push({ code: 'BAD_DATE', path: mapping.paymentDate, message: `not a date written ${mapping.dateFormat ?? 'YYYY-MM-DD'}` });
  const paymentAmount = amount(json, mapping.paymentAmount, mapping.paymentAmount);
  const currency = mapping.currency ? written(json, mapping.currency) : defaultCurrency;
  if (currency !== null && !/^[A-Z]{3}$/.test(currency)) problems.push({ code: 'BAD_CURRENCY', path: mapping.currency ?? 'currency', message: `"${currency}" is not an ISO 4217 code` });
  const list = valueAtPath(json, mapping.claims);
  if (!Array.isArray(list)) problems.push({ code: 'REQUIRED', path: mapping.claims, message: 'must be an array of claims' });
  const claims = (Array.isArray(list) ? list : []).map((claim: unknown, index) => {
    const at = (path: string) => `${mapping.claims}[${index}].${path}`;
    const fields = mapping.claim;
    const status = written(claim, fields.status, at(fields.status));
    const denied = status !== null && mapping.deniedValues.includes(status);
    if (status !== null && !denied && !mapping.paidValues.includes(status)) problems.push({ code: 'BAD_STATUS', path: at(fields.status), message: `"${status}" is not one of ${[...mapping.paidValues, ...mapping.deniedValues].join(', ')}` });
    const reasons = fields.reasons ? valueAtPath(claim, fields.reasons) : undefined;
    const reference = fields.reference ? valueAtPath(claim, fields.reference) : undefined;
    return {
      claimId: written(claim, fields.claimId, at(fields.claimId)) ?? '', denied,
      charge: amount(claim, fields.charge, at(fields.charge)), paid: amount(claim, fields.paid, at(fields.paid)),
      patientResponsibility: amount(claim, fields.patientResponsibility, at(fields.patientResponsibility ?? ''), true),
      payerClaimNumber: typeof reference === 'string' ? reference : null,
      reasons: Array.isArray(reasons) ? reasons.map(String) : [],
    };
  });
  if (problems.length > 0) throw new BadRemittance(problems);
  return [{ traceNumber: traceNumber as string, paymentAmount, currency: currency as string, paymentDate: paymentDate as string, claims }];
}

/** A date as written in `format`, as YYYY-MM-DD; undefined when it is not a real date. */
function isoDate(value: string | null, format: 'YYYY-MM-DD' | 'DD/MM/YYYY'): string | undefined {
  if (value === null) return '';
  const match = format === 'DD/MM/YYYY' ? /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(value) : /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return undefined;
  const [year, month, day] = format === 'DD/MM/YYYY' ? [match[3], match[2], match[1]] : [match[1], match[2], match[3]];
  const iso = `${year}-${month}-${day}`;
  const parsed = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(iso) ? iso : undefined;
}

export interface AppliedRemittance {
  remittanceId: string | null;
  duplicate: boolean;
  settled: number;
  denied: number;
  unmatched: number;
}

/** Applies one remittance of a payer, once. */
export async function applyRemittance(prisma: PrismaClient, payerId: string, advice: RemittanceAdvice): Promise<AppliedRemittance> {
  try {
    return await prisma.$transaction(async (tx) => {
      const remittance = await tx.remittance.create({
        data: { payerId, traceNumber: advice.traceNumber, paymentAmount: advice.paymentAmount, currency: advice.currency, paymentDate: new Date(advice.paymentDate), unmatched: [] },
      });
      const unmatched: Array<{ claimId: string; paid: number }> = [];
      let settled = 0;
      let denied = 0;
      for (const line of advice.claims) {
        const claim = await tx.claim.findFirst({ where: { id: isUuid(line.claimId) ? line.claimId : '00000000-0000-0000-0000-000000000000', payerId } });
        if (!claim) {
          unmatched.push({ claimId: line.claimId, paid: line.paid });
          continue;
        }
        const outcome = await adjudicate(tx, claim.id, remittance.id, line);
        if (outcome === 'settled') settled++;
        if (outcome === 'denied') denied++;
      }
      if (unmatched.length) await tx.remittance.update({ where: { id: remittance.id }, data: { unmatched: unmatched as Prisma.InputJsonValue } });
      return { remittanceId: remittance.id, duplicate: false, settled, denied, unmatched: unmatched.length };
    });
  } catch (error) {
    // The same remittance again (a redelivery): already applied, nothing changes.
    if (isUniqueViolation(error)) return { remittanceId: null, duplicate: true, settled: 0, denied: 0, unmatched: 0 };
    throw error;
  }
}

/**
 * One claim of a remittance. A claim sent and not yet acknowledged is accepted first (an 835
 * may come before the 277CA was read). A claim the payer had accepted, or one under appeal
 * (the remittance is the payer's decision on it), is adjudicated: approved, partly approved or
 * denied. An approved claim is then paid (also one approved earlier by an appeal decided by
 * letter); what an appeal brings is added to what was paid before.
 */
async function adjudicate(tx: TransactionClient, claimId: string, remittanceId: string, line: RemittanceAdvice['claims'][number]): Promise<'settled' | 'denied' | 'skipped'> {
  const accepted = await move(tx, { id: claimId }, ['SUBMITTED'], 'ACCEPTED', null, 'accepted (adjudicated by the payer)', line.payerClaimNumber ? { payerClaimNumber: line.payerClaimNumber } : {});
  if (accepted) await recordEvent(tx, InsuranceEvents.claimAccepted, { aggregateId: claimId, organizationId: accepted.organizationId, payload: { ...eventFields(accepted), payerClaimNumber: accepted.payerClaimNumber } });
  const before = await tx.claim.findUnique({ where: { id: claimId } });
  if (!before) return 'skipped';
  const paidBefore = before.paidAmount ?? 0;
  const approvedAmount = paidBefore + line.paid;
  if (before.status === 'APPEALED') {
    await decideAppeal(tx, claimId, line.paid > 0 ? approvedAmount : null, null, `decided by remittance ${remittanceId}`);
  } else if (before.status === 'ACCEPTED') {
    const adjudication = line.denied ? 'DENIED' : line.paid >= line.charge ? 'APPROVED' : 'PARTIALLY_APPROVED';
    const adjudicated = await move(tx, { id: claimId }, ['ACCEPTED'], 'ADJUDICATED', null, `adjudicated ${adjudication.toLowerCase().replace('_', ' ')} (remittance ${remittanceId})`, {
      adjudication, approvedAmount: line.paid, reasons: line.reasons, ...(line.payerClaimNumber ? { payerClaimNumber: line.payerClaimNumber } : {}),
    });
    if (!adjudicated) return 'skipped';
    if (adjudication === 'DENIED') {
      await recordEvent(tx, InsuranceEvents.claimDenied, { aggregateId: claimId, organizationId: adjudicated.organizationId, payload: { ...eventFields(adjudicated), reasons: line.reasons } });
      return 'denied';
    }
    await recordEvent(tx, InsuranceEvents.claimApproved, { aggregateId: claimId, organizationId: adjudicated.organizationId, payload: { ...eventFields(adjudicated), adjudication, approvedAmount: line.paid } });
  }
  const now = await tx.claim.findUnique({ where: { id: claimId } });
  if (!now || now.status !== 'ADJUDICATED' || now.adjudication === 'DENIED' || line.paid === 0) return before.status === 'APPEALED' && line.paid === 0 ? 'denied' : 'skipped';
  const paid = await move(tx, { id: claimId }, ['ADJUDICATED'], 'PAID', null, `paid by remittance ${remittanceId}`, { paidAmount: approvedAmount, patientResponsibility: line.patientResponsibility });
  if (!paid) return 'skipped';
  await recordEvent(tx, InsuranceEvents.claimSettled, { aggregateId: claimId, organizationId: paid.organizationId, payload: { ...eventFields(paid), paidAmount: line.paid, patientResponsibility: line.patientResponsibility, remittanceId } });
  return 'settled';
}

const isUuid = (value: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

/** Payers sign with `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`; older than five minutes is a replay. */
export const SIGNATURE_HEADER = 'x-payer-signature';
const TOLERANCE_SECONDS = 300;

export function signRemittance(secret: string, body: Buffer | string, at = Math.floor(Date.now() / 1000)): string {
  return `t=${at},v1=${createHmac('sha256', secret).update(`${at}.`).update(body).digest('hex')}`;
}

function verified(secret: string, header: string | undefined, body: Buffer): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((part) => part.split('=', 2) as [string, string]));
  const at = Number(parts['t']);
  const given = parts['v1'] ?? '';
  if (!Number.isInteger(at) || Math.abs(Date.now() / 1000 - at) > TOLERANCE_SECONDS || !/^[0-9a-f]{64}$/.test(given)) return false;
  const expected = createHmac('sha256', secret).update(`${at}.`).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}

/** `POST /webhooks/insurance/:payer/remittance` (public: payers post to the gateway's address). */
export const remittanceWebhookRoute: SubgraphRoute = {
  method: 'POST',
  path: '/webhooks/insurance/:payer/remittance',
  public: true,
  async handle(request, deps: SubgraphDeps): Promise<RouteResponse> {
    const code = request.params['payer'] ?? '';
    const endpoint = settingsOf(deps).payers[code];
    const payer = endpoint?.webhookSecret ? await deps.prisma.payer.findUnique({ where: { code } }) : null;
    if (!payer || !endpoint?.webhookSecret) return errorResponse('NOT_FOUND', 'No such payer takes remittances here');
    // Checked over the raw bytes before anything is read or stored.
    if (!verified(endpoint.webhookSecret, request.headers[SIGNATURE_HEADER] as string | undefined, request.body)) return errorResponse('BAD_REQUEST', 'The payer signature does not verify');
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim();
    const text = request.body.toString('utf8');
    let advices: RemittanceAdvice[];
    try {
      if (type === 'application/edi-x12') advices = adviceFrom835(text, payer.currency);
      else if (type === 'application/fhir+json') advices = adviceFromFhir(text);
      else if (type === 'application/json') advices = adviceFromJson(text, endpoint.mapping?.remittance, payer.currency);
      else return errorResponse('BAD_REQUEST', 'Send an 835 (application/edi-x12), a ClaimResponse (application/fhir+json) or JSON');
    } catch (error) {
      if (error instanceof BadRemittance) return { status: 400, body: { errors: [{ message: 'The remittance cannot be read; nothing was applied', extensions: { code: 'BAD_REQUEST', problems: error.problems } }] } };
      throw error;
    }
    const results: AppliedRemittance[] = [];
    for (const advice of advices) results.push(await applyRemittance(deps.prisma, payer.id, advice));
    deps.log.info({ payer: code, remittances: results.length, settled: results.reduce((sum, r) => sum + r.settled, 0) }, 'remittance applied');
    return { status: 200, body: { remittances: results } };
  },
};

/**
 * The file drop: payers (or a clearinghouse's SFTP) leave 835 files in
 * `<remittanceDropDir>/<PAYER CODE>/`. Each file is applied like a posted 835 and moved to
 * `processed/`, or, when it does not read, to `failed/` with the positioned errors beside it
 * (`<file>.errors.json`): nothing is applied from it and nothing is lost. A file already
 * applied (same trace) is recognised and moved to `processed/` too.
 */
export const remittanceDropWorker: SubgraphWorker = {
  name: 'remittance-drop',
  intervalMs: 5_000,
  async step(deps) {
    const root = settingsOf(deps).remittanceDropDir;
    if (!root) return 0;
    let handled = 0;
    const payers = await readdir(root, { withFileTypes: true }).catch(() => []);
    for (const folder of payers.filter((entry) => entry.isDirectory())) {
      const payer = await deps.prisma.payer.findUnique({ where: { code: folder.name } });
      if (!payer) continue;
      const dir = join(root, folder.name);
      for (const file of (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isFile() && !entry.name.startsWith('.'))) {
        const path = join(dir, file.name);
        try {
          for (const advice of adviceFrom835(await readFile(path, 'utf8'), payer.currency)) await applyRemittance(deps.prisma, payer.id, advice);
          await moveInto(dir, 'processed', file.name);
        } catch (error) {
          if (!(error instanceof BadRemittance)) throw error;
          await moveInto(dir, 'failed', file.name);
          await writeFile(join(dir, 'failed', `${file.name}.errors.json`), JSON.stringify(error.problems, null, 2));
          deps.log.warn({ payer: payer.code, file: file.name }, 'remittance file refused');
        }
        handled++;
      }
    }
    return handled;
  },
};

async function moveInto(dir: string, folder: 'processed' | 'failed', name: string): Promise<void> {
  await mkdir(join(dir, folder), { recursive: true });
  await rename(join(dir, name), join(dir, folder, name));
}
