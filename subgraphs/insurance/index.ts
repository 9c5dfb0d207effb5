import { directoryConsumer } from '../kit/directory.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { insurancePermissions } from './permissions.js';
import { insurancePolicies } from './policies.js';
import { remittanceDropWorker, remittanceWebhookRoute } from './remittance.js';
import { buildInsuranceSchema } from './schema.js';
import { seedInsurance } from './seed.js';

export const insuranceSubgraph: SubgraphDefinition = {
  name: 'insurance',
  defaultPort: 4106,
  buildSchema: buildInsuranceSchema,
  permissions: insurancePermissions,
  policies: insurancePolicies,
  // Public: payers post remittances to the gateway's address, which proxies the raw body here.
  routes: [remittanceWebhookRoute],
  seed: seedInsurance,
  // 835 files left in a drop folder (INSURANCE_REMITTANCE_DIR), applied like posted ones.
  workers: [remittanceDropWorker],
  // Which organization each patient belongs to, so cover is recorded and checked only for the caller's own patients.
  consumers: [directoryConsumer('insurance', ['Patient'])],
};
