import { decodeJwt } from 'jose';
import type { GraphQLClient } from 'graphql-request';
import { PATIENTS, USERS } from '../../prisma/seed-data.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { refusalCode, startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * What a consultation may have beyond two people talking, through the gateway: an interpreter
 * invited by the clinician joins as themself (four people at most); recording only when the
 * clinician asked and the patient consented before the room opened (Twilio's flag on the room);
 * and the patient's readings from the devices subgraph around the consultation, joined by the
 * gateway on the consultation's patient and times, abnormal ones flagged.
 */
let t: TestPlatform;
let twilioFake: FakeTwilio;
let patient: GraphQLClient;
let clinician: GraphQLClient;
let nurse: GraphQLClient;
let consultationId = '';
let startsAt = '';

const CONSULTATION = 'id status participants { userId role } recording { requested consented }';

beforeAll(async () => {
  twilioFake = await new FakeTwilio().start();
  t = await startTestPlatform({ telemedicine: { twilio: twilioFake.settings(), joinEarlyMinutes: 60 } });
  patient = await t.client('patient');
  clinician = await t.client('clinician');
  nurse = await t.client('nurse');
  // A free consultation: nothing to pay before joining.
  await clinician.request('mutation($i: ScheduleInput!) { setAvailability(input: $i) { clinicianId } }', {
    i: { timeZone: 'Africa/Lagos', windows: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '23:30' })), feeAmount: 0, currency: 'NGN' },
  });
  const { availableSlots } = await patient.request<{ availableSlots: Array<{ startsAt: string }> }>('query($c: ID!, $f: DateTime!) { availableSlots(clinicianId: $c, from: $f, days: 2) { startsAt } }', { c: USERS.clinician.id, f: new Date().toISOString() });
  startsAt = availableSlots[0]?.startsAt ?? '';
  const { bookConsultation } = await patient.request<{ bookConsultation: { consultation: { id: string } } }>('mutation($i: BookingInput!) { bookConsultation(input: $i) { consultation { id } } }', {
    i: { patientId: PATIENTS.amaraNorth.id, clinicianId: USERS.clinician.id, startsAt, reason: 'Follow-up of my blood pressure readings' },
  });
  consultationId = bookConsultation.consultation.id;
}, 120_000);
afterAll(async () => {
  await t?.close();
  await twilioFake?.close();
});

describe('more people, and recording with consent', () => {
  it('recording needs the clinician’s request and then the patient’s consent', async () => {
    const consent = 'mutation($id: ID!) { consentToRecording(id: $id) { recording { requested consented } } }';
    expect(await refusalCode(patient.request(consent, { id: consultationId }))).toBe('CONFLICT');
    expect(await refusalCode(patient.request('mutation($id: ID!) { requestRecording(id: $id) { id } }', { id: consultationId }))).toBe('FORBIDDEN');
    await clinician.request('mutation($id: ID!) { requestRecording(id: $id) { id } }', { id: consultationId });
    expect(await refusalCode(clinician.request(consent, { id: consultationId }))).toBe('FORBIDDEN');
    const { consentToRecording } = await patient.request<{ consentToRecording: { recording: { requested: boolean; consented: boolean } } }>(consent, { id: consultationId });
    expect(consentToRecording.recording).toEqual({ requested: true, consented: true });
  });

  it('an interpreter the clinician invites joins as themself; a fifth person is refused; nobody else gets in', async () => {
    const add = 'mutation($id: ID!, $u: ID!, $r: ParticipantRole!) { addParticipant(consultationId: $id, userId: $u, role: $r) { userId role } }';
    expect(await refusalCode(patient.request(add, { id: consultationId, u: USERS.nurse.id, r: 'INTERPRETER' }))).toBe('FORBIDDEN');
    const join = 'mutation($id: ID!) { joinConsultation(id: $id) { identity token } }';
    expect(await refusalCode(nurse.request(join, { id: consultationId }))).toBe('FORBIDDEN');

    await clinician.request(add, { id: consultationId, u: USERS.nurse.id, r: 'INTERPRETER' });
    expect(await refusalCode(clinician.request(add, { id: consultationId, u: USERS.nurse.id, r: 'SPECIALIST' }))).toBe('CONFLICT');
    const admin = await t.client('admin');
    await admin.request(add, { id: consultationId, u: USERS.admin.id, r: 'SPECIALIST' });
    expect(await refusalCode(admin.request(add, { id: consultationId, u: USERS.pharmacist.id, r: 'SPECIALIST' }))).toBe('CONFLICT');

    const { joinConsultation } = await nurse.request<{ joinConsultation: { identity: string; token: string } }>(join, { id: consultationId });
    expect(joinConsultation.identity).toBe(`interpreter:${USERS.nurse.id}`);
    expect((decodeJwt(joinConsultation.token) as { grants: { identity: string; video: { room: string } } }).grants).toEqual({ identity: `interpreter:${USERS.nurse.id}`, video: { room: consultationId } });
    // The room opened with the recording the patient agreed to, for four people at most.
    expect(twilioFake.rooms[0]).toMatchObject({ uniqueName: consultationId, recordParticipantsOnConnect: true, maxParticipants: 4 });
    const { consultation } = await patient.request<{ consultation: { participants: Array<{ userId: string; role: string }> } }>(`query($id: ID!) { consultation(id: $id) { ${CONSULTATION} } }`, { id: consultationId });
    expect(consultation.participants).toEqual([{ userId: USERS.nurse.id, role: 'INTERPRETER' }, { userId: USERS.admin.id, role: 'SPECIALIST' }]);
    // Recording is decided before the room opens.
    expect(await refusalCode(clinician.request('mutation($id: ID!) { requestRecording(id: $id) { id } }', { id: consultationId }))).toBe('CONFLICT');
  });
});

