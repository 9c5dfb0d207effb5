import type { Prisma, WebhookDelivery, WebhookEndpoint } from '../../prisma/generated/client/client.js';
import { badUserInput, InputProblems } from '../kit/errors.js';
import { EVENT_TYPES } from '../kit/events/catalogue.js';
import { requireSignedIn, requireStaffOf } from '../kit/identity.js';
import { newWebhookSecret, replayDeadLetters } from '../kit/outbox.js';
import type { Ctx } from './context.js';
import { ADMINS } from './policies.js';

/**
 * Webhook endpoints, administered by an organization's admins (policies.ts): the outbox relay
 * fans the organization's events out to them, the dispatcher delivers, signed and retried.
 */

const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** Production endpoints must be HTTPS; plain HTTP only to this machine (development, tests). */
function acceptableWebhookUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    if (url.protocol === 'https:') return true;
    return url.protocol === 'http:' && process.env['NODE_ENV'] !== 'production' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

export interface WebhookEndpointInput {
  url: string;
  eventTypes: string[];
  /** Only events for this training partner (one of the admin's organization). */
  partnerId?: string | null;
}

export async function createWebhookEndpoint(ctx: Ctx, input: WebhookEndpointInput): Promise<{ secret: string; endpoint: WebhookEndpoint }> {
  const caller = requireStaffOf(ctx.identity, ADMINS, 'Only an organization admin may register webhook endpoints');
  const problems = new InputProblems();
  problems.check(acceptableWebhookUrl(input.url), 'input.url', 'must be an https URL');
  problems.check(input.eventTypes.length > 0 && input.eventTypes.length <= 50, 'input.eventTypes', 'list 1-50 event types, or *');
  for (const type of input.eventTypes.slice(0, 50)) {
    problems.check(type === '*' || KNOWN_EVENT_TYPES.has(type), 'input.eventTypes', `${JSON.stringify(type.slice(0, 100))} is not an event type of the catalogue (such as training.session.completed), or *`);
  }
  problems.throwIfAny();
  // A partner of another organization is FORBIDDEN, an unknown one NOT_FOUND: nothing written.
  if (input.partnerId) await ctx.directory.require('Partner', input.partnerId, [caller.organizationId]);
  const secret = newWebhookSecret();
  const endpoint = await ctx.db.webhookEndpoint.create({
    data: { organizationId: caller.organizationId, url: input.url, eventTypes: [...new Set(input.eventTypes)], partnerId: input.partnerId ?? null, secret },
  });
  return { secret, endpoint };
}

export async function listWebhookEndpoints(ctx: Ctx): Promise<WebhookEndpoint[]> {
  requireSignedIn(ctx.identity);
  return ctx.db.webhookEndpoint.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

export async function deactivateWebhookEndpoint(ctx: Ctx, id: string): Promise<WebhookEndpoint> {
  requireSignedIn(ctx.identity);
  return ctx.db.webhookEndpoint.update({ where: { id }, data: { active: false } });
}

/** Requeues the organization's dead-lettered deliveries (all, or the ids given). */
export async function replayWebhookDeadLetters(ctx: Ctx, deliveryIds?: readonly string[] | null): Promise<number> {
  const caller = requireStaffOf(ctx.identity, ADMINS, 'Only an organization admin may replay webhook deliveries');
  return replayDeadLetters(ctx.db, caller.organizationId, deliveryIds ?? undefined);
}

// ---------------------------------------------------------------- deliveries, paged

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'DEAD';
export type DeliveryRow = WebhookDelivery & { eventType: string };

export interface Page<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export const DELIVERIES_PAGE = { default: 50, max: 200 } as const;

/** Opaque to clients: the position (creation time, then id) of the last delivery seen. */
function deliveryCursor(row: Pick<WebhookDelivery, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

function parseDeliveryCursor(cursor: string): { createdAt: Date; id: string } {
  const malformed = badUserInput('after', 'is not a cursor of this list');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw malformed;
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw malformed;
  const [at, id] = decoded as unknown[];
  const createdAt = typeof at === 'string' ? new Date(at) : null;
  if (!createdAt || Number.isNaN(createdAt.getTime()) || typeof id !== 'string' || id.length === 0 || id.length > 64) throw malformed;
  return { createdAt, id };
}

/**
 * The organization's webhook deliveries, newest first, a page at a time. The order (creation
 * time, then id) is total, so a cursor stays valid while new deliveries arrive: they come
 * before it, never into the pages after it.
 */
export async function listWebhookDeliveries(ctx: Ctx, options: { status?: DeliveryStatus | null; first?: number | null; after?: string | null }): Promise<Page<DeliveryRow>> {
  requireSignedIn(ctx.identity);
  const first = options.first ?? DELIVERIES_PAGE.default;
  if (!Number.isInteger(first) || first < 0 || first > DELIVERIES_PAGE.max) throw badUserInput('first', `must be between 0 and ${DELIVERIES_PAGE.max}`);
  const after = options.after ? parseDeliveryCursor(options.after) : null;
  const where: Prisma.WebhookDeliveryWhereInput[] = [];
  if (options.status) where.push({ status: options.status });
  if (after) where.push({ OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] });
  const rows = await ctx.db.webhookDelivery.findMany({
    where: { AND: where },
    include: { event: { select: { type: true } } },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: first + 1,
  });
  const edges = rows.slice(0, first).map(({ event, ...delivery }) => ({ cursor: deliveryCursor(delivery), node: { ...delivery, eventType: event.type } }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
