import { createHash, randomBytes } from 'node:crypto';
import type { ApiKey } from '../../prisma/generated/client/client.js';
import { InputProblems, notFound } from '../kit/errors.js';
import { requireSignedIn, requireStaffOf, Role, type RoleName } from '../kit/identity.js';
import type { Ctx } from './context.js';
import { ADMINS } from './policies.js';

/**
 * API keys for machine callers (BI tools, partners' systems, jobs). An organization's admins
 * manage its keys (policies.ts); the key is shown once and only its SHA-256 is stored.
 */

/** Roles an API key may carry: machine callers, never a person's role or an admin. */
export const API_KEY_ROLES: readonly RoleName[] = [Role.BI, Role.PARTNER, Role.SERVICE, Role.BILLING, Role.DEVICE];

export const API_KEY_PREFIX = 'cgk_';

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/**
 * A PARTNER key acts for one training partner of the admin's organization, named when it is
 * made (and only then): without it the key would act for no partner. Other roles take none.
 */
export async function createApiKey(ctx: Ctx, input: { name: string; role: RoleName; partnerId?: string | null }): Promise<{ key: string; apiKey: ApiKey }> {
  const caller = requireStaffOf(ctx.identity, ADMINS, 'Only an organization admin may create API keys');
  const problems = new InputProblems();
  const name = input.name.trim();
  problems.check(name.length >= 1 && name.length <= 100, 'input.name', 'must be 1-100 characters');
  problems.check(API_KEY_ROLES.includes(input.role), 'input.role', `must be one of ${API_KEY_ROLES.join(', ')}`);
  if (input.role === Role.PARTNER) problems.check(Boolean(input.partnerId), 'input.partnerId', 'is required for a PARTNER key');
  else problems.check(!input.partnerId, 'input.partnerId', 'is only for PARTNER keys');
  problems.throwIfAny();
  // Another organization's partner is FORBIDDEN, an unknown one NOT_FOUND: nothing written.
  if (input.partnerId) await ctx.directory.require('Partner', input.partnerId, [caller.organizationId]);
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  const apiKey = await ctx.db.apiKey.create({
    data: {
      organizationId: caller.organizationId, name, role: input.role, partnerId: input.partnerId ?? null,
      prefix: key.slice(0, 12), keyHash: hashApiKey(key), createdById: caller.subject,
    },
  });
  return { key, apiKey };
}

/** Idempotent: revoking a revoked key answers it as it is. */
export async function revokeApiKey(ctx: Ctx, id: string): Promise<ApiKey> {
  requireSignedIn(ctx.identity);
  const existing = await ctx.db.apiKey.findUnique({ where: { id } });
  if (!existing) throw notFound('API key');
  if (existing.revokedAt) return existing;
  return ctx.db.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
}

export async function listApiKeys(ctx: Ctx): Promise<ApiKey[]> {
  requireSignedIn(ctx.identity);
  return ctx.db.apiKey.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
}
