import { z } from 'zod';
import { defineEvent } from './define.js';
import { id } from './fields.js';

/** Patient chat with the assistant. */
export const ChatEvents = {
  redFlagRaised: defineEvent({
    type: 'chat.red_flag.raised',
    version: 1,
    source: 'chat',
    description: 'A patient’s chat message raised red flags (codes and urgency only, never the words); the nurse queue turns it into an entry.',
    payload: z.object({
      sessionId: id,
      messageId: id,
      patientId: id,
      organizationId: id,
      flags: z.array(z.object({ code: z.string().min(1).max(100), urgency: z.enum(['critical', 'high']) })).min(1),
    }),
  }),
} as const;
