import type { GraphQLClient } from 'graphql-request';
import { ORGS, PATIENTS, USERS } from '../../prisma/seed-data.js';
import { WearableProviderError } from '../../subgraphs/devices/adapters/wearables.js';
import { GoogleHealthAdapter } from '../../subgraphs/devices/adapters/google-health.js';
import { resealStale } from '../../subgraphs/devices/wearables.js';
import { Sealer, type SealingKey } from '../../subgraphs/kit/sealing.js';
import { FakeGoogleHealth } from '../support/fake-google-health.js';
import { refusalCode, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

/**
 * Wearables end to end against a local Google (OAuth 2.0 and the Health API over HTTP), as the
 * patient's app and the nurse see them through the gateway: connect (PKCE, a state bound to the
 * user, single use), sync (every type, pages, idempotent), refresh (on a 401 and before expiry),
 * a 429 (held back, resumed from the page it stopped at, nothing dropped), webhooks (Google's
 * handshake, UPSERT and DELETE), critical readings reaching the nurse queue, disconnect with
 * revocation (retried when Google is down), a refresh token Google no longer honours, and no
 * token readable anywhere in the database.
 */
let t: TestPlatform;
let google: FakeGoogleHealth;
let patient: GraphQLClient;
let nurse: GraphQLClient;
let connectionId = '';
const KEY_1: SealingKey = { id: 'k1', key: Buffer.alloc(32, 7) };
const KEY_2: SealingKey = { id: 'k2', key: Buffer.alloc(32, 9) };
const AMARA_ACCOUNT = 'health-user-amara';
const HOUR = 3_600_000;
const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();

interface Reading { id: string; code: string; value: string; unit: string | null; interpretation: string[]; critical: boolean; status: string; source: string; fhir: string }
interface Connection { id: string; status: string; dataTypes: string[]; lastSyncAt: string | null; retryAfter: string | null; lastProblem: string | null; revocationPending: boolean }
const CONNECTION = 'id status dataTypes lastSyncAt retryAfter lastProblem revocationPending';

async function readings(client: GraphQLClient = nurse, patientId: string = PATIENTS.amaraNorth.id): Promise<Reading[]> {
  const { patient: found } = await client.request<{ patient: { observations: Reading[] } }>(
    'query($id: ID!) { patient(id: $id) { observations(first: 200) { id code value unit interpretation critical status source fhir } } }', { id: patientId });
  return found.observations.filter((reading) => reading.source === 'DEVICE');
}
const sync = async (): Promise<Connection> => (await patient.request<{ syncWearable: Connection }>(`mutation($id: ID!) { syncWearable(connectionId: $id) { ${CONNECTION} } }`, { id: connectionId })).syncWearable;
async function webhook(body: unknown, authorization?: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${t.baseUrl}/webhooks/wearables/google-health`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}
const notification = (account: string, dataType: string, operation: string, start: string, end: string) => ({
  data: { version: '1', healthUserId: account, operation, dataType, intervals: [{ physicalTimeInterval: { startTime: start, endTime: end } }] },
});

async function connect(client: GraphQLClient, patientId: string): Promise<{ id: string; callback: URL }> {
  const { connectWearable } = await client.request<{ connectWearable: { connection: Connection; authorizationUrl: string } }>(
    `mutation($patientId: ID!) { connectWearable(patientId: $patientId) { authorizationUrl connection { ${CONNECTION} } } }`, { patientId });
  expect(connectWearable.connection.status).toBe('PENDING');
  return { id: connectWearable.connection.id, callback: await google.consent(connectWearable.authorizationUrl) };
}
const complete = (client: GraphQLClient, callback: URL) =>
  client.request<{ completeWearableConnection: Connection }>(`mutation($state: String!, $code: String) { completeWearableConnection(state: $state, code: $code) { ${CONNECTION} } }`,
    { state: callback.searchParams.get('state'), code: callback.searchParams.get('code') });

beforeAll(async () => {
  google = await new FakeGoogleHealth().start();
  google.maxPageSize = 5;
  t = await startTestPlatform({
    sealingKeys: [KEY_1],
    devices: { wearables: { google: google.settings(), retryBaseMs: 300, retryMaxMs: 1_000, syncIntervalMs: 24 * HOUR } },
  });
  patient = await t.client('patient');
  nurse = await t.client('nurse');
  google.consentAs(AMARA_ACCOUNT);
  google.addPoints(AMARA_ACCOUNT, [
    { type: 'heart-rate', time: ago(30 * HOUR), value: 64 },
    { type: 'heart-rate', time: ago(29 * HOUR), value: 71 },
    { type: 'heart-rate', time: ago(28 * HOUR), value: 168 },
    { type: 'oxygen-saturation', time: ago(27 * HOUR), value: 97 },
    { type: 'oxygen-saturation', time: ago(26 * HOUR), value: 86 },
    { type: 'steps', time: ago(48 * HOUR), end: ago(24 * HOUR), value: 8_412 },
    { type: 'sleep', time: ago(40 * HOUR), end: ago(33 * HOUR), value: 412, name: 'users/me/dataTypes/sleep/dataPoints/sleep-1' },
    // Older than the first sync reaches back (7 days): never read.
    { type: 'heart-rate', time: ago(9 * 24 * HOUR), value: 60 },
  ]);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await google?.close();
});

describe('connecting', () => {
  it('the patient consents with PKCE; the state works once, for them only; then every granted type is synced', async () => {
    const { id, callback } = await connect(patient, PATIENTS.amaraNorth.id);
    connectionId = id;
    // Someone else completing the patient's consent, even with the right state and code, is refused and spends nothing.
    const intruder = await t.client('hospitalPatient');
    expect(await refusalCode(complete(intruder, callback))).toBe('BAD_USER_INPUT');
    const done = (await complete(patient, callback)).completeWearableConnection;
    expect(done).toMatchObject({ id, status: 'ACTIVE', dataTypes: ['HEART_RATE', 'OXYGEN_SATURATION', 'STEPS', 'SLEEP'] });
    // The same state again: spent.
    expect(await refusalCode(complete(patient, callback))).toBe('BAD_USER_INPUT');

    const synced = await sync();
    expect(synced).toMatchObject({ status: 'ACTIVE', lastProblem: null, retryAfter: null });
    expect(synced.lastSyncAt).not.toBeNull();
    const stored = await readings();
    expect(stored.map((reading) => `${reading.code}=${reading.value}${reading.unit}`).sort()).toEqual([
      '55423-8=8412{steps}', '59408-5=86%', '59408-5=97%', '8867-4=168/min', '8867-4=64/min', '8867-4=71/min', '93832-4=412min',
    ]);
    expect(stored.find((reading) => reading.value === '168')).toMatchObject({ interpretation: ['HH'], critical: true });
    expect(stored.find((reading) => reading.value === '86')).toMatchObject({ interpretation: ['LL'], critical: true });
    expect(stored.filter((reading) => reading.critical)).toHaveLength(2);
    const steps = JSON.parse(stored.find((reading) => reading.code === '55423-8')?.fhir ?? '{}') as { category: Array<{ coding: Array<{ code: string }> }>; effectivePeriod: { start: string; end: string }; valueQuantity: { system: string; code: string } };
    expect(steps.category[0]?.coding[0]?.code).toBe('vital-signs');
    expect(steps.valueQuantity).toMatchObject({ system: 'http://unitsofmeasure.org', code: '{steps}' });
    expect(new Date(steps.effectivePeriod.end).getTime() - new Date(steps.effectivePeriod.start).getTime()).toBe(24 * HOUR);

    // Synced again: nothing new is stored twice.
    await sync();
    expect(await readings()).toHaveLength(7);
  });

  it('critical readings reach the nurse queue as device readings', async () => {
    const entries = await until(async () => {
      const { patient: found } = await nurse.request<{ patient: { queueEntries: Array<{ source: string; urgency: string; reason: string }> } }>(
        'query($id: ID!) { patient(id: $id) { queueEntries { source urgency reason } } }', { id: PATIENTS.amaraNorth.id });
      return found.queueEntries.filter((entry) => entry.source === 'DEVICE_READING');
    }, (found) => found.length === 2, 'two device-reading entries');
    expect(entries.map((entry) => entry.reason).sort()).toEqual(['Critical device reading: Heart rate (HH)', 'Critical device reading: Oxygen saturation by pulse oximetry (LL)']);
    expect(entries.every((entry) => entry.urgency === 'CRITICAL')).toBe(true);
  });

  it('the nurse sees the connection; a patient of another organization cannot', async () => {
    const query = `query($id: ID!) { patient(id: $id) { wearableConnections { ${CONNECTION} } } }`;
    const seen = await nurse.request<{ patient: { wearableConnections: Connection[] } }>(query, { id: PATIENTS.amaraNorth.id });
    expect(seen.patient.wearableConnections.map((connection) => connection.status)).toEqual(['ACTIVE']);
    const other = await t.client('hospitalPatient');
    expect(await refusalCode(other.request(query, { id: PATIENTS.amaraNorth.id }))).toBe('FORBIDDEN');
  });
});

describe('keeping in sync', () => {
  it('an access token Google refuses (401) is refreshed and the call retried; one about to expire is refreshed before any call', async () => {
    google.addPoints(AMARA_ACCOUNT, [{ type: 'heart-rate', time: ago(20 * HOUR), value: 80 }]);
    google.expireAccessTokens();
    google.accessTokenSeconds = 60; // less than the refresh margin: the next sync refreshes first
    const before = google.requests.length;
    expect(await sync()).toMatchObject({ status: 'ACTIVE', lastProblem: null });
    const seen = google.requests.slice(before);
    expect(seen.filter((request) => request.status === 401)).toHaveLength(1);
    expect(seen.filter((request) => request.grantType === 'refresh_token' && request.status === 200)).toHaveLength(1);
    expect((await readings()).filter((reading) => reading.value === '80')).toHaveLength(1);

    const next = google.requests.length;
    await sync();
    const proactive = google.requests.slice(next);
    expect(proactive[0]).toMatchObject({ path: '/token', grantType: 'refresh_token', status: 200 });
    expect(proactive.filter((request) => request.status === 401)).toHaveLength(0);
    google.accessTokenSeconds = 3_600;
    await sync();
  });

  it('a 429 holds the connection back and keeps the cursor: the retry resumes at the page it stopped on, and nothing is dropped', async () => {
    // 12 new heart-rate points: three pages of five at most.
    google.addPoints(AMARA_ACCOUNT, Array.from({ length: 12 }, (_, index) => ({ type: 'heart-rate' as const, time: ago((12 - index) * 60_000 + HOUR), value: 90 + index })));
    const isNew = (reading: Reading) => reading.code === '8867-4' && Number(reading.value) >= 90 && Number(reading.value) <= 101;
    google.rateLimitOnce = (url) => url.pathname.endsWith('/heart-rate/dataPoints') && url.searchParams.get('pageToken') === '5';
    // Google asks for three seconds: long enough for the checks below to see the connection held, whatever the machine's load.
    google.retryAfterSeconds = 3;
    const before = google.requests.length;
    const held = await sync();
    expect(held.lastProblem).toMatch(/^RATE_LIMITED/);
    // Held for Google's Retry-After (3 s), not the shorter configured backoff.
    expect(new Date(held.retryAfter ?? 0).getTime() - Date.now()).toBeGreaterThan(1_500);
    // The first page is kept; the rest waits.
    expect((await readings()).filter(isNew)).toHaveLength(5);
    // Asking again while held back does not call Google.
    const during = google.requests.length;
    await sync();
    expect(google.requests.length).toBe(during);

    // The worker retries after the backoff: every point arrives, each once.
    const all = await until(async () => (await readings()).filter(isNew), (found) => found.length === 12, '12 readings after the 429', 20_000);
    expect(new Set(all.map((reading) => reading.value)).size).toBe(12);
    const heartRate = google.requests.slice(before).filter((request) => request.path.endsWith('/heart-rate/dataPoints'));
    expect(heartRate.map((request) => `${request.pageToken ?? '-'}:${request.status}`)).toEqual(['-:200', '5:429', '5:200', '10:200']);
    await until(async () => (await sync()).lastProblem, (problem) => problem === null, 'the connection healthy again');
    google.retryAfterSeconds = null;
  });
});

describe('webhooks', () => {
  it('Google’s handshake: 201 with the subscriber secret, 401 without it or with another', async () => {
    expect(await webhook({ type: 'verification' }, google.webhookSecret)).toEqual({ status: 201, json: { verified: true } });
    expect((await webhook({ type: 'verification' })).status).toBe(401);
    expect((await webhook({ type: 'verification' }, 'not-the-secret')).status).toBe(401);
    expect((await webhook({ type: 'verification' }, `Bearer ${await t.tokenFor('admin')}`)).status).toBe(401);
  });

  it('malformed notifications are refused whole (400), nothing queued', async () => {
    const queued = () => t.platform.database.prisma.wearableSyncRequest.count();
    const before = await queued();
    expect((await webhook('{not json', google.webhookSecret)).status).toBe(400);
    expect((await webhook([notification(AMARA_ACCOUNT, 'heart-rate', 'UPSERT', ago(HOUR), ago(0)), { data: { healthUserId: AMARA_ACCOUNT, operation: 'UPSERT', dataType: 'steps', intervals: [] } }], google.webhookSecret)).status).toBe(400);
    expect((await webhook([notification(AMARA_ACCOUNT, 'heart-rate', 'MERGE', ago(HOUR), ago(0))], google.webhookSecret)).status).toBe(400);
    expect((await webhook([notification(AMARA_ACCOUNT, 'heart-rate', 'UPSERT', ago(0), ago(HOUR))], google.webhookSecret)).status).toBe(400);
    expect(await queued()).toBe(before);
  });

  it('UPSERT: a reading that arrived late, in a period already synced, is fetched; unknown accounts and types are acknowledged and ignored', async () => {
    // Recorded on the watch 50 hours ago, uploaded only now: behind the cursor.
    const late = ago(50 * HOUR);
    google.addPoints(AMARA_ACCOUNT, [{ type: 'oxygen-saturation', time: late, value: 95 }]);
    const answer = await webhook([
      notification(AMARA_ACCOUNT, 'oxygen-saturation', 'UPSERT', ago(51 * HOUR), ago(49 * HOUR)),
      notification('someone-else', 'steps', 'UPSERT', ago(2 * HOUR), ago(HOUR)),
      notification(AMARA_ACCOUNT, 'exercise', 'UPSERT', ago(2 * HOUR), ago(HOUR)),
    ], google.webhookSecret);
    expect(answer).toEqual({ status: 200, json: { applied: 1, ignored: 2 } });
    await until(async () => (await readings()).filter((reading) => reading.code === '59408-5' && reading.value === '95'), (found) => found.length === 1, 'the late SpO2 reading');
    await until(() => t.platform.database.prisma.wearableSyncRequest.count(), (count) => count === 0, 'the sync request done');
  });

  it('DELETE: the readings of the period are marked entered-in-error (kept in the record, not current)', async () => {
    const sleep = (await readings()).find((reading) => reading.code === '93832-4');
    expect(sleep?.status).toBe('FINAL');
    const answer = await webhook([notification(AMARA_ACCOUNT, 'sleep', 'DELETE', ago(41 * HOUR), ago(39 * HOUR))], google.webhookSecret);
    expect(answer).toEqual({ status: 200, json: { applied: 1, ignored: 0 } });
    expect((await readings()).find((reading) => reading.code === '93832-4')?.status).toBe('ENTERED_IN_ERROR');
    expect((await readings()).filter((reading) => reading.code === '8867-4').every((reading) => reading.status === 'FINAL')).toBe(true);
  });
});

describe('secrets at rest', () => {
  it('no token Google issued is readable anywhere in the database; sealed values do not open elsewhere or without the key', async () => {
    const prisma = t.platform.database.prisma;
    const tokens = google.issuedTokens();
    expect(tokens.length).toBeGreaterThan(3);
    const tables = await prisma.$queryRaw<Array<{ schema: string; name: string }>>`SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`;
    let scanned = 0;
    for (const table of tables) {
      const rows = await prisma.$queryRawUnsafe<unknown[]>(`SELECT * FROM "${table.schema}"."${table.name}"`);
      const text = JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
      for (const token of tokens) expect(text.includes(token)).toBe(false);
      scanned += rows.length;
    }
    expect(scanned).toBeGreaterThan(100);

    const row = await prisma.wearableConnection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(row.sealingKeyId).toBe('k1');
    expect(row.sealedRefreshToken).toMatch(/^v1\.k1\./);
    const sealer = new Sealer([KEY_1]);
    expect(tokens).toContain(sealer.open(row.sealedRefreshToken ?? '', `devices.WearableConnection:${row.id}:refresh`));
    expect(() => sealer.open(row.sealedRefreshToken ?? '', `devices.WearableConnection:${row.id}:access`)).toThrow('does not open');
    expect(() => new Sealer([KEY_2]).open(row.sealedRefreshToken ?? '', `devices.WearableConnection:${row.id}:refresh`)).toThrow('not configured');
  });

  it('a new key: the values sealed with the old one are sealed again with it, and back again when the key order changes', async () => {
    const prisma = t.platform.database.prisma;
    const before = await prisma.wearableConnection.findUniqueOrThrow({ where: { id: connectionId } });
    const rotated = { ...t.platform.deps, sealer: new Sealer([KEY_2, KEY_1]) };
    expect(await resealStale(rotated)).toBeGreaterThanOrEqual(1);
    const after = await prisma.wearableConnection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(after.sealingKeyId).toBe('k2');
    expect(after.sealedRefreshToken).toMatch(/^v1\.k2\./);
    const onlyNew = new Sealer([KEY_2]);
    const place = `devices.WearableConnection:${after.id}:refresh`;
    expect(onlyNew.open(after.sealedRefreshToken ?? '', place)).toBe(new Sealer([KEY_1]).open(before.sealedRefreshToken ?? '', place));
    expect(await resealStale(rotated)).toBe(0);
    // And back to the platform's own key (k1 newest again), which is what it syncs with.
    expect(await resealStale({ ...t.platform.deps, sealer: new Sealer([KEY_1, KEY_2]) })).toBeGreaterThanOrEqual(1);
    expect((await prisma.wearableConnection.findUniqueOrThrow({ where: { id: connectionId } })).sealingKeyId).toBe('k1');
  });
});

describe('disconnecting', () => {
  it('a refresh token Google no longer honours asks the patient to connect again; tokens are erased', async () => {
    google.refuseRefresh = true;
    google.expireAccessTokens();
    try {
      const after = await sync();
      expect(after).toMatchObject({ status: 'REAUTHORIZE', dataTypes: [] });
      const stored = await t.platform.database.prisma.wearableConnection.findUniqueOrThrow({ where: { id: connectionId } });
      expect([stored.sealedAccessToken, stored.sealedRefreshToken]).toEqual([null, null]);
      expect(await refusalCode(sync())).toBe('CONFLICT');
    } finally {
      google.refuseRefresh = false;
    }
  });

  it('connect again, then disconnect: Google revokes the grant, tokens are erased, readings stay', async () => {
    const { id, callback } = await connect(patient, PATIENTS.amaraNorth.id);
    expect(id).toBe(connectionId);
    expect((await complete(patient, callback)).completeWearableConnection.status).toBe('ACTIVE');
    const kept = (await readings()).length;
    const { disconnectWearable } = await patient.request<{ disconnectWearable: Connection }>(`mutation($id: ID!) { disconnectWearable(connectionId: $id) { ${CONNECTION} } }`, { id: connectionId });
    expect(disconnectWearable).toMatchObject({ status: 'DISCONNECTED', revocationPending: false, dataTypes: [] });
    expect(google.revoked).toHaveLength(1);
    const row = await t.platform.database.prisma.wearableConnection.findUniqueOrThrow({ where: { id: connectionId } });
    expect([row.sealedAccessToken, row.sealedRefreshToken, row.sealedVerifier, row.sealingKeyId]).toEqual([null, null, null, null]);
    expect(await readings()).toHaveLength(kept);
    expect(await refusalCode(sync())).toBe('CONFLICT');
  });

  it('a revocation Google does not take now is retried by the worker until it does', async () => {
    google.consentAs('health-user-amara-2');
    const { callback } = await connect(patient, PATIENTS.amaraNorth.id);
    await complete(patient, callback);
    google.revocationDown = true;
    const { disconnectWearable } = await patient.request<{ disconnectWearable: Connection }>(`mutation($id: ID!) { disconnectWearable(connectionId: $id) { ${CONNECTION} } }`, { id: connectionId });
    expect(disconnectWearable).toMatchObject({ status: 'DISCONNECTED', revocationPending: true });
    const row = await t.platform.database.prisma.wearableConnection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(row.sealedAccessToken).toBeNull();
    // Reconnecting waits for the revocation.
    expect(await refusalCode(patient.request(`mutation($p: ID!) { connectWearable(patientId: $p) { authorizationUrl } }`, { p: PATIENTS.amaraNorth.id }))).toBe('CONFLICT');
    google.revocationDown = false;
    await until(() => t.platform.database.prisma.wearableConnection.findUniqueOrThrow({ where: { id: connectionId } }), (found) => found.sealedRefreshToken === null, 'the revocation retried');
    expect(google.revoked).toHaveLength(2);
  });
});

describe('refused', () => {
  it('staff cannot connect a patient’s wearable; a patient cannot connect someone else’s; consent declined at Google is a precise error', async () => {
    expect(await refusalCode(nurse.request(`mutation($p: ID!) { connectWearable(patientId: $p) { authorizationUrl } }`, { p: PATIENTS.amaraNorth.id }))).toBe('FORBIDDEN');
    expect(await refusalCode(patient.request(`mutation($p: ID!) { connectWearable(patientId: $p) { authorizationUrl } }`, { p: PATIENTS.bayoNorth.id }))).toBe('FORBIDDEN');
    const other = await t.client('hospitalPatient');
    const { connectWearable } = await other.request<{ connectWearable: { authorizationUrl: string } }>(`mutation($p: ID!) { connectWearable(patientId: $p) { authorizationUrl } }`, { p: PATIENTS.fayeHospital.id });
    const state = new URL(connectWearable.authorizationUrl).searchParams.get('state');
    expect(await refusalCode(other.request('mutation($s: String!) { completeWearableConnection(state: $s, error: "access_denied") { id } }', { s: state }))).toBe('BAD_USER_INPUT');
    const row = await t.platform.database.prisma.wearableConnection.findFirstOrThrow({ where: { patientId: PATIENTS.fayeHospital.id } });
    expect(row).toMatchObject({ status: 'PENDING', stateHash: null, sealedAccessToken: null });
    expect(row.organizationId).toBe(ORGS.hospital.id);
    expect(USERS.hospitalPatient.patientId).toBe(PATIENTS.fayeHospital.id);
  });

  it('the adapter reads Google’s errors as what the sync must do', async () => {
    const adapter = new GoogleHealthAdapter(google.settings());
    await expect(adapter.readings('not-a-token', 'STEPS', { since: new Date(), pageToken: null })).rejects.toMatchObject({ problem: 'UNAUTHORIZED' });
    await expect(adapter.refresh('1//unknown')).rejects.toMatchObject({ problem: 'REVOKED' });
    expect(() => adapter.readWebhook({ data: {} })).toThrow(WearableProviderError);
  });
});
