import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchPostgresDatabase } from '../../subgraphs/kit/database.js';
import { PATIENTS, USERS } from '../../prisma/seed-data.js';
import { postGraphQL } from '../support/platform.js';
import { Processes } from '../support/processes.js';

/**
 * The README's first command, as a user runs it: `npm start` (the compiled platform,
 * `node dist/scripts/start-all.js`, which `npm test` builds first: gateway and every subgraph in
 * one process, migrated and seeded) and a token from `npm run token`, then `{ me { id roles } }`.
 */
const processes = new Processes();
let dataDir: string;
let scratch: { url: string; drop(): Promise<void> } | undefined;
let graphqlUrl = '';
const env = (): Record<string, string> => ({ DATA_DIR: dataDir, DATABASE_URL: scratch?.url ?? '', PORT: '0', INTERNAL_IDENTITY_SECRET: '', AUTH_SIGNING_KEY: '', AUTH_PUBLIC_KEYS: '' });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'caregraph-start-'));
  scratch = process.env['DATABASE_URL'] ? await createScratchPostgresDatabase(process.env['DATABASE_URL']) : undefined;
  graphqlUrl = await processes.start('dist/scripts/start-all.js', [], env(), /CareGraph ready at (http:\/\/\S+\/graphql)/);
}, 90_000);

afterAll(async () => {
  await processes.stopAll();
  await scratch?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start + npm run token', () => {
  it('serves `me` for a token printed by the token command', async () => {
    const token = (await processes.run('scripts/token.ts', ['--role', 'nurse'], env())).trim();
    const { status, json } = await postGraphQL(graphqlUrl, { query: '{ me { id roles } }' }, { authorization: `Bearer ${token}` });
    expect(status).toBe(200);
    expect(json.data).toEqual({ me: { id: USERS.nurse.id, roles: ['NURSE'] } });
  });

  it('picks a seeded patient-linked user for --role patient', async () => {
    const token = (await processes.run('scripts/token.ts', ['--role', 'patient'], env())).trim();
    const { json } = await postGraphQL(graphqlUrl, { query: '{ me { patient { id name } } }' }, { authorization: `Bearer ${token}` });
    expect(json.data).toEqual({ me: { patient: { id: PATIENTS.amaraNorth.id, name: 'Amara Testwell' } } });
  });

  it('refuses an unknown role with a usage message', async () => {
    await expect(processes.run('scripts/token.ts', ['--role', 'wizard'], env())).rejects.toThrow(/usage: npm run token/);
  });
});
