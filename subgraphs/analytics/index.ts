import type { SubgraphDefinition } from '../kit/subgraph.js';
import { analyticsPermissions } from './permissions.js';
import { analyticsPolicies } from './policies.js';
import { analyticsConsumers } from './projections.js';
import { buildAnalyticsSchema } from './schema.js';

export const analyticsSubgraph: SubgraphDefinition = {
  name: 'analytics',
  defaultPort: 4109,
  buildSchema: buildAnalyticsSchema,
  permissions: analyticsPermissions,
  policies: analyticsPolicies,
  routes: [],
  consumers: analyticsConsumers,
};
