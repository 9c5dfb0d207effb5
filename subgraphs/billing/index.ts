import { directoryConsumer } from '../kit/directory.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { billingPermissions } from './permissions.js';
import { billingPolicies } from './policies.js';
import { buildBillingSchema } from './schema.js';
import { teleFeeConsumer } from './tele-fees.js';
import { stripeWebhookRoute } from './webhooks.js';

export const billingSubgraph: SubgraphDefinition = {
  name: 'billing',
  defaultPort: 4105,
  buildSchema: buildBillingSchema,
  permissions: billingPermissions,
  policies: billingPolicies,
  // Public: Stripe posts to the gateway's address, which proxies the raw body here.
  routes: [stripeWebhookRoute],
  // Which organization each patient belongs to, so an invoice is issued only to the caller's own
  // patients; teleconsultation fees, invoiced when a consultation is booked.
  consumers: [directoryConsumer('billing', ['Patient']), teleFeeConsumer],
};
