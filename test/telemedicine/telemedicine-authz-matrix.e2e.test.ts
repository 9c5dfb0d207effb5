import { randomUUID } from 'node:crypto';
import type { GraphQLClient } from 'graphql-request';
import { ORGS, PATIENTS, USERS } from '../../prisma/seed-data.js';
import { entitiesQuery, runAgainstSubgraph, runThroughGateway, type Caller, type MatrixCase } from '../support/authz-matrix.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Every role against every root field of the telemedicine subgraph and its entity lookups: the
 * patient's own consultation, another patient's, another organization's; booking for another
 * organization's patient; joining (only the participants); reports, prescriptions (own,
 * another patient's, another organization's) and shared links (the patient's alone); and the
 * Twilio callback route for each kind of caller.
 */
let t: TestPlatform;
let twilioFake: FakeTwilio;
const ids = { own: '', bayo: '', completed: '', cancelled: '', hospital: '', prescription: '', bayoPrescription: '', hospitalPrescription: '', share: '' };
const STAFF: Caller[] = ['NURSE', 'CLINICIAN', 'ADMIN'];
const CLINICIAN = USERS.clinician.id;

async function bookAs(client: GraphQLClient, patientId: string, startsAt: string): Promise<string> {
  const { bookConsultation } = await client.request<{ bookConsultation: { consultation: { id: string } } }>(
    'mutation($i: BookingInput!) { bookConsultation(input: $i) { consultation { id } } }', { i: { patientId, clinicianId: CLINICIAN, startsAt, reason: 'Repeat prescription review' } });
  return bookConsultation.consultation.id;
}

beforeAll(async () => {
  twilioFake = await new FakeTwilio().start();
  t = await startTestPlatform({ telemedicine: { twilio: twilioFake.settings() } });
  const clinician = await t.client('clinician');
  const patient = await t.client('patient');
  const nurse = await t.client('nurse');
  await clinician.request('mutation($i: ScheduleInput!) { setAvailability(input: $i) { clinicianId } }', {
    i: { timeZone: 'Africa/Lagos', windows: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '08:00', end: '18:00' })), feeAmount: 250_000, currency: 'NGN' },
  });
  const { availableSlots } = await patient.request<{ availableSlots: Array<{ startsAt: string }> }>('query($c: ID!, $f: DateTime!) { availableSlots(clinicianId: $c, from: $f, days: 7) { startsAt } }', { c: CLINICIAN, f: new Date(Date.now() + 2 * 86_400_000).toISOString() });
  const [a, b, c, d] = availableSlots.filter((_, index) => index % 4 === 0).map((slot) => slot.startsAt);
  ids.own = await bookAs(patient, PATIENTS.amaraNorth.id, a ?? '');
  ids.bayo = await bookAs(nurse, PATIENTS.bayoNorth.id, b ?? '');
  ids.completed = await bookAs(patient, PATIENTS.amaraNorth.id, c ?? '');
  ids.cancelled = await bookAs(patient, PATIENTS.amaraNorth.id, d ?? '');
  const prisma = t.platform.database.prisma;
  await prisma.consultation.update({ where: { id: ids.completed }, data: { status: 'COMPLETED' } });
  await prisma.consultation.update({ where: { id: ids.cancelled }, data: { status: 'CANCELLED', cancelledAt: new Date() } });
  // Prescriptions on the completed consultation (the patient's) and on Bayo's (another patient's).
  await prisma.consultation.update({ where: { id: ids.bayo }, data: { status: 'COMPLETED' } });
  const prescribe = async (consultationId: string): Promise<string> => (await clinician.request<{ issuePrescription: { id: string } }>(
    'mutation($c: ID!) { issuePrescription(consultationId: $c, input: {medication: "Paracetamol 500 mg tablets", dose: "2 tablets four times a day", quantity: 16, refills: 0}) { id } }', { c: consultationId })).issuePrescription.id;
  ids.prescription = await prescribe(ids.completed);
  ids.bayoPrescription = await prescribe(ids.bayo);
  ids.share = (await patient.request<{ createRecordShare: { share: { id: string } } }>(`mutation { createRecordShare(patientId: "${PATIENTS.amaraNorth.id}", hours: 2) { share { id } } }`)).createRecordShare.share.id;
  // Another organization's consultation (the hospital has no clinician seeded: written as its own subgraph would).
  ids.hospital = (await prisma.consultation.create({
    data: {
      id: randomUUID(), organizationId: ORGS.hospital.id, patientId: PATIENTS.fayeHospital.id, clinicianId: randomUUID(), bookedById: USERS.hospitalPatient.id,
      startsAt: new Date(Date.now() + 3 * 86_400_000), endsAt: new Date(Date.now() + 3 * 86_400_000 + 1_800_000), reason: 'Follow-up', triageUrgency: 'LOW', triageConfidence: 40, triage: {}, feeAmount: 0, currency: 'USD', feePaidAt: new Date(),
    },
  })).id;
  ids.hospitalPrescription = (await prisma.prescription.create({
    data: { organizationId: ORGS.hospital.id, consultationId: ids.hospital, patientId: PATIENTS.fayeHospital.id, prescriberId: randomUUID(), medication: 'x', dose: 'x', quantity: 1, refills: 0, token: 'x', expiresAt: new Date(Date.now() + 86_400_000) },
  })).id;
}, 120_000);
afterAll(async () => {
  await t?.close();
  await twilioFake?.close();
});

