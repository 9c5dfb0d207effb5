import type { SubgraphContext, SubgraphDeps } from '../../subgraphs/kit/context.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { stripeWebhookRoute } from '../../subgraphs/billing/webhooks.js';

/**
 * The Stripe webhook route's answers before anything is stored, in the kit's vocabulary:
 * BAD_REQUEST (400) for a missing signature, SERVICE_UNAVAILABLE (503) when this process has no
 * webhook secret to verify with. (Signed, forged and replayed deliveries: billing.e2e.test.ts.)
 */
function deliver(deps: Partial<SubgraphDeps>, headers: Record<string, string>) {
  const request = { method: 'POST', url: new URL('http://billing/webhooks/stripe'), params: {}, headers, body: Buffer.from('{"id":"evt_1"}'), identity: { kind: 'anonymous' as const } };
  // No database: a route that touched one before verifying would fail here.
  const all = { log: createLogger('billing-webhook-test'), ...deps } as SubgraphDeps;
  return stripeWebhookRoute.handle(request, all, all as SubgraphContext);
}

describe('the Stripe webhook route', () => {
  it('answers BAD_REQUEST without a Stripe-Signature header', async () => {
    const response = await deliver({ stripe: { webhookSecret: 'whsec_test' } }, {});
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('answers BAD_REQUEST for a signature that does not verify', async () => {
    const response = await deliver({ stripe: { webhookSecret: 'whsec_test' } }, { 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=00` });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('answers SERVICE_UNAVAILABLE when webhooks are not configured', async () => {
    const response = await deliver({ stripe: {} }, { 'stripe-signature': 't=1,v1=00' });
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ errors: [{ extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
  });
});
