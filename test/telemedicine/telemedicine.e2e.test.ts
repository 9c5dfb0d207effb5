import { decodeJwt } from 'jose';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import type { GraphQLClient } from 'graphql-request';
import { PATIENTS, USERS } from '../../prisma/seed-data.js';
import { FakeStripe, type FakeStripeObject } from '../support/fake-stripe.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { refusalCode, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

// jsqr is CommonJS whose types declare an ES default export: from ESM the function is the module itself.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

/**
 * Video consultations end to end through the gateway, against local fakes of Twilio and Stripe:
 * the clinician's hours → triage (a critical one books nothing) → booking (the slot taken, a
 * clash refused) → the fee invoiced by billing → joining refused until it is paid, to anyone but
 * the participants and outside the window → tokens for both participants (their own identity,
 * that room, expiring with the window; ICE servers) → signed room callbacks (forged ones 403,
 * repeats applied once) → completed with its duration → the booking confirmation's SMS delivery
 * tracked; the report, e-prescriptions and shared records; cancelling and extending.
 */
let t: TestPlatform;
let twilioFake: FakeTwilio;
const stripe = new FakeStripe();
let patient: GraphQLClient;
let clinician: GraphQLClient;
let nurse: GraphQLClient;
let consultationId = '';
const CLINICIAN = USERS.clinician.id;
const FEE = 500_000;

const CONSULTATION = 'id status startsAt endsAt reason startedAt endedAt durationSeconds triage { urgency confidence likelyConditions recommendation reasons emergencyGuidance } fee { amount currency paid }';
interface ConsultationView { id: string; status: string; startsAt: string; endsAt: string; startedAt: string | null; endedAt: string | null; durationSeconds: number | null; triage: { urgency: string; confidence: number; likelyConditions: string[]; reasons: string[]; emergencyGuidance: string | null }; fee: { amount: number; currency: string; paid: boolean } }
interface Booking { booked: boolean; consultation: ConsultationView | null; triage: { urgency: string; emergencyGuidance: string | null; recommendation: string } }

const slots = async (from = new Date(), days = 2): Promise<Array<{ startsAt: string; endsAt: string }>> =>
  (await patient.request<{ availableSlots: Array<{ startsAt: string; endsAt: string }> }>('query($c: ID!, $f: DateTime!, $d: Int) { availableSlots(clinicianId: $c, from: $f, days: $d) { startsAt endsAt } }', { c: CLINICIAN, f: from.toISOString(), d: days })).availableSlots;
const book = (client: GraphQLClient, patientId: string, startsAt: string, reason: string) =>
  client.request<{ bookConsultation: Booking }>(`mutation($i: BookingInput!) { bookConsultation(input: $i) { booked consultation { ${CONSULTATION} } triage { urgency emergencyGuidance recommendation } } }`, { i: { patientId, clinicianId: CLINICIAN, startsAt, reason } });
/** As the patient sees it, with billing's invoice of its fee (billing shows it to the patient and billing staff). */
const consultation = async (id: string, client: GraphQLClient = patient): Promise<ConsultationView & { feeInvoice: { id: string; status: string; amountDue: number } | null }> =>
  (await client.request<{ consultation: ConsultationView & { feeInvoice: { id: string; status: string; amountDue: number } | null } }>(`query($id: ID!) { consultation(id: $id) { ${CONSULTATION}${client === patient ? ' feeInvoice { id status amountDue }' : ''} } }`, { id })).consultation;
const join = (client: GraphQLClient, id: string) =>
  client.request<{ joinConsultation: { roomName: string; identity: string; token: string; expiresAt: string; iceServers: Array<{ urls: string; username: string | null; credential: string | null }> } }>(
    'mutation($id: ID!) { joinConsultation(id: $id) { roomName identity token expiresAt iceServers { urls username credential } } }', { id });