const UNKNOWN = '00000000-0000-4000-8000-00000000feed';
const inTwoWeeks = () => new Date(Date.now() + 14 * 86_400_000).toISOString();

const ROOT: MatrixCase[] = [
  { name: 'Query.consultation (own)', query: () => `{ consultation(id: "${ids.own}") { status reason triage { urgency } fee { paid } } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.consultation (another patient’s)', query: () => `{ consultation(id: "${ids.bayo}") { status } }`, allowed: STAFF },
  { name: 'Query.consultation (another organization’s)', query: () => `{ consultation(id: "${ids.hospital}") { status } }`, allowed: [] },
  { name: 'Query.consultation (unknown)', query: () => `{ consultation(id: "${UNKNOWN}") { status } }`, allowed: ['PATIENT', ...STAFF], allowedCode: 'NOT_FOUND' },
  { name: 'Query.clinicianSchedule', query: () => `{ clinicianSchedule(clinicianId: "${CLINICIAN}") { timeZone windows { day start end } feeAmount } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.availableSlots', query: () => `{ availableSlots(clinicianId: "${CLINICIAN}", from: "${inTwoWeeks()}", days: 1) { startsAt } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.clinicianAgenda', query: () => `{ clinicianAgenda(clinicianId: "${CLINICIAN}", from: "${new Date().toISOString()}", to: "${inTwoWeeks()}") { startsAt source consultation { id } } }`, allowed: STAFF },
  { name: 'Query.clinicianConsultations', query: () => `{ clinicianConsultations(clinicianId: "${CLINICIAN}", from: "${new Date().toISOString()}", to: "${inTwoWeeks()}") { id } }`, allowed: STAFF },
  { name: 'Query.triage (own)', query: () => `{ triage(patientId: "${PATIENTS.amaraNorth.id}", symptoms: "a cough and a sore throat") { urgency } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.triage (another patient)', query: () => `{ triage(patientId: "${PATIENTS.bayoNorth.id}", symptoms: "a cough") { urgency } }`, allowed: STAFF },
  { name: 'Query.patient consultations (own)', query: () => `{ patient(id: "${PATIENTS.amaraNorth.id}") { consultations { id } } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Mutation.setAvailability', query: () => 'mutation { setAvailability(input: {timeZone: "Africa/Lagos", windows: [{day: 1, start: "08:00", end: "18:00"}, {day: 2, start: "08:00", end: "18:00"}, {day: 3, start: "08:00", end: "18:00"}, {day: 4, start: "08:00", end: "18:00"}, {day: 5, start: "08:00", end: "18:00"}, {day: 6, start: "08:00", end: "18:00"}, {day: 7, start: "08:00", end: "18:00"}], feeAmount: 250000, currency: "NGN"}) { clinicianId } }', allowed: ['CLINICIAN'] },
  // A critical triage books nothing: the matrix changes no schedule.
  { name: 'Mutation.bookConsultation (own, critical)', query: () => `mutation { bookConsultation(input: {patientId: "${PATIENTS.amaraNorth.id}", clinicianId: "${CLINICIAN}", startsAt: "${inTwoWeeks()}", reason: "I cannot breathe and my lips are turning blue"}) { booked triage { urgency } } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Mutation.bookConsultation (another organization’s patient)', query: () => `mutation { bookConsultation(input: {patientId: "${PATIENTS.fayeHospital.id}", clinicianId: "${CLINICIAN}", startsAt: "${inTwoWeeks()}", reason: "a cough"}) { booked } }`, allowed: [] },
  { name: 'Mutation.extendConsultation', query: () => `mutation { extendConsultation(id: "${ids.own}") { endsAt } }`, allowed: ['CLINICIAN', 'ADMIN'] },
  { name: 'Mutation.cancelConsultation (already cancelled)', query: () => `mutation { cancelConsultation(id: "${ids.cancelled}", reason: "again") { status } }`, allowed: ['PATIENT', ...STAFF], allowedCode: 'CONFLICT' },
  { name: 'Mutation.cancelConsultation (another organization’s)', query: () => `mutation { cancelConsultation(id: "${ids.hospital}", reason: "not mine") { status } }`, allowed: [] },
  { name: 'Query.consultation participants, recording and readings (own)', query: () => `{ consultation(id: "${ids.own}") { patientId participants { userId role } recording { requested consented } readings { id abnormal } } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Mutation.addParticipant (another organization’s)', query: () => `mutation { addParticipant(consultationId: "${ids.hospital}", userId: "${USERS.nurse.id}", role: INTERPRETER) { userId } }`, allowed: [] },
  { name: 'Mutation.addParticipant (completed)', query: () => `mutation { addParticipant(consultationId: "${ids.completed}", userId: "${USERS.nurse.id}", role: INTERPRETER) { userId } }`, allowed: ['CLINICIAN', 'ADMIN'], allowedCode: 'CONFLICT' },
  { name: 'Mutation.requestRecording (another organization’s)', query: () => `mutation { requestRecording(id: "${ids.hospital}") { id } }`, allowed: [] },
  { name: 'Mutation.requestRecording (own, scheduled)', query: () => `mutation { requestRecording(id: "${ids.own}") { recording { requested } } }`, allowed: ['CLINICIAN'] },
  { name: 'Mutation.consentToRecording (own, asked for)', query: () => `mutation { consentToRecording(id: "${ids.own}") { recording { consented } } }`, allowed: ['PATIENT'] },
  { name: 'Mutation.consentToRecording (another organization’s)', query: () => `mutation { consentToRecording(id: "${ids.hospital}") { id } }`, allowed: [] },
  { name: 'Mutation.joinConsultation (own, completed)', query: () => `mutation { joinConsultation(id: "${ids.completed}") { token } }`, allowed: ['PATIENT', 'CLINICIAN'], allowedCode: 'CONFLICT' },
  { name: 'Mutation.joinConsultation (another organization’s)', query: () => `mutation { joinConsultation(id: "${ids.hospital}") { token } }`, allowed: [] },
  { name: 'Query.prescription (own)', query: () => `{ prescription(id: "${ids.prescription}") { medication token qrSvg verifyUrl } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.prescription (another patient’s)', query: () => `{ prescription(id: "${ids.bayoPrescription}") { medication } }`, allowed: STAFF },
  { name: 'Query.prescription (another organization’s)', query: () => `{ prescription(id: "${ids.hospitalPrescription}") { medication } }`, allowed: [] },
  { name: 'Query.consultation report and prescriptions (own)', query: () => `{ consultation(id: "${ids.completed}") { report { notes } prescriptions { id } } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.patient prescriptions (own)', query: () => `{ patient(id: "${PATIENTS.amaraNorth.id}") { prescriptions { id } } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.patient recordShares (own)', query: () => `{ patient(id: "${PATIENTS.amaraNorth.id}") { recordShares { id accessCount } } }`, allowed: ['PATIENT'] },
  { name: 'Mutation.recordConsultationReport (own clinician’s, completed)', query: () => `mutation { recordConsultationReport(id: "${ids.completed}", input: {notes: "Seen.", diagnoses: [{code: "J06.9", display: "Acute upper respiratory infection"}]}) { id } }`, allowed: ['CLINICIAN'] },
  { name: 'Mutation.recordConsultationReport (another organization’s)', query: () => `mutation { recordConsultationReport(id: "${ids.hospital}", input: {notes: "x", diagnoses: []}) { id } }`, allowed: [] },
  { name: 'Mutation.issuePrescription (another organization’s consultation)', query: () => `mutation { issuePrescription(consultationId: "${ids.hospital}", input: {medication: "x", dose: "x", quantity: 1, refills: 0}) { id } }`, allowed: [] },
  { name: 'Mutation.issuePrescription (a scheduled consultation)', query: () => `mutation { issuePrescription(consultationId: "${ids.own}", input: {medication: "x", dose: "x", quantity: 1, refills: 0}) { id } }`, allowed: ['CLINICIAN'], allowedCode: 'CONFLICT' },
  { name: 'Mutation.revokePrescription (another organization’s)', query: () => `mutation { revokePrescription(id: "${ids.hospitalPrescription}", reason: "not mine") { id } }`, allowed: [] },
  { name: 'Mutation.createRecordShare (own)', query: () => `mutation { createRecordShare(patientId: "${PATIENTS.amaraNorth.id}", hours: 1) { url } }`, allowed: ['PATIENT'] },
  { name: 'Mutation.createRecordShare (another patient’s)', query: () => `mutation { createRecordShare(patientId: "${PATIENTS.bayoNorth.id}", hours: 1) { url } }`, allowed: [] },
  // Last of the prescriptions: the prescriber revokes (an administrator after them finds it revoked).
  { name: 'Mutation.revokePrescription (own clinician’s)', query: () => `mutation { revokePrescription(id: "${ids.prescription}", reason: "Wrong strength") { revokedAt } }`, allowed: ['CLINICIAN', 'ADMIN'], outcomes: { ADMIN: 'CONFLICT' } },
  { name: 'Mutation.revokeRecordShare (own)', query: () => `mutation { revokeRecordShare(id: "${ids.share}") { revokedAt } }`, allowed: ['PATIENT'] },
];
// Another patient's consultations: identity lets clinical staff see the patient; the patient sees only themself.
ROOT.push({ name: 'Query.patient consultations (another patient)', query: () => `{ patient(id: "${PATIENTS.bayoNorth.id}") { consultations { id } } }`, allowed: STAFF, outcomes: { PATIENT: 'FORBIDDEN' } });

const ENTITIES: MatrixCase[] = [
  { name: '_entities Consultation (own)', query: () => entitiesQuery('Consultation', ids.own, 'status reason'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Consultation (another patient’s)', query: () => entitiesQuery('Consultation', ids.bayo, 'status'), allowed: STAFF },
  { name: '_entities Consultation (another organization’s)', query: () => entitiesQuery('Consultation', ids.hospital, 'status'), allowed: [] },
  { name: '_entities Prescription (own)', query: () => entitiesQuery('Prescription', ids.prescription, 'medication token'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Prescription (another organization’s)', query: () => entitiesQuery('Prescription', ids.hospitalPrescription, 'medication'), allowed: [] },
  { name: '_entities Patient.prescriptions (own)', query: () => entitiesQuery('Patient', PATIENTS.amaraNorth.id, 'prescriptions { id }'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Patient.recordShares (own)', query: () => entitiesQuery('Patient', PATIENTS.amaraNorth.id, 'recordShares { id }'), allowed: ['PATIENT'] },
  { name: '_entities Patient.consultations (own)', query: () => entitiesQuery('Patient', PATIENTS.amaraNorth.id, 'consultations { id }'), allowed: ['PATIENT', ...STAFF] },
];

describe('telemedicine authorization matrix', () => {
  it('root fields through the gateway', async () => {
    expect(await runThroughGateway(t, ROOT)).toEqual([]);
  });
  it('entity lookups', async () => {
    expect(await runAgainstSubgraph(t, 'telemedicine', ENTITIES)).toEqual([]);
  });
  it('the other organization’s consultation is unchanged by every refused attempt', async () => {
    expect(await t.platform.database.prisma.consultation.findUniqueOrThrow({ where: { id: ids.hospital } })).toMatchObject({ status: 'SCHEDULED', roomSid: null, cancelledAt: null });
    expect(twilioFake.rooms).toHaveLength(0);
  });
  it('POST /webhooks/twilio/video: no platform credential stands in for Twilio’s signature (403 for every caller)', async () => {
    const statuses: Record<string, number> = {};
    const body = new URLSearchParams({ RoomSid: 'RM0', RoomName: ids.own, StatusCallbackEvent: 'room-ended', SequenceNumber: '1' }).toString();
    for (const user of ['patient', 'clinician', 'admin', 'service'] as const) {
      statuses[user] = (await fetch(`${t.baseUrl}/webhooks/twilio/video`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${await t.tokenFor(user)}` }, body })).status;
    }
    statuses['none'] = (await fetch(`${t.baseUrl}/webhooks/twilio/video`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })).status;
    expect(statuses).toEqual({ patient: 403, clinician: 403, admin: 403, service: 403, none: 403 });
    expect(await t.platform.database.prisma.videoCallback.count()).toBe(0);
  });
});
