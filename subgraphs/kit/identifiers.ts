import { createHmac } from 'node:crypto';

/**
 * Patient identifiers (an MRN) travel between domains only as keyed digests: identity announces
 * each patient's MRN digest, and a domain that receives identifiers from outside (a lab's
 * PID-3) digests them the same way to find the patient — no domain but identity ever holds
 * another's identifiers in the clear, and an event or a log that carries a digest reveals
 * nothing without the platform's key.
 */
export function identifierKeyFrom(internalSecret: string): string {
  return createHmac('sha256', internalSecret).update('caregraph/patient-identifier/v1').digest('hex');
}

/** The digest of an organization's identifier (MRN): case and surrounding spaces do not matter. */
export function patientIdentifierDigest(key: string, organizationId: string, value: string): string {
  return createHmac('sha256', key).update(`${organizationId}\n${value.trim().toUpperCase()}`).digest('hex');
}
