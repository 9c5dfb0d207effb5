import { z } from 'zod';
import { defineEvent } from './define.js';
import { id } from './fields.js';

/** People and tenancy. Other domains keep a directory of patient → organization from these. */
export const IdentityEvents = {
  patientRegistered: defineEvent({
    type: 'identity.patient.registered',
    version: 1,
    source: 'identity',
    description: 'A patient record was created in an organization. Carries ids only, never the record.',
    payload: z.object({ patientId: id, organizationId: id }),
  }),
  patientUpdated: defineEvent({
    type: 'identity.patient.updated',
    version: 1,
    source: 'identity',
    description: 'A patient record changed (contact details, demographics). Carries ids only, never what changed.',
    payload: z.object({ patientId: id, organizationId: id }),
  }),
} as const;
