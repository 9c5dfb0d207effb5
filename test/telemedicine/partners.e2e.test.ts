import type { GraphQLClient } from 'graphql-request';
import { ORGS, PATIENTS, USERS } from '../../prisma/seed-data.js';
import { FakePartner } from '../support/fake-partner.js';
import { refusalCode, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

/**
 * One schedule across platforms, against two local partner platforms (WellaHealth, Doctoora):
 * a booking made on a partner for our clinician blocks that slot here and shows on the
 * clinician's agenda; ours are pushed to every partner, cancellations too; a partner that is
 * down is caught up once it is back; a booking the partner cancels frees the slot again.
 */
let t: TestPlatform;
const wella = new FakePartner('WELLAHEALTH');
const doctoora = new FakePartner('DOCTOORA');
let patient: GraphQLClient;
let clinician: GraphQLClient;
let slotX = { startsAt: '', endsAt: '' };

const slots = async (): Promise<Array<{ startsAt: string; endsAt: string }>> =>
  (await patient.request<{ availableSlots: Array<{ startsAt: string; endsAt: string }> }>('query($c: ID!, $f: DateTime!) { availableSlots(clinicianId: $c, from: $f, days: 2) { startsAt endsAt } }', { c: USERS.clinician.id, f: new Date(Date.now() + 24 * 3_600_000).toISOString() })).availableSlots;
const book = (startsAt: string) =>
  patient.request<{ bookConsultation: { consultation: { id: string } } }>('mutation($i: BookingInput!) { bookConsultation(input: $i) { consultation { id } } }', { i: { patientId: PATIENTS.amaraNorth.id, clinicianId: USERS.clinician.id, startsAt, reason: 'Repeat prescription review' } });

beforeAll(async () => {
  await wella.start();
  await doctoora.start();
  t = await startTestPlatform({
    telemedicine: {
      partners: [
        { code: 'WELLAHEALTH', baseUrl: wella.url, apiKey: wella.apiKey, organizationId: ORGS.clinicNorth.id, clinicians: { 'wh-dr-77': USERS.clinician.id } },
        { code: 'DOCTOORA', baseUrl: doctoora.url, apiKey: doctoora.apiKey, organizationId: ORGS.clinicNorth.id, clinicians: { 'dc-5': USERS.clinician.id } },
      ],
    },
  });
  patient = await t.client('patient');
  clinician = await t.client('clinician');
  await clinician.request('mutation($i: ScheduleInput!) { setAvailability(input: $i) { clinicianId } }', {
    i: { timeZone: 'Africa/Lagos', windows: [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '23:30' })), feeAmount: 0, currency: 'NGN' },
  });
}, 120_000);
afterAll(async () => {
  await t?.close();
  await wella.close();
  await doctoora.close();
});

describe('partner platforms', () => {
  it('a booking made on WellaHealth for our clinician blocks the slot here and shows on the one schedule', async () => {
    const free = await slots();
    slotX = free[0] ?? slotX;
    wella.book({ id: 'wh-1', practitionerId: 'wh-dr-77', start: slotX.startsAt, end: slotX.endsAt, status: 'BOOKED' });
    // Another practice's practitioner on the same platform: not ours, ignored.
    wella.book({ id: 'wh-2', practitionerId: 'wh-dr-12', start: free[1]?.startsAt ?? '', end: free[1]?.endsAt ?? '', status: 'BOOKED' });
    await until(async () => (await slots()).map((s) => s.startsAt), (starts) => !starts.includes(slotX.startsAt), 'the slot taken on WellaHealth');
    expect((await slots()).map((s) => s.startsAt)).toContain(free[1]?.startsAt);
    expect(await refusalCode(book(slotX.startsAt))).toBe('CONFLICT');
    const { clinicianAgenda } = await clinician.request<{ clinicianAgenda: Array<{ startsAt: string; source: string; consultation: { id: string } | null }> }>(
      'query($c: ID!, $f: DateTime!, $t: DateTime!) { clinicianAgenda(clinicianId: $c, from: $f, to: $t) { startsAt source consultation { id } } }',
      { c: USERS.clinician.id, f: new Date().toISOString(), t: new Date(Date.now() + 4 * 86_400_000).toISOString() });
    expect(clinicianAgenda).toEqual([{ startsAt: slotX.startsAt, source: 'WELLAHEALTH', consultation: null }]);
  });

  it('ours is pushed to every partner, and its cancellation too', async () => {
    const slot = (await slots())[2];
    const id = (await book(slot?.startsAt ?? '')).bookConsultation.consultation.id;
    await until(async () => [wella.get(`caregraph-${id}`)?.status, doctoora.get(`caregraph-${id}`)?.status], (s) => s[0] === 'BOOKED' && s[1] === 'BOOKED', 'ours on both partners');
    expect(wella.get(`caregraph-${id}`)).toEqual({ id: `caregraph-${id}`, practitionerId: 'wh-dr-77', start: slot?.startsAt, end: slot?.endsAt, status: 'BOOKED' });
    expect(doctoora.get(`caregraph-${id}`)?.practitionerId).toBe('dc-5');
    await patient.request('mutation($id: ID!) { cancelConsultation(id: $id, reason: "Feeling better") { id } }', { id });
    await until(async () => [wella.get(`caregraph-${id}`)?.status, doctoora.get(`caregraph-${id}`)?.status], (s) => s[0] === 'CANCELLED' && s[1] === 'CANCELLED', 'the cancellation on both');
    // Our own appointments, read back from the partner, are not mirrored in as theirs.
    expect(await t.platform.database.prisma.partnerAppointment.count({ where: { direction: 'IN', externalId: { startsWith: 'caregraph-' } } })).toBe(0);
  });

  it('a partner that is down gets ours once it is back', async () => {
    doctoora.down = true;
    const slot = (await slots())[3];
    const id = (await book(slot?.startsAt ?? '')).bookConsultation.consultation.id;
    await until(async () => wella.get(`caregraph-${id}`)?.status, (s) => s === 'BOOKED', 'ours on WellaHealth');
    const held = await until(() => t.platform.database.prisma.partnerAppointment.findFirst({ where: { partner: 'DOCTOORA', externalId: `caregraph-${id}` } }), (row) => (row?.attempts ?? 0) >= 1, 'the failed push recorded');
    expect(held?.lastError).toContain('DOCTOORA answered 503');
    expect(doctoora.get(`caregraph-${id}`)).toBeUndefined();
    doctoora.down = false;
    await until(async () => doctoora.get(`caregraph-${id}`)?.status, (s) => s === 'BOOKED', 'ours on Doctoora after it came back', 30_000);
  });

  it('WellaHealth cancels its booking: the slot is free here again', async () => {
    wella.book({ id: 'wh-1', practitionerId: 'wh-dr-77', start: slotX.startsAt, end: slotX.endsAt, status: 'CANCELLED' });
    await until(async () => (await slots()).map((s) => s.startsAt), (starts) => starts.includes(slotX.startsAt), 'the slot free again');
  });
});
