import type { GraphQLClient } from 'graphql-request';
import { ORGS, PATIENTS } from '../../prisma/seed-data.js';
import { BillingEvents } from '../../subgraphs/kit/events/billing.js';
import { TelemedicineEvents } from '../../subgraphs/kit/events/telemedicine.js';
import { recordEvent } from '../../subgraphs/kit/outbox.js';
import { startSubgraph } from '../../subgraphs/kit/subgraph.js';
import { identitySubgraph } from '../../subgraphs/identity/index.js';
import { FakeTwilio } from '../support/fake-twilio.js';
import { refusalCode, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { until } from '../support/wait.js';

/**
 * Messages to patients end to end: a booking through the gateway → its confirmation by SMS
 * (local Twilio fake) and email (local SMTP sink) at once, reminders 24 hours and 1 hour before
 * kept as rows → Twilio's signed status callbacks tracked (forged: 403) → a reminder sent when
 * due → STOP honoured → a failed send retried, then reported → a cancelled consultation's
 * reminders cancelled → the organization's own wording → reminders sent by a restarted
 * identity subgraph (scheduled work is durable, not timers in memory).
 */
let t: TestPlatform;
let twilioFake: FakeTwilio;
const smtp = new SmtpSink();
let patient: GraphQLClient;
let nurse: GraphQLClient;
let consultationId = '';
const SMS_FROM = '+15005550006';
const AMARA_PHONE = PATIENTS.amaraNorth.phone.replace(/[^\d+]/g, '');
const APP = 'https://app.caregraph.test';

interface NotificationView { id: string; kind: string; channel: string; status: string; sendAt: string; deliveredAt: string | null; attempts: number; lastProblem: string | null }
const notificationsOf = async (client: GraphQLClient = patient): Promise<NotificationView[]> =>
  (await client.request<{ patient: { notifications: NotificationView[] } }>('query($p: ID!) { patient(id: $p) { notifications { id kind channel status sendAt deliveredAt attempts lastProblem } } }', { p: PATIENTS.amaraNorth.id })).patient.notifications;
const rowsOf = (where: Record<string, unknown>) => t.platform.database.prisma.notification.findMany({ where: { patientId: PATIENTS.amaraNorth.id, ...where }, orderBy: { createdAt: 'asc' } });

async function bookLater(hoursAhead: number): Promise<{ id: string; startsAt: string }> {
  const { availableSlots } = await patient.request<{ availableSlots: Array<{ startsAt: string }> }>('query($c: ID!, $f: DateTime!) { availableSlots(clinicianId: $c, from: $f, days: 2) { startsAt } }', { c: CLINICIAN, f: new Date(Date.now() + hoursAhead * 3_600_000).toISOString() });
  const startsAt = availableSlots[0]?.startsAt ?? '';
  const { bookConsultation } = await patient.request<{ bookConsultation: { consultation: { id: string } } }>('mutation($i: BookingInput!) { bookConsultation(input: $i) { consultation { id } } }', { i: { patientId: PATIENTS.amaraNorth.id, clinicianId: CLINICIAN, startsAt, reason: 'Repeat prescription review' } });
  return { id: bookConsultation.consultation.id, startsAt };
}
async function twilioPost(path: string, params: Record<string, string>, signature?: string): Promise<{ status: number; text: string }> {
  const url = `${t.baseUrl}${path}`;
  const signed = twilioFake.signedCallback(url, params);
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature ?? signed.signature }, body: signed.body });
  return { status: response.status, text: await response.text() };
}
async function refund(refundId: string): Promise<void> {
  await t.platform.database.prisma.$transaction((tx) => recordEvent(tx, BillingEvents.refundIssued, {
    aggregateId: refundId, organizationId: ORGS.clinicNorth.id,
    payload: { refundId, paymentId: refundId, invoiceId: refundId, organizationId: ORGS.clinicNorth.id, amount: 250_000, currency: 'NGN', stripeRefundId: null, patientId: PATIENTS.amaraNorth.id },
  }));
}
let CLINICIAN = '';

beforeAll(async () => {
  twilioFake = await new FakeTwilio().start();
  await smtp.start();
  t = await startTestPlatform({
    telemedicine: { twilio: twilioFake.settings() },
    messaging: { twilio: { ...twilioFake.settings(), smsFrom: SMS_FROM }, smtp: { url: smtp.url, from: 'Clinic North <no-reply@clinic.example.invalid>' }, appUrl: APP, retryBaseMs: 200, maxAttempts: 3 },
  });
  patient = await t.client('patient');
  nurse = await t.client('nurse');
  const clinician = await t.client('clinician');
  const { setAvailability } = await clinician.request<{ setAvailability: { clinicianId: string } }>('mutation($i: ScheduleInput!) { setAvailability(input: $i) { clinicianId } }', {
    i: { timeZone: 'Africa/Lagos', windows: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '23:30' })), feeAmount: 0, currency: 'NGN' },
  });
  CLINICIAN = setAvailability.clinicianId;
}, 120_000);
afterAll(async () => {
  await t?.close();
  await twilioFake?.close();
  await smtp.close();
});

