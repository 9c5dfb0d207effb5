import { z } from 'zod';
import { defineEvent } from './define.js';
import { id } from './fields.js';

/** Cohort and organization figures. */
export const AnalyticsEvents = {
  figuresUpdated: defineEvent({
    type: 'analytics.figures.updated',
    version: 1,
    source: 'analytics',
    description: 'An organization’s figures changed (cached BI answers for it are dropped). A rebuild announces it for all organizations (organizationId null).',
    payload: z.object({
      organizationId: id.nullable(),
      area: z.enum(['training', 'nurse', 'billing', 'insurance', 'all']),
      cause: z.string().min(1),
      causeEventId: id.optional(),
    }),
  }),
} as const;