async function callback(params: Record<string, string>, signature?: string): Promise<number> {
  const url = `${t.baseUrl}/webhooks/twilio/video`;
  const signed = twilioFake.signedCallback(url, params);
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature === undefined ? { 'x-twilio-signature': signed.signature } : signature ? { 'x-twilio-signature': signature } : {}) }, body: signed.body });
  return response.status;
}
async function deliver(event: FakeStripeObject): Promise<number> {
  const { body, signature } = stripe.signed(event);
  return (await fetch(`${t.baseUrl}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body })).status;
}

beforeAll(async () => {
  await stripe.start();
  twilioFake = await new FakeTwilio().start();
  // Joining opens an hour before the start here, so a slot later today can be joined now.
  t = await startTestPlatform({
    stripe: stripe.config,
    telemedicine: { twilio: twilioFake.settings(), joinEarlyMinutes: 60 },
    // The booking confirmation and reminders go by SMS (identity's notifications): their status is tracked.
    messaging: { twilio: { ...twilioFake.settings(), smsFrom: '+15005550006' } },
  });
  patient = await t.client('patient');
  clinician = await t.client('clinician');
  nurse = await t.client('nurse');
  const every = [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '23:30' }));
  await clinician.request('mutation($i: ScheduleInput!) { setAvailability(input: $i) { clinicianId } }', { i: { timeZone: 'Africa/Lagos', windows: every, feeAmount: FEE, currency: 'NGN' } });
}, 120_000);
afterAll(async () => {
  await t?.close();
  await twilioFake?.close();
  await stripe.stop();
});

describe('triage and booking', () => {
  it('chest pain spreading to the arm is CRITICAL: emergency guidance, and booking it books nothing', async () => {
    const reason = 'I have crushing chest pain spreading to my left arm';
    const { triage } = await patient.request<{ triage: { urgency: string; confidence: number; emergencyGuidance: string | null; likelyConditions: string[] } }>(
      'query($p: ID!, $s: String!) { triage(patientId: $p, symptoms: $s) { urgency confidence emergencyGuidance likelyConditions } }', { p: PATIENTS.amaraNorth.id, s: reason });
    expect(triage).toMatchObject({ urgency: 'CRITICAL', confidence: 90, likelyConditions: ['Acute coronary syndrome (to exclude)'] });
    expect(triage.emergencyGuidance).toMatch(/emergency/i);
    const before = await t.platform.database.prisma.consultation.count();
    const slot = (await slots())[0];
    const { bookConsultation } = await book(patient, PATIENTS.amaraNorth.id, slot?.startsAt ?? '', reason);
    expect(bookConsultation).toMatchObject({ booked: false, consultation: null, triage: { urgency: 'CRITICAL' } });
    expect(await t.platform.database.prisma.consultation.count()).toBe(before);
  });

  it('a fever and cough is triaged MEDIUM and booked in the clinician’s next slot; the slot is taken; billing invoices the fee', async () => {
    const free = await slots();
    const slot = free[0];
    if (!slot) throw new Error('no free slot');
    const { bookConsultation } = await book(patient, PATIENTS.amaraNorth.id, slot.startsAt, 'I have had a fever and a cough for three days');
    expect(bookConsultation.booked).toBe(true);
    const booked = bookConsultation.consultation as ConsultationView;
    consultationId = booked.id;
    expect(booked).toMatchObject({ status: 'SCHEDULED', startsAt: slot.startsAt, endsAt: slot.endsAt, fee: { amount: FEE, currency: 'NGN', paid: false } });
    expect(booked.triage.urgency).toBe('MEDIUM');
    expect(booked.triage.likelyConditions).toEqual(['Febrile illness (malaria to exclude where endemic)', 'Upper respiratory tract infection']);
    expect((await slots()).map((s) => s.startsAt)).not.toContain(slot.startsAt);

    // The same slot again (a nurse booking another patient): the clinician is taken.
    expect(await refusalCode(book(nurse, PATIENTS.bayoNorth.id, slot.startsAt, 'Repeat prescription review'))).toBe('CONFLICT');
    // A slot another patient holds (which this patient cannot see) is taken for them too.
    const bayos = free[1];
    await book(nurse, PATIENTS.bayoNorth.id, bayos?.startsAt ?? '', 'Repeat prescription review');
    expect(await refusalCode(book(patient, PATIENTS.amaraNorth.id, bayos?.startsAt ?? '', 'Repeat prescription review'))).toBe('CONFLICT');
    // Not on a slot boundary, and outside the hours.
    const misaligned = new Date(new Date(slot.startsAt).getTime() + 7 * 60_000).toISOString();
    expect(await refusalCode(book(patient, PATIENTS.amaraNorth.id, misaligned, 'Repeat prescription review'))).toBe('BAD_USER_INPUT');

    const withInvoice = await until(() => consultation(consultationId), (c) => c.feeInvoice !== null, 'the fee invoice');
    expect(withInvoice.feeInvoice).toMatchObject({ status: 'OPEN', amountDue: FEE });
  });
});

describe('joining', () => {
  it('is refused before the fee is paid, to anyone but the participants, and outside the window', async () => {
    expect(await refusalCode(join(patient, consultationId))).toBe('FORBIDDEN');
    expect(twilioFake.rooms).toHaveLength(0);

    const invoice = (await consultation(consultationId)).feeInvoice;
    const { startCheckout } = await patient.request<{ startCheckout: { sessionId: string } }>('mutation($id: ID!) { startCheckout(invoiceId: $id, kind: TELE_FEE) { sessionId } }', { id: invoice?.id });
    const paid = stripe.completeCheckout(startCheckout.sessionId);
    expect(await deliver(stripe.event('checkout.session.completed', paid.session))).toBe(200);
    expect(await deliver(stripe.event('payment_intent.succeeded', paid.intent))).toBe(200);
    await until(() => consultation(consultationId), (c) => c.fee.paid, 'the fee paid');

    expect(await refusalCode(join(nurse, consultationId))).toBe('FORBIDDEN');
    expect(await refusalCode(join(await t.client('hospitalPatient'), consultationId))).toBe('FORBIDDEN');

    // Tomorrow's consultation cannot be joined now.
    const tomorrow = (await slots(new Date(Date.now() + 26 * 3_600_000), 1))[0];
    const later = (await book(patient, PATIENTS.amaraNorth.id, tomorrow?.startsAt ?? '', 'Repeat prescription review')).bookConsultation.consultation;
    expect(await refusalCode(join(patient, later?.id ?? ''))).toBe('FORBIDDEN');
    expect(twilioFake.rooms).toHaveLength(0);
  });

  it('the patient and the clinician each get a token for that room and themselves, expiring with the window; one room; ICE servers cached', async () => {
    const forPatient = (await join(patient, consultationId)).joinConsultation;
    const forClinician = (await join(clinician, consultationId)).joinConsultation;
    expect(twilioFake.rooms).toHaveLength(1);
    expect(twilioFake.rooms[0]).toMatchObject({ uniqueName: consultationId, statusCallback: `${t.baseUrl}/webhooks/twilio/video` });
    const view = await consultation(consultationId);
    expect(view.status).toBe('WAITING');
    const closes = new Date(view.endsAt).getTime() + 15 * 60_000;
    for (const [access, identity] of [[forPatient, `patient:${USERS.patient.id}`], [forClinician, `clinician:${USERS.clinician.id}`]] as const) {
      expect(access).toMatchObject({ roomName: consultationId, identity, expiresAt: new Date(closes).toISOString() });
      const claims = decodeJwt(access.token) as { iss: string; sub: string; exp: number; grants: { identity: string; video: { room: string } } };
      expect(claims).toMatchObject({ iss: twilioFake.apiKeySid, sub: twilioFake.accountSid, grants: { identity, video: { room: consultationId } } });
      expect(Math.abs(claims.exp * 1_000 - closes)).toBeLessThan(2_000);
      expect(access.iceServers.map((server) => server.urls)).toEqual(['stun:global.stun.twilio.com:3478', 'turn:global.turn.twilio.com:3478?transport=udp']);
      expect(access.iceServers[1]?.username).toBeTruthy();
    }
    expect(twilioFake.traversalTokens).toBe(1);
  });
});

describe('room callbacks', () => {
  it('a forged or missing X-Twilio-Signature is 403 and stores nothing', async () => {
    const room = twilioFake.rooms[0];
    const params = { AccountSid: twilioFake.accountSid, RoomSid: room?.sid ?? '', RoomName: consultationId, RoomStatus: 'in-progress', StatusCallbackEvent: 'participant-connected', SequenceNumber: '1', ParticipantIdentity: `patient:${USERS.patient.id}`, Timestamp: new Date().toISOString() };
    expect(await callback(params, '')).toBe(403);
    expect(await callback(params, twilioFake.signedCallback(`${t.baseUrl}/webhooks/twilio/video`, { ...params, SequenceNumber: '2' }).signature)).toBe(403);
    expect(await t.platform.database.prisma.videoCallback.count()).toBe(0);
    expect((await consultation(consultationId)).status).toBe('WAITING');
  });

  it('a participant connecting starts it; the same callback ten times is applied once; the room ending completes it with its duration', async () => {
    const room = twilioFake.rooms[0];
    const base = { AccountSid: twilioFake.accountSid, RoomSid: room?.sid ?? '', RoomName: consultationId, RoomType: 'group' };
    const connected = { ...base, RoomStatus: 'in-progress', StatusCallbackEvent: 'participant-connected', SequenceNumber: '1', ParticipantIdentity: `patient:${USERS.patient.id}`, Timestamp: new Date().toISOString() };
    const statuses = await Promise.all(Array.from({ length: 10 }, () => callback(connected)));
    expect(statuses).toEqual(Array(10).fill(200));
    expect(await t.platform.database.prisma.videoCallback.count()).toBe(1);
    expect(await t.platform.database.prisma.outboxEvent.count({ where: { type: 'tele.session.started', aggregateId: consultationId } })).toBe(1);
    expect((await consultation(consultationId)).status).toBe('IN_PROGRESS');

    const ended = { ...base, RoomStatus: 'completed', StatusCallbackEvent: 'room-ended', SequenceNumber: '4', RoomDuration: '1260', Timestamp: new Date().toISOString() };
    expect(await callback(ended)).toBe(200);
    expect(await callback(ended)).toBe(200);
    const done = await consultation(consultationId, clinician);
    expect(done).toMatchObject({ status: 'COMPLETED', durationSeconds: 1260 });
    expect(await t.platform.database.prisma.outboxEvent.count({ where: { type: 'tele.session.completed', aggregateId: consultationId } })).toBe(1);
    expect(await refusalCode(join(patient, consultationId))).toBe('CONFLICT');
  });
});

describe('the patient is told', () => {
  it('the booking confirmation went by SMS and its delivery is tracked; the reminder waits for its time', async () => {
    const confirmation = twilioFake.messages.find((message) => message.body.includes(`/consultations/${consultationId}`));
    expect(confirmation?.to).toBe(PATIENTS.amaraNorth.phone.replace(/[^\d+]/g, ''));
    const url = `${t.baseUrl}/webhooks/twilio/messaging`;
    const signed = twilioFake.signedCallback(url, { MessageSid: confirmation?.sid ?? '', MessageStatus: 'delivered', AccountSid: twilioFake.accountSid });
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signed.signature }, body: signed.body })).status).toBe(200);
    const { patient: mine } = await patient.request<{ patient: { notifications: Array<{ kind: string; channel: string; status: string }> } }>('query($p: ID!) { patient(id: $p) { notifications { kind channel status } } }', { p: PATIENTS.amaraNorth.id });
    expect(mine.notifications).toContainEqual({ kind: 'BOOKING_CONFIRMATION', channel: 'SMS', status: 'DELIVERED' });
  });
});

describe('after the consultation: report and e-prescriptions', () => {
  let prescription = { id: '', token: '', qrPng: '', qrSvg: '' };
  const verify = async (token: string): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await fetch(`${t.baseUrl}/rx/verify?token=${encodeURIComponent(token)}`);
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  it('the clinician writes the report and issues a prescription; a patient cannot prescribe', async () => {
    const { recordConsultationReport } = await clinician.request<{ recordConsultationReport: { report: { notes: string; diagnoses: Array<{ code: string | null; display: string }> } } }>(
      'mutation($id: ID!, $i: ConsultationReportInput!) { recordConsultationReport(id: $id, input: $i) { report { notes diagnoses { code display } } } }',
      { id: consultationId, i: { notes: 'Three days of fever and cough; chest clear.', diagnoses: [{ code: 'J06.9', display: 'Acute upper respiratory infection' }] } });
    expect(recordConsultationReport.report.diagnoses).toEqual([{ code: 'J06.9', display: 'Acute upper respiratory infection' }]);
    const issue = 'mutation($c: ID!, $i: PrescriptionInput!) { issuePrescription(consultationId: $c, input: $i) { id token qrPng qrSvg medication quantity refills } }';
    const input = { medication: 'Amoxicillin 500 mg capsules', dose: '1 capsule three times a day for 7 days', quantity: 21, refills: 1 };
    expect(await refusalCode(patient.request(issue, { c: consultationId, i: input }))).toBe('FORBIDDEN');
    expect(await refusalCode(clinician.request(issue, { c: consultationId, i: { ...input, quantity: 0 } }))).toBe('BAD_USER_INPUT');
    prescription = (await clinician.request<{ issuePrescription: typeof prescription }>(issue, { c: consultationId, i: input })).issuePrescription;
    expect(prescription.qrSvg.startsWith('<svg')).toBe(true);
    expect(await t.platform.database.prisma.outboxEvent.count({ where: { type: 'tele.prescription.issued', aggregateId: prescription.id } })).toBe(1);
  });

  it('the QR code decodes to the token, which /rx/verify says is valid, showing only what the paper shows', async () => {
    const png = PNG.sync.read(Buffer.from(prescription.qrPng, 'base64'));
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(decoded?.data).toBe(prescription.token);
    const checked = await verify(decoded?.data ?? '');
    expect(checked.status).toBe(200);
    expect(checked.json).toEqual({
      status: 'VALID',
      prescription: { id: prescription.id, medication: 'Amoxicillin 500 mg capsules', dose: '1 capsule three times a day for 7 days', quantity: 21, refills: 1, issuedAt: expect.any(String), expiresAt: expect.any(String) },
    });
    expect(JSON.stringify(checked.json)).not.toContain(PATIENTS.amaraNorth.id);
  });

  it('a tampered token is invalid, one the platform signed but never issued unknown, a revoked one revoked, an expired one expired', async () => {
    const [header, payload, signature] = prescription.token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { rx: { quantity: number } };
    const forged = Buffer.from(JSON.stringify({ ...claims, rx: { ...claims.rx, quantity: 210 } })).toString('base64url');
    expect((await verify(`${header}.${forged}.${signature}`)).json).toEqual({ status: 'INVALID' });
    expect((await verify('not-a-token')).json).toEqual({ status: 'INVALID' });
    const stranger = await t.platform.deps.documents?.sign({ rx: claims.rx }, { type: 'rx+jwt', audience: 'caregraph-rx', id: '00000000-0000-4000-8000-0000000000aa', expiresAt: new Date(Date.now() + 86_400_000) });
    expect((await verify(stranger ?? '')).json).toEqual({ status: 'UNKNOWN' });
    // A platform session token is not a prescription.
    expect((await verify(await t.tokenFor('clinician'))).json).toEqual({ status: 'INVALID' });

    const revoke = 'mutation($id: ID!) { revokePrescription(id: $id, reason: "Wrong strength") { revokedAt } }';
    expect(await refusalCode(patient.request(revoke, { id: prescription.id }))).toBe('FORBIDDEN');
    expect((await clinician.request<{ revokePrescription: { revokedAt: string | null } }>(revoke, { id: prescription.id })).revokePrescription.revokedAt).not.toBeNull();
    expect((await verify(prescription.token)).json).toMatchObject({ status: 'REVOKED' });
    expect(await refusalCode(clinician.request(revoke, { id: prescription.id }))).toBe('CONFLICT');

    const second = (await clinician.request<{ issuePrescription: { id: string; token: string } }>(
      'mutation($c: ID!, $i: PrescriptionInput!) { issuePrescription(consultationId: $c, input: $i) { id token } }',
      { c: consultationId, i: { medication: 'Paracetamol 500 mg tablets', dose: '2 tablets up to four times a day', quantity: 16, refills: 0, validDays: 1 } })).issuePrescription;
    expect((await verify(second.token)).json).toMatchObject({ status: 'VALID' });
    // Its day has passed (the record's expiry moved back, as time would).
    await t.platform.database.prisma.prescription.update({ where: { id: second.id }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    expect((await verify(second.token)).json).toMatchObject({ status: 'EXPIRED' });
  });
});

describe('record sharing', () => {
  const create = (client: GraphQLClient, hours: number) =>
    client.request<{ createRecordShare: { url: string; share: { id: string; expiresAt: string } } }>('mutation($p: ID!, $h: Int!) { createRecordShare(patientId: $p, hours: $h) { url share { id expiresAt } } }', { p: PATIENTS.amaraNorth.id, h: hours });

  it('the patient’s link shows their summary as a page and as a FHIR Bundle, every opening audited', async () => {
    expect(await refusalCode(create(nurse, 24))).toBe('FORBIDDEN');
    expect(await refusalCode(create(patient, 7 * 24 + 1))).toBe('BAD_USER_INPUT');
    const { url, share } = (await create(patient, 24)).createRecordShare;
    expect(url.startsWith(`${t.baseUrl}/share/`)).toBe(true);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('Amoxicillin 500 mg capsules');
    expect(html).toContain('Acute upper respiratory infection');
    const fhir = await fetch(`${url}/fhir`);
    const bundle = (await fhir.json()) as { resourceType: string; type: string; entry: Array<{ resource: { resourceType: string; id: string; status?: string; class?: { code: string }; code?: { coding?: Array<{ code: string }> } } }> };
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    const encounter = bundle.entry.find((e) => e.resource.id === consultationId)?.resource;
    expect(encounter).toMatchObject({ resourceType: 'Encounter', status: 'finished', class: { code: 'VR' } });
    expect(bundle.entry.filter((e) => e.resource.resourceType === 'Condition').map((e) => e.resource.code?.coding?.[0]?.code)).toEqual(['J06.9']);
    expect(bundle.entry.filter((e) => e.resource.resourceType === 'MedicationRequest').map((e) => e.resource.status).sort()).toEqual(['cancelled', 'stopped']);
    // Each opening: the share, and every record it showed (the share's creation is audited too, as the patient's).
    const openings = await t.platform.database.prisma.auditEvent.findMany({ where: { entityType: 'RecordShare', entityId: share.id }, orderBy: [{ at: 'asc' }, { action: 'asc' }] });
    expect(openings.map((entry) => `${entry.action}:${entry.actorId ?? 'anonymous'}`)).toEqual([`create:${USERS.patient.id}`, 'read:anonymous', 'read:anonymous']);
    expect(await t.platform.database.prisma.auditEvent.count({ where: { entityType: 'Prescription', reason: `shared record link ${share.id}` } })).toBe(4);
  });

  it('answers 410 the second after it expires, and once revoked; an unknown link 404', async () => {
    const { url, share } = (await create(patient, 1)).createRecordShare;
    expect((await fetch(url)).status).toBe(200);
    await t.platform.database.prisma.recordShare.update({ where: { id: share.id }, data: { expiresAt: new Date(Date.now() + 1_000) } });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const gone = await fetch(url);
    expect(gone.status).toBe(410);
    expect(await gone.text()).not.toContain('Amoxicillin');
    expect((await fetch(`${url}/fhir`)).status).toBe(410);

    const other = (await create(patient, 2)).createRecordShare;
    const { revokeRecordShare } = await patient.request<{ revokeRecordShare: { revokedAt: string | null } }>('mutation($id: ID!) { revokeRecordShare(id: $id) { revokedAt } }', { id: other.share.id });
    expect(revokeRecordShare.revokedAt).not.toBeNull();
    expect((await fetch(other.url)).status).toBe(410);
    expect((await fetch(`${t.baseUrl}/share/not-a-link`)).status).toBe(404);
  });
});

describe('changing a booking', () => {
  it('the clinician extends a consultation by 15 minutes; the patient cancels it; billing voids the unpaid fee', async () => {
    const { patient: mine } = await patient.request<{ patient: { consultations: Array<{ id: string; status: string; endsAt: string }> } }>('query($p: ID!) { patient(id: $p) { consultations { id status endsAt } } }', { p: PATIENTS.amaraNorth.id });
    const scheduled = mine.consultations.find((c) => c.status === 'SCHEDULED');
    if (!scheduled) throw new Error('no scheduled consultation');
    expect(await refusalCode(patient.request('mutation($id: ID!) { extendConsultation(id: $id) { id } }', { id: scheduled.id }))).toBe('FORBIDDEN');
    const { extendConsultation } = await clinician.request<{ extendConsultation: { endsAt: string } }>('mutation($id: ID!) { extendConsultation(id: $id) { endsAt } }', { id: scheduled.id });
    expect(new Date(extendConsultation.endsAt).getTime() - new Date(scheduled.endsAt).getTime()).toBe(15 * 60_000);

    await until(() => consultation(scheduled.id), (c) => c.feeInvoice !== null, 'its fee invoice');
    const { cancelConsultation } = await patient.request<{ cancelConsultation: { status: string } }>('mutation($id: ID!) { cancelConsultation(id: $id, reason: "Feeling better") { status } }', { id: scheduled.id });
    expect(cancelConsultation.status).toBe('CANCELLED');
    expect(await refusalCode(patient.request('mutation($id: ID!) { cancelConsultation(id: $id, reason: "again") { status } }', { id: scheduled.id }))).toBe('CONFLICT');
    await until(() => consultation(scheduled.id), (c) => c.feeInvoice?.status === 'VOID', 'the fee invoice voided');
  });
});
