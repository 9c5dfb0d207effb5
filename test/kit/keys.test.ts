import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { loadPlatformKeys } from '../../subgraphs/kit/keys.js';
import { PLATFORM_AUDIENCE, PLATFORM_ISSUER } from '../../subgraphs/kit/tokens.js';
import { Processes } from '../support/processes.js';

/** Local development keys: generated once per DATA_DIR, agreed on by every process, never silently replaced. */
let dataDir: string;
const processes = new Processes();
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'caregraph-keys-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));
afterAll(() => processes.stopAll());

describe('platform keys', () => {
  it('are generated once, even when several processes start at the same moment', async () => {
    const loaded = await Promise.all([1, 2, 3, 4].map(() => loadPlatformKeys({}, dataDir)));
    const kids = new Set(loaded.map((keys) => keys.signingKey?.kid));
    expect(kids.size).toBe(1);
    expect(JSON.parse(readFileSync(join(dataDir, 'dev-keys.json'), 'utf8')).signingKey.kid).toBe([...kids][0]);
  });

  it('npm run token refuses to invent keys the server does not have', async () => {
    await expect(processes.run('scripts/token.ts', ['--role', 'nurse'], { DATA_DIR: dataDir })).rejects.toThrow(/no platform keys/);
    expect(() => readFileSync(join(dataDir, 'dev-keys.json'))).toThrow();
  });

  it('npm run token, run twice at once, prints tokens the server’s keys verify', async () => {
    const keys = await loadPlatformKeys({}, dataDir);
    const tokens = await Promise.all([1, 2].map(() => processes.run('scripts/token.ts', ['--role', 'nurse'], { DATA_DIR: dataDir })));
    for (const token of tokens) {
      const { payload } = await jwtVerify(token.trim(), createLocalJWKSet({ keys: keys.publicKeys }), { issuer: PLATFORM_ISSUER, audience: PLATFORM_AUDIENCE });
      expect(payload['role']).toBe('NURSE');
    }
  });
});