describe('remote diagnostics', () => {
  it('the patient’s readings around the consultation appear in it, abnormal ones flagged', async () => {
    const admin = await t.client('admin');
    const { createApiKey } = await admin.request<{ createApiKey: { key: string } }>('mutation { createApiKey(input: {name: "Home BP cuff gateway", role: DEVICE}) { key } }');
    const hl7 = (controlId: string, when: string, results: string[]) => [
      `MSH|^~\\&|HOMEBP|HOME|CAREGRAPH|DEVICES|${when}||ORU^R01|${controlId}|P|2.5.1`,
      `PID|1||${PATIENTS.amaraNorth.mrn}^^^MCN^MR||TESTWELL^AMARA`,
      `OBR|1|P-${controlId}|F-${controlId}|85354-9^Blood pressure panel^LN|||${when}`,
      ...results,
    ].join('\r');
    const stamp = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const post = async (body: string) => {
      const response = await fetch(`${t.baseUrl}/hl7/v2`, { method: 'POST', headers: { 'content-type': 'application/hl7-v2', 'x-api-key': createApiKey.key }, body });
      expect(response.status).toBe(200);
    };
    await post(hl7('BP-RECENT', stamp(2 * 3_600_000), [
      'OBX|1|NM|8480-6^Systolic blood pressure^LN||182|mm[Hg]^mm[Hg]^UCUM|90-140|H|||F',
      'OBX|2|NM|8462-4^Diastolic blood pressure^LN||84|mm[Hg]^mm[Hg]^UCUM|60-90|N|||F',
    ]));
    await post(hl7('BP-OLD', stamp(3 * 86_400_000), ['OBX|1|NM|8480-6^Systolic blood pressure^LN||128|mm[Hg]^mm[Hg]^UCUM|90-140|N|||F']));

    const query = 'query($id: ID!) { consultation(id: $id) { readings { code value unit abnormal critical } } }';
    const { consultation } = await clinician.request<{ consultation: { readings: Array<{ code: string; value: string; unit: string; abnormal: boolean; critical: boolean }> } }>(query, { id: consultationId });
    expect(consultation.readings.map((r) => `${r.code}=${r.value} ${r.unit} ${r.abnormal ? 'abnormal' : 'normal'}`).sort()).toEqual(['8462-4=84 mm[Hg] normal', '8480-6=182 mm[Hg] abnormal']);
    // The patient sees the same; another organization's patient cannot open the consultation at all.
    expect((await patient.request<{ consultation: { readings: unknown[] } }>(query, { id: consultationId })).consultation.readings).toHaveLength(2);
    expect(await refusalCode((await t.client('hospitalPatient')).request(query, { id: consultationId }))).toBe('FORBIDDEN');
  });
});
