import { z } from 'zod';
import { defineEvent } from './define.js';
import { id } from './fields.js';

const status = z.enum(['DRAFT', 'SUBMITTED', 'ACCEPTED', 'REJECTED', 'ADJUDICATED', 'APPEALED', 'PAID', 'CLOSED']);
/** Amounts here are in the payer's currency (any ISO 4217 code), whole minor units. */
const money = z.number().int().nonnegative().max(2_147_483_647);
const claim = {
  claimId: id, organizationId: id, patientId: id, payerId: id,
  status, currency: z.string().regex(/^[A-Z]{3}$/), totalCharge: money,
};
function claimEvent<Extra extends z.ZodRawShape = Record<never, never>>(type: string, description: string, extra: Extra = {} as Extra) {
  return defineEvent({ type, version: 1, source: 'insurance', description, payload: z.object({ ...claim, ...extra }) });
}

/**
 * A claim's life, one event per transition (the names partners and TPAs expect), recorded in
 * the transaction that makes the change. Payloads carry ids, codes and amounts, never names.
 */
export const InsuranceEvents = {
  claimCreated: claimEvent('claim.created', 'A claim was drafted for a patient’s coverage.'),
  claimSubmitted: claimEvent('claim.submitted', 'A claim was transmitted to its payer (an 837, a FHIR Claim or the payer’s API).', { submissionId: id }),
  claimAccepted: claimEvent('claim.accepted', 'The payer acknowledged the claim as received and valid (277CA / ClaimResponse queued).', { payerClaimNumber: z.string().nullable() }),
  claimRejected: claimEvent('claim.rejected', 'The payer refused the claim before adjudication; it can be corrected and sent again.', { reasons: z.array(z.string()) }),
  claimApproved: claimEvent('claim.approved', 'The payer adjudicated the claim as approved in full or in part.', { adjudication: z.enum(['APPROVED', 'PARTIALLY_APPROVED']), approvedAmount: money }),
  claimDenied: claimEvent('claim.denied', 'The payer adjudicated the claim as denied.', { reasons: z.array(z.string()) }),
  claimAppealed: claimEvent('claim.appealed', 'Staff asked the payer to reconsider a denied or partly paid claim.', { appealId: id }),
  claimClosed: claimEvent('claim.closed', 'The claim was closed: replaced by an accepted correction, or closed by staff.', { reason: z.string(), replacedByClaimId: id.nullable() }),
  claimSettled: claimEvent('claim.settled', 'The payer paid the claim (a remittance was applied).', { paidAmount: money, patientResponsibility: money, remittanceId: id }),
} as const;
