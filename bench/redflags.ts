/**
 * `npm run bench:redflags` — how fast the red-flag detector is, as the chat runs it (rules, then
 * the classifier, readability and the time budget), beside the rules alone and the classifier
 * alone: messages per second and per-message latency (p50, p99, max) over every message of the
 * corpus and the holdout set, in interleaved rounds so drift lands on all three alike. The
 * classifier's budget is 1 ms per message (issue 13); the combined detector's p99 is the figure
 * for the README.
 *
 * Environment: BENCH_ROUNDS (5).
 */
import { committedClassifier } from '../subgraphs/kit/red-flags/red-flag-classifier.js';
import { detectRedFlags } from '../subgraphs/kit/red-flags/red-flag-detector.js';
import { detectRuleFlags } from '../subgraphs/kit/red-flags/red-flags.js';
import { HOLDOUT_SET, loadCorpus, loadLabelledSet, messagesOf } from '../scripts/redflags/corpus.js';

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 5);
const texts = [...messagesOf(loadCorpus()), ...loadLabelledSet(HOLDOUT_SET)].map((m) => m.text);
const classifier = committedClassifier();
const modes: Record<string, (text: string) => unknown> = {
  'rules or classifier (as the chat runs)': (text) => detectRedFlags(text),
  'rules alone': (text) => detectRuleFlags(text),
  'classifier alone': (text) => classifier.classify(text),
};

// Warm-up: JIT and the model's first load are not a message's time.
for (const run of Object.values(modes)) for (const text of texts.slice(0, 500)) run(text);

const samples = new Map<string, number[]>(Object.keys(modes).map((name) => [name, []]));
const elapsed = new Map<string, number>(Object.keys(modes).map((name) => [name, 0]));
for (let round = 0; round < rounds; round += 1) {
  const order = round % 2 === 0 ? Object.keys(modes) : Object.keys(modes).reverse();
  for (const name of order) {
    const run = modes[name];
    const times = samples.get(name);
    if (!run || !times) continue;
    const started = performance.now();
    for (const text of texts) {
      const t0 = performance.now();
      run(text);
      times.push(performance.now() - t0);
    }
    elapsed.set(name, (elapsed.get(name) ?? 0) + performance.now() - started);
  }
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
process.stdout.write(`red-flag detection: ${texts.length} messages × ${rounds} rounds, interleaved\n\n`);
process.stdout.write(`${'detector'.padEnd(40)} ${'msgs/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}\n`);
for (const name of Object.keys(modes)) {
  const sorted = [...(samples.get(name) ?? [])].sort((a, b) => a - b);
  const perSecond = (sorted.length / (elapsed.get(name) ?? 1)) * 1000;
  process.stdout.write(`${name.padEnd(40)} ${perSecond.toFixed(0).padStart(9)} ${percentile(sorted, 50).toFixed(3).padStart(8)} ${percentile(sorted, 99).toFixed(3).padStart(8)} ${(sorted.at(-1) ?? 0).toFixed(3).padStart(8)}\n`);
}
