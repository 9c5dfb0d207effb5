import { NOTHING, type AccessPolicies, type Scope, type WhereOf } from '../kit/access.js';
import { forbidden } from '../kit/errors.js';
import { isAuthenticated, Role, type Identity, type RoleName } from '../kit/identity.js';

/**
 * Who may read and change billing's rows (kit/access.ts applies these to every query a request
 * makes through `ctx.db`). Invoices are the aggregate root: billing staff and administrators
 * see and manage their organization's; a patient sees their own once issued (drafts are work
 * in progress). Lines, payments and refunds follow their invoice. Stripe's events are system
 * work only (the webhook route uses the process's client): no request reads them.
 *
 * Audited (PHI): invoices (a patient's care, priced); payments, because a payment for an
 * identifiable patient's care is health information too, and a payment is read on its own
 * (refunds by payment id, reconciliation) without its invoice; refunds, whose free-text
 * reason may describe care. Lines are read only through an invoice that was audited.
 */

/** Who manages an organization's invoices. */
export const BILLING_STAFF: readonly RoleName[] = [Role.BILLING, Role.ADMIN];

/** The organization whose invoices the caller manages; null when the caller is not billing staff of one. */
function managedOrganization(identity: Identity): string | null {
  return isAuthenticated(identity) && BILLING_STAFF.includes(identity.role) && identity.organizationId ? identity.organizationId : null;
}

/** The invoices the caller may see. */
function visibleInvoices(scope: Scope): WhereOf<'Invoice'> {
  const organizationId = managedOrganization(scope.identity);
  if (organizationId) return { organizationId };
  const identity = scope.identity;
  if (isAuthenticated(identity) && identity.role === Role.PATIENT && identity.patientId) return { patientId: identity.patientId, status: { not: 'DRAFT' } };
  return NOTHING;
}

/** The invoices the caller may change (and refund against): their organization's, for billing staff only. */
function managedInvoices(scope: Scope): WhereOf<'Invoice'> {
  const organizationId = managedOrganization(scope.identity);
  return organizationId ? { organizationId } : NOTHING;
}

/** A create's foreign key as a where value (absent or not a string: matches nothing). */
const idIn = (value: unknown): string => (typeof value === 'string' ? value : '');

export const billingPolicies: AccessPolicies = {
  Invoice: {
    read: visibleInvoices,
    write: managedInvoices,
    create(scope, data) {
      const organizationId = managedOrganization(scope.identity);
      if (!organizationId || data['organizationId'] !== organizationId) throw forbidden('You may manage only your organization’s invoices');
    },
    audited: true,
  },
  InvoiceLine: {
    read: (scope) => ({ invoice: visibleInvoices(scope) }),
    write: (scope) => ({ invoice: managedInvoices(scope) }),
    async create(scope, data) {
      const invoice = await scope.system.invoice.findFirst({ where: { AND: [{ id: idIn(data['invoiceId']) }, managedInvoices(scope)] }, select: { id: true } });
      if (!invoice) throw forbidden('You may manage only your organization’s invoices');
    },
  },
  Payment: {
    // Paying is for whoever may see the invoice: its patient online, billing staff at the desk.
    read: (scope) => ({ invoice: visibleInvoices(scope) }),
    async create(scope, data) {
      const invoice = await scope.system.invoice.findFirst({ where: { AND: [{ id: idIn(data['invoiceId']) }, visibleInvoices(scope)] }, select: { organizationId: true } });
      if (!invoice || invoice.organizationId !== data['organizationId']) throw forbidden('You may not pay this invoice');
    },
    audited: true,
  },
  Refund: {
    read: (scope) => ({ payment: { invoice: visibleInvoices(scope) } }),
    write: (scope) => ({ payment: { invoice: managedInvoices(scope) } }),
    // Checked without a query: a refund is created in the transaction that has just read and
    // locked its payment through the read policy above (a lookup on the system client would
    // wait for that transaction on a one-connection database).
    create(scope, data) {
      const organizationId = managedOrganization(scope.identity);
      if (!organizationId || data['organizationId'] !== organizationId) throw forbidden('You may refund only your organization’s payments');
    },
    audited: true,
  },
  // Written and read only by the Stripe webhook route, as system work.
  StripeEvent: { read: () => NOTHING, write: () => NOTHING },
};
