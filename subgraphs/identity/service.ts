/**
 * People and tenancy: identity's services, by concern. What a caller may read and change is
 * decided once, by the access policies (policies.ts) on the request's `ctx.db`; the services
 * hold the rules that are not about rows (which fields a patient may edit, valid input, events).
 */
export * from './api-keys.js';
export * from './organizations.js';
export * from './patients.js';
export * from './users.js';
export * from './webhooks.js';
export { ADMINS, CLINICAL_STAFF, PATIENT_EDITORS } from './policies.js';
