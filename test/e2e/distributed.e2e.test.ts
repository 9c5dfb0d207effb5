import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePlatformKeys, type PlatformKeys } from '../../subgraphs/kit/keys.js';
import { signPlatformToken } from '../../subgraphs/kit/tokens.js';
import { createScratchPostgresDatabase } from '../../subgraphs/kit/database.js';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { COHORTS, PARTNERS, PATIENTS, USERS } from '../../prisma/seed-data.js';
import { SUBGRAPHS } from '../../subgraphs/index.js';
import { postGraphQL } from '../support/platform.js';
import { Processes } from '../support/processes.js';
import { until } from '../support/wait.js';

/**
 * Distributed mode: every subgraph and the gateway as separate OS processes, started from the
 * compiled build as `npm run start:subgraph -- <name>` and `npm run start:gateway` start them
 * (`npm test` builds first), talking over HTTP. On PostgreSQL when DATABASE_URL is set, else the subgraph's own PGlite.
 */
const processes = new Processes();
let dataDir: string;
let scratch: { url: string; drop(): Promise<void> } | undefined;
let keys: PlatformKeys;

beforeAll(async () => {
  keys = await generatePlatformKeys();
  dataDir = mkdtempSync(join(tmpdir(), 'caregraph-distributed-'));
  scratch = process.env['DATABASE_URL'] ? await createScratchPostgresDatabase(process.env['DATABASE_URL']) : undefined;
  const env = {
    DATA_DIR: dataDir,
    INTERNAL_IDENTITY_SECRET: keys.internalIdentitySecret,
    AUTH_SIGNING_KEY: JSON.stringify(keys.signingKey),
    DATABASE_URL: scratch?.url ?? '',
    PORT: '0',
  };
  // Every registered subgraph as its own process. On a shared PostgreSQL one process seeds
  // first (concurrent seeding of the same rows would race); embedded, each seeds its own PGlite.
  const start = (name: string, seed: boolean) =>
    processes.start('dist/subgraphs/start-subgraph.js', seed ? [name, '--seed'] : [name], env, new RegExp(`${name} subgraph ready at (http://[\\d.:]+)/graphql`));
  const [first, ...rest] = SUBGRAPHS;
  const urls: Array<readonly [string, string]> = [];
  if (first) urls.push([first.name, await start(first.name, true)] as const);
  urls.push(...(await Promise.all(rest.map(async (subgraph) => [subgraph.name, await start(subgraph.name, !scratch)] as const))));
  gatewayUrl = await processes.start('dist/gateway/src/start-gateway.js', [], { ...env, SUBGRAPH_URLS: JSON.stringify(Object.fromEntries(urls)) }, /gateway ready at (http:\/\/[\d.:]+)\/graphql/);
}, 240_000);

let gatewayUrl = '';

afterAll(async () => {
  await processes.stopAll();
  await scratch?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('distributed mode', () => {
  it('serves queries through a separately running gateway and subgraph', async () => {
    const token = await signPlatformToken(keys, { userId: USERS.nurse.id, role: 'NURSE', organizationId: USERS.nurse.organizationId });
    const { status, json } = await postGraphQL(`${gatewayUrl}/graphql`, { query: `{ me { id roles } patient(id: "${PATIENTS.bayoNorth.id}") { mrn } }` }, { authorization: `Bearer ${token}` });
    expect(status).toBe(200);
    expect(json.data).toEqual({ me: { id: USERS.nurse.id, roles: ['NURSE'] }, patient: { mrn: 'MCN-10002' } });
  });

  it('reports readiness of the remote subgraph', async () => {
    const ready = await fetch(`${gatewayUrl}/ready`);
    expect(await ready.json()).toEqual({ ok: true, subgraphs: Object.fromEntries(SUBGRAPHS.map((subgraph) => [subgraph.name, 'ok'])) });
  });

  it('serves a subgraph’s REST route at the gateway: a partner launch, then the learner’s session', async () => {
    const now = Math.floor(Date.now() / 1000);
    const launchToken = await new SignJWT({ role: 'learner', cohort_id: COHORTS.northwindA.id })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(PARTNERS.northwind.launchIssuer)
      .setSubject('distributed-learner')
      .setJti(randomUUID())
      .setExpirationTime(now + 120)
      .sign(new TextEncoder().encode(PARTNERS.northwind.launchSecret));
    const launched = await fetch(`${gatewayUrl}/integrations/partner/launch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: launchToken }) });
    expect(launched.status).toBe(201);
    const { accessToken, session } = (await launched.json()) as { accessToken: string; session: { id: string } };
    const { json } = await postGraphQL(`${gatewayUrl}/graphql`, { query: `{ caseSession(id: "${session.id}") { id status caseTitle } }` }, { authorization: `Bearer ${accessToken}` });
    expect(json.data).toEqual({ caseSession: { id: session.id, status: 'ACTIVE', caseTitle: 'Crushing chest pain in a 58-year-old' } });

    // On a shared PostgreSQL the analytics process reads the training process's event from the
    // outbox (embedded, each process has its own PGlite and the event stays in training's).
    const admin = await signPlatformToken(keys, { userId: USERS.admin.id, role: 'ADMIN', organizationId: USERS.admin.organizationId });
    const started = async (): Promise<number> => {
      const answer = await postGraphQL(`${gatewayUrl}/graphql`, { query: `{ cohortAnalytics(cohortId: "${COHORTS.northwindA.id}") { sessionsStarted } }` }, { authorization: `Bearer ${admin}` });
      return (answer.json.data?.['cohortAnalytics'] as { sessionsStarted: number } | undefined)?.sessionsStarted ?? -1;
    };
    if (scratch) expect(await until(started, (n) => n === 1, 'the analytics process to count the session')).toBe(1);
    else expect(await started()).toBe(0);
  });
});