describe('messages from a booking', () => {
  it('the confirmation goes at once by SMS and email; the reminders wait as rows for 24 hours and 1 hour before', async () => {
    const booked = await bookLater(30);
    consultationId = booked.id;
    await until(async () => twilioFake.messages.length + smtp.mails.length, (n) => n >= 2, 'the confirmation by SMS and email');
    const sms = twilioFake.messages[0];
    expect(sms).toMatchObject({ to: AMARA_PHONE, from: SMS_FROM, statusCallback: `${t.baseUrl}/webhooks/twilio/messaging` });
    expect(sms?.body).toContain('Hello Amara, your video consultation with ');
    expect(sms?.body).toContain(`${APP}/consultations/${consultationId}`);
    expect(sms?.body).toContain('(Africa/Lagos)');
    expect(smtp.mails[0]).toMatchObject({ to: [PATIENTS.amaraNorth.email], subject: 'Your video consultation is booked' });
    expect(smtp.mails[0]?.text).toContain(`${APP}/consultations/${consultationId}`);

    const mine = await notificationsOf();
    const start = new Date(booked.startsAt).getTime();
    expect(mine.filter((n) => n.kind === 'BOOKING_CONFIRMATION').map((n) => `${n.channel}:${n.status}`).sort()).toEqual(['EMAIL:SENT', 'SMS:QUEUED']);
    for (const [kind, before] of [['REMINDER_24H', 24 * 3_600_000], ['REMINDER_1H', 3_600_000]] as const) {
      const reminders = mine.filter((n) => n.kind === kind);
      expect(reminders.map((n) => `${n.channel}:${n.status}`).sort()).toEqual(['EMAIL:SCHEDULED', 'SMS:SCHEDULED']);
      expect(reminders.every((n) => new Date(n.sendAt).getTime() === start - before)).toBe(true);
    }
  });

  it('Twilio’s status callbacks move the SMS forward only, signed ones alone: queued → sent → delivered', async () => {
    const sid = twilioFake.messages[0]?.sid ?? '';
    const status = (MessageStatus: string) => ({ AccountSid: twilioFake.accountSid, MessageSid: sid, MessageStatus, To: AMARA_PHONE, From: SMS_FROM });
    expect((await twilioPost('/webhooks/twilio/messaging', status('delivered'), 'forged')).status).toBe(403);
    expect((await notificationsOf()).find((n) => n.kind === 'BOOKING_CONFIRMATION' && n.channel === 'SMS')?.status).toBe('QUEUED');
    expect((await twilioPost('/webhooks/twilio/messaging', status('sent'))).status).toBe(200);
    expect((await twilioPost('/webhooks/twilio/messaging', status('delivered'))).status).toBe(200);
    // A late "sent" after "delivered" changes nothing.
    expect((await twilioPost('/webhooks/twilio/messaging', status('sent'))).status).toBe(200);
    const sms = (await notificationsOf(nurse)).find((n) => n.kind === 'BOOKING_CONFIRMATION' && n.channel === 'SMS');
    expect(sms).toMatchObject({ status: 'DELIVERED', attempts: 1 });
    expect(sms?.deliveredAt).not.toBeNull();
  });

  it('a reminder is sent when it falls due', async () => {
    const sent = twilioFake.messages.length;
    // The day passes: the 24-hour reminder is due now.
    await t.platform.database.prisma.notification.updateMany({ where: { reference: consultationId, kind: 'REMINDER_24H' }, data: { sendAt: new Date() } });
    await until(async () => smtp.mails.filter((m) => m.subject === 'Your consultation is tomorrow').length, (n) => n === 1, 'the 24-hour reminder by email');
    await until(async () => twilioFake.messages.length, (n) => n === sent + 1, 'the 24-hour reminder by SMS');
    expect(twilioFake.messages.at(-1)?.body).toContain('a reminder: your video consultation');
  });
});

