import { directoryConsumer } from '../kit/directory.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { devicesPermissions } from './permissions.js';
import { devicesPolicies } from './policies.js';
import { hl7HttpRoute } from './results.js';
import { buildDevicesSchema } from './schema.js';
import { patientIdentifierConsumer } from './patients.js';
import { mllpListener } from './service.js';
import { googleHealthWebhookRoute, wearableSync } from './wearables.js';

export const devicesSubgraph: SubgraphDefinition = {
  name: 'devices',
  defaultPort: 4108,
  buildSchema: buildDevicesSchema,
  permissions: devicesPermissions,
  policies: devicesPolicies,
  // Public: labs post results to the gateway's address with their device-integration key;
  // Google Health posts its notifications with its subscriber secret.
  routes: [hl7HttpRoute, googleHealthWebhookRoute],
  // Wearables synced when due or notified; revocations retried; secrets sealed again after a key rotation.
  workers: [wearableSync],
  // The lab's MLLP port, when configured (DEVICES_MLLP_PORT).
  listeners: [mllpListener],
  // Which organization each patient belongs to (assignment), and their MRN digests (matching).
  consumers: [directoryConsumer('devices', ['Patient']), patientIdentifierConsumer],
};
