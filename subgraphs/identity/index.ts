import { directoryConsumer } from '../kit/directory.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { identityPermissions } from './permissions.js';
import { identityPolicies } from './policies.js';
import { credentialRoutes } from './routes.js';
import { buildIdentitySchema } from './schema.js';
import { seedIdentity } from './seed.js';

export const identitySubgraph: SubgraphDefinition = {
  name: 'identity',
  defaultPort: 4101,
  buildSchema: buildIdentitySchema,
  permissions: identityPermissions,
  policies: identityPolicies,
  seed: seedIdentity,
  routes: credentialRoutes,
  // Webhook endpoints may be limited to a training partner of the admin's organization.
  consumers: [directoryConsumer('identity', ['Partner'])],
};
