import type { Currency, Invoice, InvoiceLine, InvoiceStatus, Payment, Refund } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import { badUserInput, conflict, forbidden, InputProblems } from '../kit/errors.js';
import { requireOwnOrStaff, requireSignedIn, requireStaffOf } from '../kit/identity.js';
import { BILLING_STAFF } from './policies.js';
import { MAX_AMOUNT, type Ctx } from './service.js';

/**
 * Issuing, reading and voiding invoices. Which invoices a caller sees or changes is billing's
 * policy (policies.ts), applied by `ctx.db` to every query, which also audits them.
 */

const MAX_LINES = 100;
const STAFF_ONLY = 'Only billing staff and administrators manage invoices';
const NEWEST_FIRST = [{ createdAt: 'desc' as const }, { id: 'asc' as const }];

export interface LineInput {
  description: string;
  quantity: number;
  unitAmount: number;
}

export interface InvoiceInput {
  patientId: string;
  currency: Currency;
  lines: LineInput[];
  organizationId?: string | null;
}

/**
 * The invoice, if the caller may see it (batched per request): FORBIDDEN when it exists out
 * of the caller's sight, NOT_FOUND when it does not exist.
 */
export function loadInvoice(ctx: Ctx, id: string): Promise<Invoice> {
  requireSignedIn(ctx.identity);
  return loadVisible<Invoice>(ctx, 'Invoice', id);
}

/** The invoice another domain asked for (a consultation's fee), as the caller may see it; null when there is none or it is out of sight. */
export async function invoiceForSource(ctx: Ctx, sourceType: string, sourceId: string): Promise<Invoice | null> {
  requireSignedIn(ctx.identity);
  return ctx.loaders
    .get<string, Invoice | null>(`invoiceBySource:${sourceType}`, async (ids) => {
      const rows = await ctx.db.invoice.findMany({ where: { sourceType, sourceId: { in: [...ids] } } });
      return ids.map((id) => rows.find((row) => row.sourceId === id) ?? null);
    })
    .load(sourceId);
}

/** A patient's invoices: all of them in the caller's organization for staff, their own (issued) ones for the patient. */
export function invoicesForPatient(ctx: Ctx, patientId: string): Promise<Invoice[]> {
  requireOwnOrStaff(ctx.identity, patientId, BILLING_STAFF, 'invoices');
  return ctx.loaders
    .groupedBy<Invoice>('invoicesByPatient', (patientIds) => ctx.db.invoice.findMany({ where: { patientId: { in: patientIds } }, orderBy: NEWEST_FIRST }), (row) => row.patientId)
    .load(patientId);
}

/** An organization's invoices (staff), newest first, optionally by status. */
export function listInvoices(ctx: Ctx, organizationId: string | null | undefined, status: InvoiceStatus[] | null | undefined, first = 50): Promise<Invoice[]> {
  const caller = requireStaffOf(ctx.identity, BILLING_STAFF, STAFF_ONLY);
  if (organizationId && organizationId !== caller.organizationId) throw forbidden('You may see only your organization’s invoices');
  if (!Number.isInteger(first) || first < 1 || first > 200) throw badUserInput('first', 'must be 1-200');
  return ctx.db.invoice.findMany({ where: status?.length ? { status: { in: status } } : {}, orderBy: NEWEST_FIRST, take: first });
}

// ---------------------------------------------------------------- batched children

export function linesOf(ctx: Ctx, invoiceId: string): Promise<InvoiceLine[]> {
  return ctx.loaders
    .groupedBy<InvoiceLine>('linesByInvoice', (ids) => ctx.db.invoiceLine.findMany({ where: { invoiceId: { in: ids } }, orderBy: { position: 'asc' } }), (row) => row.invoiceId)
    .load(invoiceId);
}

