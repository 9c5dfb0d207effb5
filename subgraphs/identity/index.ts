import { directoryConsumer } from '../kit/directory.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { learnerAccounts } from './learners.js';
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
  // Webhook endpoints and API keys may be limited to a training partner of the admin's
  // organization; learners become users.
  consumers: [directoryConsumer('identity', ['Partner']), learnerAccounts],
};