describe('opting out and failures', () => {
  it('STOP from the patient’s number stops SMS to it (email still goes); START resumes it', async () => {
    const stop = await twilioPost('/webhooks/twilio/inbound', { AccountSid: twilioFake.accountSid, From: AMARA_PHONE, To: SMS_FROM, Body: ' stop ' });
    expect(stop.status).toBe(200);
    expect(stop.text).toContain('<Response>');
    expect((await twilioPost('/webhooks/twilio/inbound', { From: AMARA_PHONE, Body: 'STOP' }, 'forged')).status).toBe(403);
    const sent = twilioFake.messages.length;
    await refund('refund-after-stop');
    const rows = await until(() => rowsOf({ reference: 'refund-after-stop' }), (found) => found.length === 2 && found.every((n) => !['SCHEDULED', 'SENDING'].includes(n.status)), 'the refund confirmation handled');
    expect(rows.map((n) => `${n.channel}:${n.status}`).sort()).toEqual(['EMAIL:SENT', 'SMS:SUPPRESSED']);
    expect(twilioFake.messages.length).toBe(sent);
    expect(smtp.mails.at(-1)).toMatchObject({ subject: 'Your refund is on its way' });
    expect(smtp.mails.at(-1)?.text).toContain('NGN');

    await twilioPost('/webhooks/twilio/inbound', { From: AMARA_PHONE, To: SMS_FROM, Body: 'START' });
    await refund('refund-after-start');
    await until(() => rowsOf({ reference: 'refund-after-start', channel: 'SMS' }), (found) => found[0]?.status === 'QUEUED', 'SMS again after START');
  });

  it('a send Twilio cannot take is retried after a delay; one that keeps failing is reported', async () => {
    twilioFake.failMessagesNext = 1;
    await refund('refund-retried');
    const retried = await until(() => rowsOf({ reference: 'refund-retried', channel: 'SMS' }), (found) => found[0]?.status === 'QUEUED', 'the SMS sent on its second attempt');
    expect(retried[0]?.attempts).toBe(2);

    twilioFake.failMessagesNext = 3;
    await refund('refund-failing');
    const failed = await until(() => rowsOf({ reference: 'refund-failing', channel: 'SMS' }), (found) => found[0]?.status === 'FAILED', 'the SMS given up after three attempts', 20_000);
    expect(failed[0]).toMatchObject({ attempts: 3 });
    expect(failed[0]?.lastError).toContain('Twilio refused the message');
    expect(await t.platform.database.prisma.outboxEvent.count({ where: { type: 'identity.notification.failed', aggregateId: failed[0]?.id } })).toBe(1);
  });
});

describe('changes', () => {
  it('cancelling a consultation cancels its reminders', async () => {
    const other = await bookLater(40);
    await until(() => rowsOf({ reference: other.id, kind: 'REMINDER_1H' }), (found) => found.length === 2, 'its reminders');
    await patient.request('mutation($id: ID!) { cancelConsultation(id: $id, reason: "Feeling better") { id } }', { id: other.id });
    const reminders = await until(() => rowsOf({ reference: other.id, kind: { in: ['REMINDER_24H', 'REMINDER_1H'] } }), (found) => found.every((n) => n.status === 'CANCELLED'), 'the reminders cancelled');
    expect(reminders).toHaveLength(4);
  });

  it('the organization’s own wording replaces the built-in one; unknown placeholders are refused', async () => {
    const admin = await t.client('admin');
    const set = 'mutation($b: String!) { setNotificationTemplate(kind: BOOKING_CONFIRMATION, channel: SMS, body: $b) { kind channel body } }';
    expect(await refusalCode(admin.request(set, { b: 'Hi {{firstName}}, your MRN is {{mrn}}' }))).toBe('BAD_USER_INPUT');
    expect(await refusalCode(nurse.request(set, { b: 'Hi {{firstName}}' }))).toBe('FORBIDDEN');
    await admin.request(set, { b: 'Clinic North: {{firstName}}, see you {{startsAt}}.' });
    const sent = twilioFake.messages.length;
    await bookLater(50);
    await until(async () => twilioFake.messages.length, (n) => n > sent, 'the confirmation');
    expect(twilioFake.messages.at(-1)?.body).toMatch(/^Clinic North: Amara, see you .+\(Africa\/Lagos\)\.$/);
  });

  it('a completed consultation schedules the follow-up recall 14 days after it ended', async () => {
    const endedAt = new Date().toISOString();
    await t.platform.database.prisma.$transaction((tx) => recordEvent(tx, TelemedicineEvents.sessionCompleted, {
      aggregateId: consultationId, organizationId: ORGS.clinicNorth.id,
      payload: { consultationId, organizationId: ORGS.clinicNorth.id, patientId: PATIENTS.amaraNorth.id, clinicianId: CLINICIAN, endedAt, durationSeconds: 1_200 },
    }));
    const recalls = await until(() => rowsOf({ reference: consultationId, kind: 'FOLLOW_UP' }), (found) => found.length === 2, 'the follow-up recall');
    expect(recalls.every((n) => n.status === 'SCHEDULED' && n.sendAt.getTime() === new Date(endedAt).getTime() + 14 * 86_400_000)).toBe(true);
  });

  it('reminders due while identity was down are sent by the identity subgraph started again (rows, not timers)', async () => {
    const running = t.platform.subgraphs.find((subgraph) => subgraph.name === 'identity');
    await running?.close();
    const sent = twilioFake.messages.length;
    await t.platform.database.prisma.notification.updateMany({ where: { reference: consultationId, kind: 'REMINDER_1H' }, data: { sendAt: new Date() } });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(twilioFake.messages.length).toBe(sent);
    const restarted = await startSubgraph(identitySubgraph, { deps: t.platform.deps, internalIdentitySecret: t.keys.internalIdentitySecret });
    try {
      await until(async () => twilioFake.messages.length, (n) => n === sent + 1, 'the 1-hour reminder after the restart');
      expect(twilioFake.messages.at(-1)?.body).toContain('starts at');
    } finally {
      await restarted.close();
    }
  });
});
