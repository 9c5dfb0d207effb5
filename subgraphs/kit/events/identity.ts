import { z } from 'zod';
import { defineEvent } from './define.js';
import { id } from './fields.js';

/** A keyed digest of an identifier (kit/identifiers.ts), hex. */
const digest = z.string().regex(/^[0-9a-f]{64}$/);

/** People and tenancy. Other domains keep a directory of patient → organization from these. */
export const IdentityEvents = {
  patientRegistered: defineEvent({
    type: 'identity.patient.registered',
    version: 1,
    source: 'identity',
    description: 'A patient record was created in an organization. Carries ids only, never the record (the MRN only as a keyed digest, for matching results from outside).',
    payload: z.object({ patientId: id, organizationId: id, mrnDigest: digest.optional() }),
  }),
  patientUpdated: defineEvent({
    type: 'identity.patient.updated',
    version: 1,
    source: 'identity',
    description: 'A patient record changed (contact details, demographics). Carries ids only, never what changed (the MRN only as a keyed digest).',
    payload: z.object({ patientId: id, organizationId: id, mrnDigest: digest.optional() }),
  }),
  notificationFailed: defineEvent({
    type: 'identity.notification.failed',
    version: 1,
    source: 'identity',
    description: 'A message to a patient (SMS, WhatsApp, email) could not be delivered after its retries: someone should reach them another way.',
    payload: z.object({ notificationId: id, patientId: id, organizationId: id, kind: z.string().max(50), channel: z.enum(['SMS', 'WHATSAPP', 'EMAIL']), attempts: z.number().int().nonnegative() }),
  }),
} as const;
