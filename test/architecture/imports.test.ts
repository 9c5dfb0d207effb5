import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/**
 * The import rule (README, Architecture): gateway → kit ← subgraphs, one way.
 *
 * - `subgraphs/kit/` is the runtime everyone shares; it imports only itself and the generated
 *   Prisma client.
 * - `gateway/` imports itself and the kit, and never loads the database layer (no path of
 *   runtime imports from the gateway reaches the generated Prisma client).
 * - A domain (`subgraphs/<name>/`) imports itself, the kit, the generated client and the
 *   synthetic seed data; never another domain, the gateway or scripts.
 * - The registry (`subgraphs/index.ts`, `subgraphs/start-subgraph.ts`) imports domains and the kit.
 * - Seed data (`prisma/seed-*.ts`) is data: type-only imports.
 * - `scripts/`, `test/`, `bench/` put the pieces together and may import anything.
 */

type Layer = 'kit' | 'gateway' | 'registry' | 'generated' | 'seed-data' | 'composition' | `domain:${string}` | 'external';

const ROOT = process.cwd();

function layerOf(file: string): Layer {
  if (file.startsWith('subgraphs/kit/')) return 'kit';
  if (file === 'subgraphs/index.ts' || file === 'subgraphs/start-subgraph.ts') return 'registry';
  if (file.startsWith('subgraphs/')) return `domain:${file.split('/')[1]}`;
  if (file.startsWith('gateway/')) return 'gateway';
  if (file.startsWith('prisma/generated/')) return 'generated';
  if (/^prisma\/seed-[\w-]+\.ts$/.test(file)) return 'seed-data';
  return 'composition';
}

interface Import {
  from: string;
  /** Repository-relative path of the imported file, or the package name. */
  to: string;
  typeOnly: boolean;
}

const IMPORT_PATTERN = /^\s*(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

function resolveImport(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  const target = normalize(join(dirname(from), specifier));
  const candidates = [target.replace(/\.js$/, '.ts'), target, `${target}.ts`, join(target, 'index.ts')];
  return candidates.find((c) => existsSync(join(ROOT, c)) && statSync(join(ROOT, c)).isFile()) ?? target;
}

function importsOf(file: string): Import[] {
  const source = readFileSync(join(ROOT, file), 'utf8');
  const found: Import[] = [];
  for (const match of source.matchAll(IMPORT_PATTERN)) {
    const specifier = match[3] ?? match[4] ?? match[5];
    if (!specifier) continue;
    const clause = match[2] ?? '';
    // `import type {…}` or `import { type A, type B }`: erased at runtime.
    const named = /^\{([\s\S]*)\}$/.exec(clause.trim());
    const typeOnly = Boolean(match[1]) || (named !== null && named[1]!.split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type ')));
    found.push({ from: file, to: resolveImport(file, specifier), typeOnly });
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name === 'generated') continue;
      out.push(...sourceFiles(path));
    } else if (entry.name.endsWith('.ts')) {
      out.push(path);
    }
  }
  return out;
}

const FILES = ['gateway', 'subgraphs', 'scripts', 'prisma', 'test', 'bench'].flatMap(sourceFiles);
const IMPORTS = FILES.flatMap(importsOf);

function allowed(from: Layer, to: Layer, typeOnly: boolean): boolean {
  if (to === 'external' || from === 'composition') return true;
  switch (from) {
    case 'kit':
      return to === 'kit' || to === 'generated';
    case 'gateway':
      return to === 'gateway' || to === 'kit';
    case 'registry':
      return to === 'kit' || to.startsWith('domain:') || to === 'registry';
    case 'seed-data':
      return typeOnly || to === 'seed-data';
    case 'generated':
      return to === 'generated';
    default:
      // a domain
      return to === from || to === 'kit' || to === 'generated' || to === 'seed-data';
  }
}

const layerOfTarget = (target: string): Layer => (target.startsWith('.') || target.includes('/') && existsSync(join(ROOT, target)) ? layerOf(target) : 'external');

describe('the import rule', () => {
  it('finds the code it checks', () => {
    expect(FILES.length).toBeGreaterThan(100);
    expect(IMPORTS.some((i) => i.from.startsWith('subgraphs/kit/') && i.to === 'subgraphs/kit/errors.ts')).toBe(true);
  });

  it('runs one way: gateway → kit ← subgraphs, no domain imports another', () => {
    const broken = IMPORTS.filter((i) => !allowed(layerOf(i.from), layerOfTarget(i.to), i.typeOnly)).map((i) => `${i.from} → ${i.to}`);
    expect(broken).toEqual([]);
  });

  it('keeps the gateway free of the database layer (no runtime path to the Prisma client)', () => {
    const runtimeImports = new Map<string, string[]>();
    for (const i of IMPORTS) if (!i.typeOnly) runtimeImports.set(i.from, [...(runtimeImports.get(i.from) ?? []), i.to]);
    const entry = FILES.filter((f) => f.startsWith('gateway/'));
    const seen = new Set<string>();
    const via = new Map<string, string>();
    const queue = [...entry];
    while (queue.length > 0) {
      const file = queue.shift() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const next of runtimeImports.get(file) ?? []) {
        if (!seen.has(next)) {
          via.set(next, file);
          queue.push(next);
        }
      }
    }
    const database = [...seen].filter((f) => f.startsWith('prisma/generated/') || f === '@prisma/client' || f.startsWith('@prisma/adapter'));
    const chain = (file: string): string => (via.has(file) ? `${chain(via.get(file) as string)} → ${file}` : file);
    expect(database.map(chain)).toEqual([]);
  });

  it('is checked against a deliberately broken example', () => {
    expect(allowed('domain:chat', 'domain:nurse', false)).toBe(false);
    expect(allowed('kit', 'gateway', false)).toBe(false);
    expect(allowed('gateway', 'domain:chat', true)).toBe(false);
    expect(allowed('kit', 'composition', false)).toBe(false);
    expect(relative(ROOT, join(ROOT, 'subgraphs/kit/errors.ts'))).toBe('subgraphs/kit/errors.ts');
  });
});
