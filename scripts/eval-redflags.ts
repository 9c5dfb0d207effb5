/**
 * `npm run eval:redflags [-- path.json]`: scores the red-flag detector on test/chat/redflags-eval.json (or
 * the given labelled set) and
 * prints recall and precision per flag and overall, then every misclassified message. Exits 1
 * when the issue's targets are missed (critical recall ≥ 0.98, overall precision ≥ 0.90), so CI
 * can run it. This is a benchmark of the rules, not a timed test.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { evaluate, meetsTargets, parseLabelledMessages, TARGETS, type CodeScore } from '../subgraphs/chat/domain/red-flag-evaluation.js';
import { RED_FLAG_URGENCY } from '../subgraphs/chat/domain/red-flags.js';

// An optional path scores another labelled set (e.g. test/chat/redflags-holdout.json) the same way.
const setPath = process.argv[2] ?? fileURLToPath(new URL('../test/chat/redflags-eval.json', import.meta.url));
const messages = parseLabelledMessages(JSON.parse(readFileSync(setPath, 'utf8')));
const report = evaluate(messages);

const figure = (value: number | null): string => (value === null ? '   -' : value.toFixed(3));
const row = (s: CodeScore): string =>
  [s.code.padEnd(24), RED_FLAG_URGENCY[s.code].padEnd(8), String(s.support).padStart(7), String(s.truePositives).padStart(4), String(s.falsePositives).padStart(4), String(s.falseNegatives).padStart(4), figure(s.recall).padStart(7), figure(s.precision).padStart(9)].join(' ');

const lines = [
  `Red-flag evaluation: ${report.messages} messages (${messages.filter((m) => m.expected.length === 0).length} with no flag)`,
  '',
  ['flag'.padEnd(24), 'urgency'.padEnd(8), 'support'.padStart(7), 'TP'.padStart(4), 'FP'.padStart(4), 'FN'.padStart(4), 'recall'.padStart(7), 'precision'.padStart(9)].join(' '),
  ...report.perCode.map(row),
  '',
  `overall micro recall    ${report.microRecall.toFixed(3)}`,
  `overall micro precision ${report.microPrecision.toFixed(3)}   (target ≥ ${TARGETS.precision.toFixed(2)})`,
  `critical-flag recall    ${report.criticalRecall.toFixed(3)}   (target ≥ ${TARGETS.criticalRecall.toFixed(2)})`,
  '',
  `misclassified messages: ${report.misclassified.length}`,
  ...report.misclassified.map((m) => `  ${JSON.stringify(m.text)}\n    expected [${m.expected.join(', ')}]  detected [${m.detected.join(', ')}]${m.evidence.length ? `  evidence ${m.evidence.join('; ')}` : ''}`),
];
process.stdout.write(`${lines.join('\n')}\n`);

if (!meetsTargets(report)) {
  process.stdout.write('\nFAIL: below the issue targets\n');
  process.exitCode = 1;
} else {
  process.stdout.write('\nPASS: meets the issue targets\n');
}
