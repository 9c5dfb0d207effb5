/**
 * `npm run build`: the platform as plain JavaScript in `dist/` (production runs `node` on it, not
 * TypeScript through a loader: no transform at start, no source-mapped stack traces under load).
 * tsc compiles (tsconfig.build.json); the files the code reads beside itself at run time are
 * copied next to their compiled readers: migrations, the red-flag model, the benchmark workload.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const OUT = 'dist';
/** Where runtime files (anything not TypeScript) live that compiled code reads relative to itself. */
const ASSET_ROOTS = ['subgraphs', 'prisma/migrations', 'bench/federation/workload'];

const started = Date.now();
rmSync(OUT, { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
let copied = 0;
for (const root of ASSET_ROOTS) {
  for (const file of filesUnder(root)) {
    if (file.endsWith('.ts')) continue;
    cpSync(file, join(OUT, file));
    copied += 1;
  }
}
process.stdout.write(`built ${OUT}/ (${copied} runtime files copied) in ${Date.now() - started} ms\n`);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [relative('.', path)];
  });
}
