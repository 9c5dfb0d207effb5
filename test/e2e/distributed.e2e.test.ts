import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePlatformKeys, type PlatformKeys } from '../../gateway/src/auth/keys.js';
import { signPlatformToken } from '../../gateway/src/auth/tokens.js';
import { createScratchPostgresDatabase } from '../../subgraphs/kit/database.js';
import { PATIENTS, USERS } from '../../prisma/seed-data.js';
import { postGraphQL } from '../support/platform.js';

/**
 * Distributed mode: the identity subgraph and the gateway as separate OS processes, started
 * with the same commands as `npm run start:subgraph -- identity` and `npm run start:gateway`,
 * talking over HTTP. On PostgreSQL when DATABASE_URL is set, else the subgraph's own PGlite.
 */
const children: ChildProcess[] = [];
let dataDir: string;
let scratch: { url: string; drop(): Promise<void> } | undefined;
let keys: PlatformKeys;

function start(script: string, args: string[], env: Record<string, string>, readyPattern: RegExp): Promise<string> {
  const child = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', script, ...args], {
    env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${output}`)), 45_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = readyPattern.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${output}`));
    });
  });
}

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
  const identityUrl = await start('subgraphs/start-subgraph.ts', ['identity', '--seed'], env, /identity subgraph ready at (http:\/\/[\d.:]+)\/graphql/);
  gatewayUrl = await start('gateway/src/start-gateway.ts', [], { ...env, SUBGRAPH_URLS: JSON.stringify({ identity: identityUrl }) }, /gateway ready at (http:\/\/[\d.:]+)\/graphql/);
}, 120_000);

let gatewayUrl = '';

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
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
    expect(await ready.json()).toEqual({ ok: true, subgraphs: { identity: 'ok' } });
  });
});
