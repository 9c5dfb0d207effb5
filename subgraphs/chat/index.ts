import { directoryConsumer } from '../kit/directory.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { chatPermissions } from './permissions.js';
import { chatPolicies } from './policies.js';
import { buildChatSchema } from './schema.js';

export const chatSubgraph: SubgraphDefinition = {
  name: 'chat',
  defaultPort: 4103,
  buildSchema: buildChatSchema,
  permissions: chatPermissions,
  policies: chatPolicies,
  routes: [],
  // Which organization each patient belongs to, so staff start chats only for their own patients.
  consumers: [directoryConsumer('chat', ['Patient'])],
};
