/**
 * `npm run -s redflags:corpus-check [-- DIR]`: checks the red-flag corpus (test/chat/redflags-corpus/,
 * see its SOURCES.md) — shape, codes, kinds, varieties, sizes, duplicates across files, labels
 * against kinds — and prints its size per code. Exits 1 on any problem. The same checks run in
 * the test suite (test/chat/red-flag-detector.test.ts).
 */
import { CORPUS_DIR, corpusProblems, loadCorpus, type CorpusFamily } from './redflags/corpus.js';

let families: CorpusFamily[];
try {
  families = loadCorpus(process.argv[2] ?? CORPUS_DIR);
} catch (error) {
  process.stdout.write(`the corpus cannot be read: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

const codes = [...new Set(families.map((f) => f.code))];
for (const code of codes) {
  const own = families.filter((f) => f.code === code);
  const positive = own.filter((f) => f.kind === 'positive');
  const lookAlike = own.filter((f) => f.kind !== 'positive');
  const count = (list: readonly CorpusFamily[]): number => list.reduce((total, f) => total + f.messages.length, 0);
  const varieties = new Map<string, number>();
  for (const f of positive) varieties.set(f.variety, (varieties.get(f.variety) ?? 0) + 1);
  process.stdout.write(
    `${code.padEnd(24)} messages ${String(count(own)).padStart(4)}  positive ${String(count(positive)).padStart(4)} (${positive.length} fam)  look-alike ${String(count(lookAlike)).padStart(4)} (${lookAlike.length} fam)  kinds ${[...new Set(own.map((f) => f.kind))].join(',')}  positive varieties ${[...varieties].map(([v, n]) => `${v}:${n}`).join(' ')}\n`,
  );
}
process.stdout.write(`total messages ${families.reduce((total, f) => total + f.messages.length, 0)}, families ${families.length}\n`);
const problems = corpusProblems(families);
if (problems.length > 0) {
  process.stdout.write(`\n${problems.length} problems:\n${problems.slice(0, 80).map((p) => `  ${p}`).join('\n')}\n`);
  process.exitCode = 1;
} else process.stdout.write('no problems\n');
