import { isRedFlagCode, RED_FLAG_CODES, type RedFlagCode } from './red-flag-lexicon.js';
import { RED_FLAG_URGENCY } from './red-flags.js';

/**
 * Scores a red-flag detector against a labelled set of messages. Shared by `npm run
 * eval:redflags` and the tests that hold the targets, so both report the same figures.
 * Safety flags (unreadable message, detector failure) are not red-flag codes: they are counted
 * apart, as alerts a nurse would get.
 */

/** What the evaluation needs of a detector's answer. */
export interface DetectedFlag {
  code: string;
  evidence: string;
}
export type Detector = (text: string) => readonly DetectedFlag[];

export interface LabelledMessage {
  text: string;
  expected: RedFlagCode[];
}

export interface CodeScore {
  code: RedFlagCode;
  support: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** null when undefined (no positives expected, or none predicted). */
  recall: number | null;
  precision: number | null;
}

export interface Misclassification {
  text: string;
  expected: RedFlagCode[];
  detected: RedFlagCode[];
  evidence: string[];
}

export interface EvaluationReport {
  messages: number;
  perCode: CodeScore[];
  microRecall: number;
  microPrecision: number;
  criticalRecall: number;
  /** Messages that got a safety flag (unreadable, detector failure or timeout). */
  safetyAlerts: number;
  misclassified: Misclassification[];
}

/** The targets. */
export const TARGETS = { criticalRecall: 0.98, precision: 0.9 } as const;

const ratio = (numerator: number, denominator: number): number | null => (denominator === 0 ? null : numerator / denominator);

export function evaluate(messages: readonly LabelledMessage[], detect: Detector): EvaluationReport {
  let safetyAlerts = 0;
  const counts = new Map<RedFlagCode, { tp: number; fp: number; fn: number; support: number }>(RED_FLAG_CODES.map((c) => [c, { tp: 0, fp: 0, fn: 0, support: 0 }]));
  const misclassified: Misclassification[] = [];
  for (const message of messages) {
    const all = detect(message.text);
    const flags = all.filter((f) => isRedFlagCode(f.code));
    if (flags.length < all.length) safetyAlerts += 1;
    const detected = new Set(flags.map((f) => f.code).filter(isRedFlagCode));
    const expected = new Set(message.expected);
    for (const code of RED_FLAG_CODES) {
      const count = counts.get(code);
      if (!count) continue;
      if (expected.has(code)) count.support += 1;
      if (expected.has(code) && detected.has(code)) count.tp += 1;
      else if (detected.has(code)) count.fp += 1;
      else if (expected.has(code)) count.fn += 1;
    }
    const same = detected.size === expected.size && [...expected].every((c) => detected.has(c));
    if (!same) misclassified.push({ text: message.text, expected: [...message.expected], detected: [...detected], evidence: flags.map((f) => `${f.code}: "${f.evidence}"`) });
  }
  const perCode = RED_FLAG_CODES.map((code): CodeScore => {
    const c = counts.get(code) ?? { tp: 0, fp: 0, fn: 0, support: 0 };
    return { code, support: c.support, truePositives: c.tp, falsePositives: c.fp, falseNegatives: c.fn, recall: ratio(c.tp, c.tp + c.fn), precision: ratio(c.tp, c.tp + c.fp) };
  });
  const sum = (scores: readonly CodeScore[], pick: (s: CodeScore) => number): number => scores.reduce((total, s) => total + pick(s), 0);
  const critical = perCode.filter((s) => RED_FLAG_URGENCY[s.code] === 'critical');
  return {
    messages: messages.length,
    perCode,
    microRecall: ratio(sum(perCode, (s) => s.truePositives), sum(perCode, (s) => s.truePositives + s.falseNegatives)) ?? 1,
    microPrecision: ratio(sum(perCode, (s) => s.truePositives), sum(perCode, (s) => s.truePositives + s.falsePositives)) ?? 1,
    criticalRecall: ratio(sum(critical, (s) => s.truePositives), sum(critical, (s) => s.truePositives + s.falseNegatives)) ?? 1,
    safetyAlerts,
    misclassified,
  };
}

export function meetsTargets(report: EvaluationReport): boolean {
  return report.criticalRecall >= TARGETS.criticalRecall && report.microPrecision >= TARGETS.precision;
}

/** Checks that untrusted JSON is a labelled set with known codes. */
export function parseLabelledMessages(value: unknown): LabelledMessage[] {
  if (!Array.isArray(value)) throw new Error('evaluation set must be a JSON array');
  return value.map((item: unknown, i) => {
    const record = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
    const { text, expected } = record;
    if (typeof text !== 'string' || !Array.isArray(expected)) throw new Error(`item ${i}: needs "text" (string) and "expected" (array)`);
    const codes = expected.map((code: unknown) => {
      if (!isRedFlagCode(code)) throw new Error(`item ${i}: unknown code ${String(code)}`);
      return code;
    });
    return { text, expected: codes };
  });
}

/**
 * What CI holds on the held-back families today, below the targets while they are not
 * met: a change that makes detection worse fails CI. Raise these as the detector improves.
 */
export const FLOORS = { criticalRecall: 0.78, precision: 0.81 } as const;

export function meetsFloors(report: EvaluationReport): boolean {
  return report.criticalRecall >= FLOORS.criticalRecall && report.microPrecision >= FLOORS.precision;
}
