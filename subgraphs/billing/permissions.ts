import { Role } from '../kit/identity.js';
import { hasRole, type IRules } from '../kit/shield.js';
import { BILLING_STAFF } from './policies.js';

/**
 * Billing staff and administrators manage their organization's invoices; a patient sees and
 * pays only their own (policies.ts decides which invoice is whose). Nobody else.
 */
const staff = hasRole(...BILLING_STAFF);
const staffOrPatient = hasRole(Role.PATIENT, ...BILLING_STAFF);

export const billingPermissions: IRules = {
  Query: { invoice: staffOrPatient, invoices: staff, reconciliationReport: staff },
  Mutation: {
    createInvoice: staff,
    finalizeInvoice: staff,
    voidInvoice: staff,
    startCheckout: staffOrPatient,
    createPaymentIntent: staffOrPatient,
    refundPayment: staff,
  },
  Invoice: staffOrPatient,
  InvoiceLine: staffOrPatient,
  Payment: staffOrPatient,
  Refund: staffOrPatient,
  CheckoutSession: staffOrPatient,
  PaymentIntentResult: staffOrPatient,
  Patient: staffOrPatient,
  // Telemedicine's consultation, extended with its fee's invoice (which the policy shows only to its patient and the organization's staff).
  Consultation: staffOrPatient,
  InvoiceSource: staffOrPatient,
  ReconciliationReport: staff,
  ReconciliationItem: staff,
};
