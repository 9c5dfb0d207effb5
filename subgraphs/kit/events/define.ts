import type { z } from 'zod';

/**
 * One event type of the platform: its name, version, who produces it, what it means and the
 * schema of its payload. Producers and consumers import the same definition (from the
 * catalogue in this folder), so the payload a consumer reads is the one the producer wrote.
 */
export interface EventDefinition<Schema extends z.ZodType = z.ZodType> {
  /** `<domain>.<thing>.<happened>`, e.g. `training.session.completed`. */
  readonly type: string;
  /** Bumped when the payload changes incompatibly; consumers see it on every event. */
  readonly version: number;
  /** The subgraph that records it (the outbox row's `source`). */
  readonly source: string;
  /** For partners reading webhooks: what happened, and when it is sent. */
  readonly description: string;
  readonly payload: Schema;
}

export type EventPayload<E extends EventDefinition> = z.infer<E['payload']>;

export function defineEvent<Schema extends z.ZodType>(definition: EventDefinition<Schema>): EventDefinition<Schema> {
  return Object.freeze(definition);
}
