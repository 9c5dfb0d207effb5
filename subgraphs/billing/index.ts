import type { SubgraphDefinition } from '../kit/subgraph.js';
import { billingPermissions } from './permissions.js';
import { buildBillingSchema } from './schema.js';
import { stripeWebhookRoute } from './webhooks.js';

export const billingSubgraph: SubgraphDefinition = {
  name: 'billing',
  defaultPort: 4105,
  buildSchema: buildBillingSchema,
  permissions: billingPermissions,
  // Public: Stripe posts to the gateway's address, which proxies the raw body here.
  routes: [stripeWebhookRoute],
};
