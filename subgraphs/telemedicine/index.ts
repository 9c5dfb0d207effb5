import { directoryConsumer } from '../kit/directory.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { feePaymentConsumer } from './consultations.js';
import { partnerSync } from './partners.js';
import { telemedicinePermissions } from './permissions.js';
import { telemedicinePolicies } from './policies.js';
import { buildTelemedicineSchema } from './schema.js';
import { rxVerifyRoute } from './prescriptions.js';
import { shareFhirRoute, sharePageRoute } from './shares.js';
import { twilioVideoCallbackRoute } from './video.js';

export const telemedicineSubgraph: SubgraphDefinition = {
  name: 'telemedicine',
  defaultPort: 4107,
  buildSchema: buildTelemedicineSchema,
  permissions: telemedicinePermissions,
  policies: telemedicinePolicies,
  // Public: Twilio posts room status callbacks; anyone checks a prescription's token; a patient's
  // shared link opens their summary (page and FHIR Bundle).
  routes: [twilioVideoCallbackRoute, rxVerifyRoute, sharePageRoute, shareFhirRoute],
  // Which organization each patient belongs to (booking), and fees paid at billing.
  consumers: [directoryConsumer('telemedicine', ['Patient']), feePaymentConsumer],
  // Partner platforms' bookings mirrored in, ours pushed out.
  workers: [partnerSync],
};
