import { badUserInput, notFound } from '../kit/errors.js';
import { requireRole, Role } from '../kit/identity.js';
import { PayerUnavailable, type NetworkProvider } from './adapters/payer.js';
import { INSURANCE_STAFF } from './policies.js';
import { cacheOf, payersOf, type Ctx } from './service.js';

/**
 * Provider networks: which providers a payer has in its network at a place, and in which tier
 * (Premium, Standard, Teaching), read from the payer's directory and kept for 24 hours. A claim
 * drafted for a provider outside the payer's network is flagged (`Claim.outOfNetwork`), not
 * refused: the payer decides what it pays.
 */
export const NETWORK_CACHE_SECONDS = 24 * 3600;

export interface ProviderNetwork {
  payerId: string;
  location: string;
  providers: NetworkProvider[];
  /** Served from the 24-hour cache. */
  cached: boolean;
  fetchedAt: Date;
}

export async function providerNetwork(ctx: Ctx, payerId: string, location: string): Promise<ProviderNetwork> {
  requireRole(ctx.identity, [Role.PATIENT, ...INSURANCE_STAFF], 'You may not read provider networks');
  const place = location.trim();
  if (place.length < 1 || place.length > 80) throw badUserInput('location', 'must be 1-80 characters (a city)');
  const payer = await ctx.db.payer.findUnique({ where: { id: payerId } });
  if (!payer) throw notFound('Payer');
  return networkOf(ctx, payer, place);
}

async function networkOf(ctx: Ctx, payer: { id: string; code: string; name: string }, location: string): Promise<ProviderNetwork> {
  const cache = cacheOf(ctx);
  const key = `insurance:network:${payer.code}:${location.toLowerCase()}`;
  const hit = await cache.get<{ providers: NetworkProvider[]; fetchedAt: string }>(key);
  if (hit && Date.now() - Date.parse(hit.fetchedAt) < NETWORK_CACHE_SECONDS * 1000) {
    return { payerId: payer.id, location, providers: hit.providers, cached: true, fetchedAt: new Date(hit.fetchedAt) };
  }
  const providers = await payersOf(ctx).providerNetwork({ payer: { code: payer.code, name: payer.name }, location });
  const fetchedAt = new Date();
  await cache.set(key, { providers, fetchedAt: fetchedAt.toISOString() }, NETWORK_CACHE_SECONDS);
  return { payerId: payer.id, location, providers, cached: false, fetchedAt };
}

/**
 * Whether the organization is outside the payer's network where it practises: null when that
 * cannot be known (no location on its enrollment, or the payer's directory cannot be read).
 */
export async function outOfNetwork(ctx: Ctx, organizationId: string, payer: { id: string; code: string; name: string }): Promise<boolean | null> {
  const enrollment = await ctx.db.payerEnrollment.findUnique({ where: { organizationId_payerId: { organizationId, payerId: payer.id } } });
  if (!enrollment?.location) return null;
  try {
    const network = await networkOf(ctx, payer, enrollment.location);
    return !network.providers.some((provider) => provider.providerNumber === enrollment.providerNumber);
  } catch (error) {
    if (!(error instanceof PayerUnavailable)) throw error;
    ctx.log.warn({ payer: payer.code, reason: error.reason }, 'provider network unavailable; claim network status unknown');
    return null;
  }
}
