import { Role } from '../kit/identity.js';
import { hasRole, signedIn, type IRules } from '../kit/shield.js';
import { ADMINS, CLINICAL_STAFF, NOTIFICATION_READERS, PATIENT_EDITORS } from './policies.js';

/**
 * Who may call what in the identity subgraph. Everything not listed is denied. These rules
 * decide by role; ownership (which patient, which organization) is decided by the access
 * policies (policies.ts), on the same data path for root fields and `_entities` lookups.
 */
const patientReaders = hasRole(Role.PATIENT, ...CLINICAL_STAFF);
const staff = hasRole(...CLINICAL_STAFF);
/** Credentials and webhooks act for the whole organization, so only its administrators manage them. */
const admin = hasRole(...ADMINS);

export const identityPermissions: IRules = {
  Query: {
    me: signedIn,
    patient: patientReaders,
    patients: patientReaders,
    practitioners: staff,
    apiKeys: admin,
    webhookEndpoints: admin,
    webhookDeliveries: admin,
    notificationTemplates: admin,
  },
  Mutation: {
    createPatient: hasRole(...PATIENT_EDITORS),
    updatePatient: hasRole(Role.PATIENT, ...PATIENT_EDITORS),
    deactivateUser: admin,
    createApiKey: admin,
    revokeApiKey: admin,
    createWebhookEndpoint: admin,
    deactivateWebhookEndpoint: admin,
    replayWebhookDeadLetters: admin,
    setNotificationTemplate: admin,
  },
  Notification: hasRole(Role.PATIENT, ...NOTIFICATION_READERS),
  NotificationTemplate: admin,
  Patient: patientReaders,
  PatientConnection: patientReaders,
  PatientEdge: patientReaders,
  ContactPoint: patientReaders,
  User: signedIn,
  Membership: signedIn,
  Organization: signedIn,
  PageInfo: signedIn,
  Practitioner: staff,
  ApiKey: admin,
  CreatedApiKey: admin,
  WebhookEndpoint: admin,
  CreatedWebhookEndpoint: admin,
  WebhookDelivery: admin,
  WebhookDeliveryConnection: admin,
  WebhookDeliveryEdge: admin,
};
