import { directoryConsumer } from '../kit/directory.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { learnerAccounts } from './learners.js';
import { identityPermissions } from './permissions.js';
import { identityPolicies } from './policies.js';
import { messagingInboundRoute, messagingStatusRoute, notificationConsumer, notificationSender } from './notifications.js';
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
  // Twilio reports messages' status and patients' replies (STOP) at the gateway's address.
  routes: [...credentialRoutes, messagingStatusRoute, messagingInboundRoute],
  // Webhook endpoints and API keys may be limited to a training partner of the admin's
  // organization; learners become users; other domains' events become messages to patients.
  consumers: [directoryConsumer('identity', ['Partner']), learnerAccounts, notificationConsumer],
  // Messages due are sent (retried, then reported).
  workers: [notificationSender],
};
