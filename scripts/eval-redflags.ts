/**
 * `npm run eval:redflags`: scores the red-flag detector (rules or classifier, as the chat runs
 * it) on the corpus's held-back wording families — families the classifier never trained on —
 * and on test/chat/redflags-holdout.json (written after the rules, never trained on). Prints
 * recall, precision and critical recall per code and overall, the rules alone and the classifier
 * alone beside the combination, and the worst misses. Exits 1 when the held-back figures fall
 * below the floors CI holds (red-flag-evaluation.ts). This is a benchmark of detection quality,
 * not a timed test. `-- path.json` scores another labelled set the same way.
 */
import { committedClassifier } from '../subgraphs/kit/red-flags/red-flag-classifier.js';
import { detectRedFlags } from '../subgraphs/kit/red-flags/red-flag-detector.js';
import { evaluate, FLOORS, meetsFloors, TARGETS, meetsTargets, type CodeScore, type Detector, type EvaluationReport, type LabelledMessage } from '../subgraphs/kit/red-flags/red-flag-evaluation.js';
import { detectRuleFlags, RED_FLAG_URGENCY } from '../subgraphs/kit/red-flags/red-flags.js';
import { HOLDOUT_SET, loadCorpus, loadLabelledSet, messagesOf, splitByFamily } from './redflags/corpus.js';

const combined: Detector = (text) => detectRedFlags(text);
const classifierOnly: Detector = (text) => committedClassifier().classify(text).map((f) => ({ code: f.code, evidence: f.evidence.join(', ') }));

const figure = (value: number | null): string => (value === null ? '    -' : value.toFixed(3));
const row = (s: CodeScore): string =>
  [s.code.padEnd(24), RED_FLAG_URGENCY[s.code].padEnd(8), String(s.support).padStart(7), String(s.truePositives).padStart(4), String(s.falsePositives).padStart(4), String(s.falseNegatives).padStart(4), figure(s.recall).padStart(7), figure(s.precision).padStart(9)].join(' ');
const summary = (r: EvaluationReport): string => `recall ${r.microRecall.toFixed(3)}  precision ${r.microPrecision.toFixed(3)}  critical recall ${r.criticalRecall.toFixed(3)}`;

function section(title: string, messages: readonly LabelledMessage[]): EvaluationReport {
  const report = evaluate(messages, combined);
  const lines = [
    `== ${title}: ${messages.length} messages (${messages.filter((m) => m.expected.length === 0).length} with no flag)`,
    '',
    ['flag'.padEnd(24), 'urgency'.padEnd(8), 'support'.padStart(7), 'TP'.padStart(4), 'FP'.padStart(4), 'FN'.padStart(4), 'recall'.padStart(7), 'precision'.padStart(9)].join(' '),
    ...report.perCode.map(row),
    '',
    `rules or classifier (as the chat runs)  ${summary(report)}`,
    `rules alone                             ${summary(evaluate(messages, detectRuleFlags))}`,
    `classifier alone                        ${summary(evaluate(messages, classifierOnly))}`,
    `messages that also got a safety alert (unreadable, detector failure): ${report.safetyAlerts}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return report;
}

/** Missed critical flags first, then other misses, then false alarms; each group in message order. */
function worstMisses(reports: ReadonlyArray<{ set: string; report: EvaluationReport }>, count: number): string[] {
  const rank = (expected: readonly string[], detected: readonly string[]): number => {
    const missed = expected.filter((c) => !detected.includes(c));
    if (missed.some((c) => RED_FLAG_URGENCY[c as keyof typeof RED_FLAG_URGENCY] === 'critical')) return detected.length === 0 ? 0 : 1;
    return missed.length > 0 ? 2 : 3;
  };
  return reports
    .flatMap(({ set, report }) => report.misclassified.map((m) => ({ set, m, rank: rank(m.expected, m.detected) })))
    .sort((a, b) => a.rank - b.rank)
    .slice(0, count)
    .map(({ set, m }) => `  [${set}] ${JSON.stringify(m.text)}\n      expected [${m.expected.join(', ')}]  detected [${m.detected.join(', ')}]`);
}

const customPath = process.argv[2];
if (customPath) {
  section(customPath, loadLabelledSet(customPath));
} else {
  const { training, heldBack } = splitByFamily(loadCorpus());
  process.stdout.write(`Corpus: ${training.length + heldBack.length} families; ${heldBack.length} held back (${messagesOf(heldBack).length} messages), never trained on.\n\n`);
  const held = section('held-back wording families', messagesOf(heldBack));
  const holdout = section('test/chat/redflags-holdout.json', loadLabelledSet(HOLDOUT_SET));
  const misses = worstMisses([{ set: 'held-back', report: held }, { set: 'holdout', report: holdout }], 10);
  process.stdout.write(`Worst ten misses (missed critical flags with nothing raised first):\n${misses.join('\n')}\n\n`);
  process.stdout.write(`Issue targets on held-back families (critical recall ≥ ${TARGETS.criticalRecall}, precision ≥ ${TARGETS.precision}): ${meetsTargets(held) ? 'met' : 'NOT met'}\n`);
  if (!meetsFloors(held)) {
    process.stdout.write(`FAIL: held-back figures below the floors CI holds (critical recall ≥ ${FLOORS.criticalRecall}, precision ≥ ${FLOORS.precision})\n`);
    process.exitCode = 1;
  } else process.stdout.write(`PASS: held-back figures at or above the floors CI holds (critical recall ≥ ${FLOORS.criticalRecall}, precision ≥ ${FLOORS.precision})\n`);
}
