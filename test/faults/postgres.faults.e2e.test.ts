import { PATIENTS, USERS } from '../../prisma/seed-data.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

/**
 * PostgreSQL cut and black-holed between the subgraphs and the database (a TCP proxy in the
 * middle). Every failure is a precise, retryable code (SERVICE_UNAVAILABLE when the database is
 * unreachable, TIMEOUT when it does not answer), nothing hangs past the statement timeout,
 * /ready says not ready, nothing acknowledged is lost, and a write refused during the outage
 * left nothing behind. Needs a PostgreSQL server (DATABASE_URL; CI sets it): the embedded
 * database runs in-process and has no link to cut.
 */
const describeWithPostgres = process.env['DATABASE_URL'] ? describe : describe.skip;
let proxy: FaultProxy;
let t: TestPlatform;
const QUERY_TIMEOUT_MS = 1_500;

beforeAll(async () => {
  const databaseUrl = process.env['DATABASE_URL'];
  if (!databaseUrl) return;
  const server = new URL(databaseUrl);
  proxy = await startFaultProxy({ host: server.hostname, port: Number(server.port || 5432) });
  t = await startTestPlatform({ databaseUrlFor: (url) => proxy.urlFor(url), databaseTimeouts: { connectTimeoutMs: 1_000, queryTimeoutMs: QUERY_TIMEOUT_MS } });
});
afterAll(async () => {
  proxy?.pass();
  await t?.close();
  await proxy?.close();
});

const as = async (user: keyof typeof USERS): Promise<Record<string, string>> => ({ authorization: `Bearer ${await t.tokenFor(user)}` });
const CREATE = 'mutation($input: CreatePatientInput!) { createPatient(input: $input) { id mrn } }';
const createPatient = async (mrn: string) =>
  postGraphQL(t.graphqlUrl, { query: CREATE, variables: { input: { mrn, givenName: 'Fault', familyName: 'Testcase', birthDate: '1990-01-01' } } }, await as('nurse'));
const readPatients = async () => {
  const started = Date.now();
  const { status, json } = await postGraphQL(t.graphqlUrl, { query: `{ patient(id: "${PATIENTS.amaraNorth.id}") { id } }` }, await as('nurse'));
  return { status, json, ms: Date.now() - started };
};
const ready = async (): Promise<number> => (await fetch(`${t.baseUrl}/ready`)).status;
const withMrn = (mrn: string) => t.platform.database.prisma.patient.count({ where: { mrn } });

describeWithPostgres.each([
  ['cut', (p: FaultProxy) => p.cut(), 'SERVICE_UNAVAILABLE'],
  ['black-holed', (p: FaultProxy) => p.blackhole(), 'TIMEOUT'],
])('with PostgreSQL %s', (mode, fail, expectedCode) => {
  it('answers with a precise retryable code in bounded time, is not ready, loses nothing acknowledged and writes nothing refused', async () => {
    const acknowledged = `FLT-${mode.slice(0, 3).toUpperCase()}-ACK`;
    expect(errorCodes((await createPatient(acknowledged)).json)).toEqual([]);
    expect(await ready()).toBe(200);

    fail(proxy);
    const read = await readPatients();
    expect(read.json.data?.['patient'] ?? null).toBeNull();
    // A black-holed link surfaces as either code, depending on whether a connection or a statement timed out first.
    expect([expectedCode, 'TIMEOUT', 'SERVICE_UNAVAILABLE']).toContain(errorCodes(read.json)[0]);
    expect(read.json.errors?.[0]?.extensions?.['retryable']).toBe(true);
    expect(read.ms).toBeLessThan(QUERY_TIMEOUT_MS * 2 + 5_000);
    const refused = `FLT-${mode.slice(0, 3).toUpperCase()}-REF`;
    const write = await createPatient(refused);
    expect(errorCodes(write.json).every((code) => code === 'SERVICE_UNAVAILABLE' || code === 'TIMEOUT')).toBe(true);
    expect(errorCodes(write.json).length).toBeGreaterThan(0);
    expect(await ready()).toBe(503);

    proxy.pass();
    // What was acknowledged before the outage is there.
    await until(ready, (status) => status === 200, 'ready again', 20_000);
    expect(await withMrn(acknowledged)).toBe(1);
    // A refused write left nothing behind.
    expect(await withMrn(refused)).toBe(0);
    const again = await readPatients();
    expect(again.json.data?.['patient']).toEqual({ id: PATIENTS.amaraNorth.id });
  });
});
