import { z } from 'zod';
import { defineEvent } from './define.js';
import { id } from './fields.js';

const observation = {
  observationId: id,
  organizationId: id,
  patientId: id,
  /** LOINC or the lab's local code, and its system. */
  code: z.string().min(1).max(100),
  codeSystem: z.string().max(200),
  source: z.enum(['LAB', 'DEVICE']),
};

/** Results of patients: ids and codes, never values, names or message text. */
export const DevicesEvents = {
  observationAdded: defineEvent({
    type: 'devices.observation.added',
    version: 1,
    source: 'devices',
    description: 'A result (lab or wearable) was recorded for a patient, or assigned to them after reconciliation.',
    payload: z.object(observation),
  }),
  observationCritical: defineEvent({
    type: 'devices.observation.critical',
    version: 1,
    source: 'devices',
    description: 'A result is critical (HH/LL or a critical flag from the lab, or past a configured wearable threshold): the nurse queue takes it at once.',
    payload: z.object({ ...observation, display: z.string().max(200), flags: z.array(z.string().max(5)).max(10), urgency: z.enum(['CRITICAL', 'HIGH']) }),
  }),
} as const;
