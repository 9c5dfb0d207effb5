/**
 * `npm run train:redflags`: trains the red-flag classifier on the corpus's training families and
 * writes subgraphs/kit/red-flags/red-flag-model.json. The
 * held-back families and test/chat/redflags-holdout.json are never read here. Deterministic:
 * run it twice and the file is the same (a test checks that the committed model is what this
 * script writes). `--check` compares instead of writing and exits 1 on a difference.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MODEL_URL } from '../subgraphs/kit/red-flags/red-flag-classifier.js';
import { loadCorpus, splitByFamily } from './redflags/corpus.js';
import { serialiseModel, trainModel } from './redflags/train.js';

const started = performance.now();
const { training, heldBack } = splitByFamily(loadCorpus());
const { model, thresholds } = trainModel(training);
const text = serialiseModel(model);
const path = fileURLToPath(MODEL_URL);

const lines = [
  `trained on ${training.length} families (${model.training['messages']} messages); ${heldBack.length} families held back`,
  `${model.training['features']} features, ${Object.keys(model.weights).length} with a weight kept; model ${(text.length / 1024).toFixed(0)} KiB; ${((performance.now() - started) / 1000).toFixed(1)} s`,
  '',
  'code                     threshold  out-of-fold classifier recall  precision  positives',
  ...thresholds.map((t) => `${t.code.padEnd(24)} ${t.threshold.toFixed(4).padStart(9)}  ${t.recall.toFixed(3).padStart(38)}  ${t.precision.toFixed(3).padStart(9)}  ${String(t.positives).padStart(9)}`),
];
process.stdout.write(`${lines.join('\n')}\n`);

if (process.argv.includes('--check')) {
  const committed = readFileSync(path, 'utf8');
  if (committed !== text) {
    process.stdout.write(`\nFAIL: ${path} is not what training writes; run npm run train:redflags\n`);
    process.exitCode = 1;
  } else process.stdout.write('\nthe committed model is what training writes\n');
} else {
  writeFileSync(path, text);
  process.stdout.write(`\nwrote ${path}\n`);
}