export function paymentsOf(ctx: Ctx, invoiceId: string): Promise<Payment[]> {
  return ctx.loaders
    .groupedBy<Payment>('paymentsByInvoice', (ids) => ctx.db.payment.findMany({ where: { invoiceId: { in: ids } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }), (row) => row.invoiceId)
    .load(invoiceId);
}

export function refundsOf(ctx: Ctx, paymentId: string): Promise<Refund[]> {
  return ctx.loaders
    .groupedBy<Refund>('refundsByPayment', (ids) => ctx.db.refund.findMany({ where: { paymentId: { in: ids } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }), (row) => row.paymentId)
    .load(paymentId);
}

// ---------------------------------------------------------------- changes

function checkInvoiceInput(input: InvoiceInput): void {
  const problems = new InputProblems();
  problems.check(input.patientId.trim().length > 0, 'input.patientId', 'is required');
  problems.check(input.lines.length >= 1 && input.lines.length <= MAX_LINES, 'input.lines', `must have 1-${MAX_LINES} lines`);
  input.lines.forEach((line, i) => {
    const description = line.description.trim();
    problems.check(description.length >= 1 && description.length <= 200, `input.lines.${i}.description`, 'must be 1-200 characters');
    problems.check(Number.isInteger(line.quantity) && line.quantity >= 1 && line.quantity <= 1000, `input.lines.${i}.quantity`, 'must be a whole number 1-1000');
    problems.check(Number.isInteger(line.unitAmount) && line.unitAmount >= 0 && line.unitAmount <= MAX_AMOUNT, `input.lines.${i}.unitAmount`, `must be a whole number of minor units 0-${MAX_AMOUNT}`);
  });
  problems.throwIfAny();
}

/**
 * A draft invoice for a patient of the caller's organization. The patient must be one the
 * directory knows in that organization (NOT_FOUND / FORBIDDEN otherwise, nothing written); an
 * `organizationId` other than the caller's is refused by the policy.
 */
export async function createInvoice(ctx: Ctx, input: InvoiceInput): Promise<Invoice> {
  const caller = requireStaffOf(ctx.identity, BILLING_STAFF, STAFF_ONLY);
  checkInvoiceInput(input);
  const lines = input.lines.map((line, position) => ({ position, description: line.description.trim(), quantity: line.quantity, unitAmount: line.unitAmount, amount: line.quantity * line.unitAmount }));
  const total = lines.reduce((sum, line) => sum + line.amount, 0);
  if (total < 1 || total > MAX_AMOUNT) throw badUserInput('input.lines', `the total must be 1-${MAX_AMOUNT} minor units`);
  await ctx.directory.require('Patient', input.patientId, [caller.organizationId]);
  return ctx.db.invoice.create({
    data: { organizationId: input.organizationId ?? caller.organizationId, patientId: input.patientId, currency: input.currency, total, createdById: caller.subject, lines: { create: lines } },
  });
}

/** Moves an invoice from one status to another only if it is still in `from` (concurrent changes: one wins). */
async function transition(ctx: Ctx, current: Invoice, from: InvoiceStatus[], data: { status: InvoiceStatus; finalizedAt?: Date; voidedAt?: Date }, action: string): Promise<Invoice> {
  if (!from.includes(current.status)) throw conflict(`The invoice is ${current.status.toLowerCase()}; it cannot be ${action}`);
  const updated = await ctx.db.invoice.updateMany({ where: { id: current.id, status: { in: from } }, data });
  if (updated.count === 0) throw conflict('The invoice changed meanwhile; reload it');
  return ctx.db.invoice.findUniqueOrThrow({ where: { id: current.id } });
}

export async function finalizeInvoice(ctx: Ctx, id: string): Promise<Invoice> {
  requireStaffOf(ctx.identity, BILLING_STAFF, STAFF_ONLY);
  return transition(ctx, await loadInvoice(ctx, id), ['DRAFT'], { status: 'OPEN', finalizedAt: new Date() }, 'finalized');
}

/** Only an invoice nothing was paid against can be voided; one with money on it is refunded instead. */
export async function voidInvoice(ctx: Ctx, id: string): Promise<Invoice> {
  requireStaffOf(ctx.identity, BILLING_STAFF, STAFF_ONLY);
  const current = await loadInvoice(ctx, id);
  const paid = await ctx.db.payment.count({ where: { invoiceId: id, status: 'SUCCEEDED' } });
  if (paid > 0) throw conflict('Payments were made against this invoice; refund them instead of voiding it');
  return transition(ctx, current, ['DRAFT', 'OPEN'], { status: 'VOID', voidedAt: new Date() }, 'voided');
}
