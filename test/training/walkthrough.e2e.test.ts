import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * The README's "First partner in five minutes", run as written: the shell block between its
 * walkthrough markers, with bash, curl, `npm run token` and `npm run launch-token`, against a
 * running platform whose PORT and DATA_DIR (its keys) the commands share.
 */
let t: TestPlatform;
let dataDir: string;

beforeAll(async () => {
  t = await startTestPlatform();
  dataDir = mkdtempSync(join(tmpdir(), 'caregraph-walkthrough-'));
  // What `npm start` leaves in DATA_DIR: the keys `npm run token` signs with.
  writeFileSync(join(dataDir, 'dev-keys.json'), JSON.stringify(t.keys), { mode: 0o600 });
});
afterAll(async () => {
  await t?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function walkthrough(): string {
  const readme = readFileSync('README.md', 'utf8');
  const section = /<!-- walkthrough:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme);
  if (!section?.[1]) throw new Error('README has no walkthrough block');
  return section[1];
}

function run(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the README’s first-partner walkthrough', () => {
  it('runs as written: the learner lands in the partner’s app and the partner reads its cohort’s cases', async () => {
    const port = new URL(t.baseUrl).port;
    const result = await run(walkthrough(), { PORT: port, DATA_DIR: dataDir });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^location: https:\/\/learn\.acme-academy\.example\/app#session_id=[0-9a-f-]{36}&access_token=[\w.-]+\r?$/im);
    const cases = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as { cases: Array<{ caseId: string }> };
    expect(cases.cases).toHaveLength(1);
    const partner = await t.platform.database.prisma.partner.findFirstOrThrow({ where: { name: 'Acme Academy' } });
    expect(partner.learnerAppUrl).toBe('https://learn.acme-academy.example/app');
  }, 120_000);
});
