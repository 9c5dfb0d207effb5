import type { SubgraphDefinition } from '../kit/subgraph.js';
import { nursePermissions } from './permissions.js';
import { buildNurseSchema } from './schema.js';
import { redFlagConsumer } from './service.js';

export const nurseSubgraph: SubgraphDefinition = {
  name: 'nurse',
  defaultPort: 4104,
  buildSchema: buildNurseSchema,
  permissions: nursePermissions,
  routes: [],
  consumers: [redFlagConsumer],
};
