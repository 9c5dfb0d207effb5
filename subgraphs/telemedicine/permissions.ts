import { Role } from '../kit/identity.js';
import { hasRole, type IRules } from '../kit/shield.js';
import { TELE_STAFF } from './policies.js';

/**
 * Patients book, triage and join their own consultations; nurses, clinicians and administrators
 * of the organization book for its patients and read its consultations; the consultation's
 * clinician extends it and joins it. Nobody else (the services check whose record it is, and
 * policies.ts which rows a caller sees).
 */
const staff = hasRole(...TELE_STAFF);
const staffOrPatient = hasRole(Role.PATIENT, ...TELE_STAFF);
/** The patient and the clinician; a nurse or clinician the service finds invited. */
const participant = hasRole(Role.PATIENT, Role.CLINICIAN, Role.NURSE);

export const telemedicinePermissions: IRules = {
  Query: { clinicianAgenda: staff, prescription: staffOrPatient, consultation: staffOrPatient, clinicianSchedule: staffOrPatient, availableSlots: staffOrPatient, clinicianConsultations: staff, triage: staffOrPatient },
  Mutation: {
    setAvailability: hasRole(Role.CLINICIAN),
    bookConsultation: staffOrPatient,
    extendConsultation: hasRole(Role.CLINICIAN, Role.ADMIN),
    cancelConsultation: staffOrPatient,
    joinConsultation: participant,
    recordConsultationReport: hasRole(Role.CLINICIAN),
    addParticipant: hasRole(Role.CLINICIAN, Role.ADMIN),
    requestRecording: hasRole(Role.CLINICIAN),
    consentToRecording: hasRole(Role.PATIENT),
    issuePrescription: hasRole(Role.CLINICIAN),
    revokePrescription: hasRole(Role.CLINICIAN, Role.ADMIN),
    createRecordShare: hasRole(Role.PATIENT),
    revokeRecordShare: hasRole(Role.PATIENT),
  },
  ConsultationReport: staffOrPatient,
  AgendaItem: staff,
  ConsultationParticipant: staffOrPatient,
  ConsultationRecording: staffOrPatient,
  Diagnosis: staffOrPatient,
  Prescription: staffOrPatient,
  RecordShare: hasRole(Role.PATIENT),
  CreatedRecordShare: hasRole(Role.PATIENT),
  Consultation: staffOrPatient,
  ConsultationFee: staffOrPatient,
  Triage: staffOrPatient,
  BookingResult: staffOrPatient,
  ClinicianSchedule: staffOrPatient,
  ScheduleWindow: staffOrPatient,
  Slot: staffOrPatient,
  VideoAccess: participant,
  IceServer: participant,
  Patient: staffOrPatient,
};
