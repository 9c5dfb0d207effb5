import type { SubgraphDefinition } from '../kit/subgraph.js';
import { chatPermissions } from './permissions.js';
import { buildChatSchema } from './schema.js';

export const chatSubgraph: SubgraphDefinition = {
  name: 'chat',
  defaultPort: 4103,
  buildSchema: buildChatSchema,
  permissions: chatPermissions,
  routes: [],
};
