import { z } from 'zod';
import { defineEvent } from './define.js';
import { id, int32, isoTime } from './fields.js';

/** The live nurse queue. */
export const NurseEvents = {
  queueChanged: defineEvent({
    type: 'nurse.queue.changed',
    version: 1,
    source: 'nurse',
    description: 'A queue entry was added, changed or closed. Carries its whole timeline-relevant state, so readers can apply events in any order by version.',
    payload: z.object({
      kind: z.enum(['ADDED', 'CHANGED', 'REMOVED']),
      entryId: id,
      organizationId: id,
      source: z.enum(['CHAT_RED_FLAG', 'TRIAGE', 'ASSESSMENT', 'LAB_RESULT', 'DEVICE_READING', 'MANUAL']),
      urgency: z.enum(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW']),
      status: z.enum(['WAITING', 'IN_REVIEW', 'APPROVED', 'OVERRIDDEN', 'ESCALATED', 'RESOLVED']),
      version: int32,
      action: z.enum(['CLAIM', 'RELEASE', 'APPROVE', 'OVERRIDE', 'ESCALATE', 'RESOLVE']).nullable(),
      at: isoTime,
      createdAt: isoTime,
      slaDueAt: isoTime,
    }),
  }),
} as const;
