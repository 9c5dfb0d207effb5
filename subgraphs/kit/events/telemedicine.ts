import { z } from 'zod';
import { defineEvent } from './define.js';
import { currency, id, isoTime, minorUnits, seconds } from './fields.js';

/** Consultations: ids, times, states and amounts; never the reason or the triage. */
const consultation = { consultationId: id, organizationId: id, patientId: id, clinicianId: id };

export const TelemedicineEvents = {
  consultationBooked: defineEvent({
    type: 'tele.consultation.booked',
    version: 1,
    source: 'telemedicine',
    description: 'A video consultation was booked; billing invoices its fee (tele_fee), which must be paid before anyone joins.',
    payload: z.object({ ...consultation, startsAt: isoTime, endsAt: isoTime, feeAmount: minorUnits, currency, urgency: z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']), timeZone: z.string().max(64).optional() }),
  }),
  consultationCancelled: defineEvent({
    type: 'tele.consultation.cancelled',
    version: 1,
    source: 'telemedicine',
    description: 'A consultation was cancelled before it took place.',
    payload: z.object({ ...consultation, by: z.enum(['PATIENT', 'STAFF']) }),
  }),
  roomCreated: defineEvent({
    type: 'tele.room.created',
    version: 1,
    source: 'telemedicine',
    description: 'The video room of a consultation was opened at the meeting provider.',
    payload: z.object({ ...consultation, roomSid: z.string().max(100) }),
  }),
  sessionStarted: defineEvent({
    type: 'tele.session.started',
    version: 1,
    source: 'telemedicine',
    description: 'A participant connected to the consultation’s room: it is in progress.',
    payload: z.object({ ...consultation, startedAt: isoTime }),
  }),
  sessionCompleted: defineEvent({
    type: 'tele.session.completed',
    version: 1,
    source: 'telemedicine',
    description: 'The consultation’s room ended after it was in progress: completed, with its duration.',
    payload: z.object({ ...consultation, endedAt: isoTime, durationSeconds: seconds }),
  }),
  sessionFailed: defineEvent({
    type: 'tele.session.failed',
    version: 1,
    source: 'telemedicine',
    description: 'The consultation’s room ended before anyone connected, or could not be opened.',
    payload: z.object({ ...consultation, reason: z.string().max(200) }),
  }),
  prescriptionIssued: defineEvent({
    type: 'tele.prescription.issued',
    version: 1,
    source: 'telemedicine',
    description: 'A clinician issued an e-prescription (a signed token the pharmacy verifies at /rx/verify before dispensing).',
    payload: z.object({ prescriptionId: id, consultationId: id, organizationId: id, patientId: id, prescriberId: id, quantity: z.number().int().positive(), refills: z.number().int().nonnegative(), expiresAt: isoTime }),
  }),
  prescriptionRevoked: defineEvent({
    type: 'tele.prescription.revoked',
    version: 1,
    source: 'telemedicine',
    description: 'An e-prescription was revoked: it may no longer be dispensed.',
    payload: z.object({ prescriptionId: id, organizationId: id, patientId: id }),
  }),
} as const;
