import { directoryConsumer } from '../kit/directory.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { nursePermissions } from './permissions.js';
import { nursePolicies } from './policies.js';
import { buildNurseSchema } from './schema.js';
import { criticalResultConsumer, redFlagConsumer } from './service.js';

export const nurseSubgraph: SubgraphDefinition = {
  name: 'nurse',
  defaultPort: 4104,
  buildSchema: buildNurseSchema,
  permissions: nursePermissions,
  policies: nursePolicies,
  routes: [],
  // The directory first: each pass learns of new patients before it turns red flags and critical results into entries.
  consumers: [directoryConsumer('nurse', ['Patient']), redFlagConsumer, criticalResultConsumer],
};
