import { NOTHING, type AccessPolicies, type Scope } from '../kit/access.js';
import { forbidden } from '../kit/errors.js';
import { isAuthenticated, Role, type Identity, type RoleName } from '../kit/identity.js';

/**
 * Who may read and change telemedicine's rows (kit/access.ts applies these through `ctx.db`).
 * Nurses, clinicians and administrators see their organization's consultations; a patient sees
 * their own. Schedules (hours and fee) are visible to the organization's patients and staff; a
 * clinician changes only their own. Room callbacks are system data.
 *
 * Prescriptions are read like their consultation; a patient's shared links are theirs alone.
 *
 * Audited (PHI): consultations (the reason, the triage, the report), prescriptions, shares.
 */
export const TELE_STAFF: readonly RoleName[] = [Role.NURSE, Role.CLINICIAN, Role.ADMIN];

const staffOrganization = (identity: Identity): string | null =>
  isAuthenticated(identity) && TELE_STAFF.includes(identity.role) && identity.organizationId ? identity.organizationId : null;
const ownPatient = (identity: Identity): string | null =>
  isAuthenticated(identity) && identity.role === Role.PATIENT && identity.patientId ? identity.patientId : null;

function visibleConsultations(scope: Scope) {
  const organizationId = staffOrganization(scope.identity);
  if (organizationId) return { organizationId };
  const patientId = ownPatient(scope.identity);
  return patientId ? { patientId } : NOTHING;
}

export const telemedicinePolicies: AccessPolicies = {
  Consultation: {
    read: visibleConsultations,
    write: visibleConsultations,
    create(scope, data) {
      const identity = scope.identity;
      const own = ownPatient(identity) !== null && data['patientId'] === ownPatient(identity);
      const staff = staffOrganization(identity) !== null;
      if (!isAuthenticated(identity) || !(own || staff) || data['organizationId'] !== identity.organizationId) throw forbidden('You may book only for yourself, or for patients of your organization');
    },
    audited: true,
  },
  ClinicianSchedule: {
    read: (scope) => {
      const identity = scope.identity;
      return isAuthenticated(identity) && identity.organizationId && (identity.role === Role.PATIENT || TELE_STAFF.includes(identity.role)) ? { organizationId: identity.organizationId } : { clinicianId: { in: [] } };
    },
    write: (scope) => (isAuthenticated(scope.identity) && scope.identity.role === Role.CLINICIAN ? { clinicianId: scope.identity.subject } : { clinicianId: { in: [] } }),
    create(scope, data) {
      const identity = scope.identity;
      if (!isAuthenticated(identity) || identity.role !== Role.CLINICIAN || data['clinicianId'] !== identity.subject || data['organizationId'] !== identity.organizationId) throw forbidden('Clinicians set their own hours');
    },
  },
  // A prescription is read like its consultation; written by its prescriber (the service checks who).
  Prescription: {
    read: visibleConsultations,
    write: visibleConsultations,
    create(scope, data) {
      const identity = scope.identity;
      if (!isAuthenticated(identity) || identity.role !== Role.CLINICIAN || data['prescriberId'] !== identity.subject || data['organizationId'] !== identity.organizationId) throw forbidden('Clinicians prescribe in their own organization');
    },
    audited: true,
  },
  // A patient's own shared links: nobody else sees or makes them.
  RecordShare: {
    read: (scope) => (ownPatient(scope.identity) ? { patientId: ownPatient(scope.identity) as string } : NOTHING),
    write: (scope) => (ownPatient(scope.identity) ? { patientId: ownPatient(scope.identity) as string } : NOTHING),
    create(scope, data) {
      if (!ownPatient(scope.identity) || data['patientId'] !== ownPatient(scope.identity)) throw forbidden('Patients share their own record');
    },
    audited: true,
  },
  // Read and added like their consultation (the service checks who adds).
  ConsultationParticipant: {
    read: (scope) => ({ consultation: visibleConsultations(scope) }),
    write: (scope) => ({ consultation: visibleConsultations(scope) }),
    create(scope) {
      if (!staffOrganization(scope.identity)) throw forbidden('Staff add participants');
    },
  },
  // Partners' bookings and what we pushed them: the organization's staff see them; only the sync writes.
  PartnerAppointment: {
    read: (scope) => {
      const organizationId = staffOrganization(scope.identity);
      return organizationId ? { organizationId } : NOTHING;
    },
    write: () => NOTHING,
  },
  PartnerCursor: { read: () => ({ partner: { in: [] } }), write: () => ({ partner: { in: [] } }) },
  VideoCallback: { read: () => ({ key: { in: [] } }), write: () => ({ key: { in: [] } }) },
};
