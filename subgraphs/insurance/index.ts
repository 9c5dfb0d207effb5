import { directoryConsumer } from '../kit/directory.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { insurancePermissions } from './permissions.js';
import { insurancePolicies } from './policies.js';
import { buildInsuranceSchema } from './schema.js';
import { seedInsurance } from './seed.js';

export const insuranceSubgraph: SubgraphDefinition = {
  name: 'insurance',
  defaultPort: 4106,
  buildSchema: buildInsuranceSchema,
  permissions: insurancePermissions,
  policies: insurancePolicies,
  routes: [],
  seed: seedInsurance,
  // Which organization each patient belongs to, so cover is recorded and checked only for the caller's own patients.
  consumers: [directoryConsumer('insurance', ['Patient'])],
};
