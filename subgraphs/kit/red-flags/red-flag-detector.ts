import { committedClassifier, type RedFlagClassifier } from './red-flag-classifier.js';
import { isRedFlagCode, RED_FLAG_CODES, type RedFlagCode } from './red-flag-lexicon.js';
import { readabilityOf } from './red-flag-readability.js';
import { RED_FLAG_URGENCY, readLexicon, ruleFlagsFrom, type LexiconView, type RedFlagUrgency, type RuleFlag } from './red-flags.js';

/**
 * The red-flag detector the chat runs on every patient message: the rules (red-flags.ts) and the
 * learned classifier (red-flag-classifier.ts) side by side. A code is flagged when either fires;
 * each flag says which detectors raised it and shows their evidence (the rules' quoted words,
 * the classifier's strongest words). An LLM, when one is configured, may add flags afterwards
 * (`addReviewedFlags`) but never remove one.
 *
 * Fail safe: it never throws and never passes a message it could not assess. A detector that
 * throws, a pass slower than its budget, or a message the engine cannot read (another language
 * or script, a photo placeholder) each add a safety flag, which alerts a nurse like any other.
 */

export type DetectorName = 'RULES' | 'CLASSIFIER' | 'LLM' | 'SAFETY';

/** Raised when the engine could not assess a message; a nurse looks at it instead. */
export const SAFETY_CODES = ['DETECTION_FAILED', 'DETECTION_TIMEOUT', 'UNREADABLE_MESSAGE'] as const;
export type SafetyCode = (typeof SAFETY_CODES)[number];

export interface RedFlag {
  code: RedFlagCode | SafetyCode;
  urgency: RedFlagUrgency;
  /** Why, in the message's words (the rules' match, else the classifier's strongest words), or what went wrong. */
  evidence: string;
  detectedBy: DetectorName[];
  /** The classifier's strongest words for this code, strongest first (empty when it did not fire). */
  signals: string[];
}

export interface DetectorOptions {
  /** The learned detector; the committed model by default. */
  classifier?: () => RedFlagClassifier;
  /** Replaces the rules (tests make them fail or find nothing); the classifier then reads the lexicon itself. */
  rules?: (text: string) => RuleFlag[];
  /** Longer than this and the message is flagged for a nurse as well (ms). */
  budgetMs?: number;
  now?: () => number;
}

/**
 * Both detectors take well under a millisecond on a chat message (bench/redflags.ts); a pass
 * over 250 ms means something is wrong, with room for a busy machine's pauses.
 */
export const DETECTION_BUDGET_MS = 250;

const SAFETY_URGENCY: RedFlagUrgency = 'high';

function safetyFlag(code: SafetyCode, evidence: string): RedFlag {
  return { code, urgency: SAFETY_URGENCY, evidence, detectedBy: ['SAFETY'], signals: [] };
}

const urgencyRank = (flag: RedFlag): number => (flag.urgency === 'critical' ? 0 : 1);
/** Red-flag codes in catalogue order, safety flags after them. */
const codeRank = (code: string): number => (isRedFlagCode(code) ? RED_FLAG_CODES.indexOf(code) : RED_FLAG_CODES.length);
const ordered = (flags: RedFlag[]): RedFlag[] => flags.sort((a, b) => urgencyRank(a) - urgencyRank(b) || codeRank(a.code) - codeRank(b.code));

/** The red flags in a patient's message, critical first. Never throws. */
export function detectRedFlags(text: string, options: DetectorOptions = {}): RedFlag[] {
  if (typeof text !== 'string' || text.trim() === '') return [];
  const byCode = new Map<string, RedFlag>();
  const safety: RedFlag[] = [];
  // Loaded before the clock starts: reading the model once per process is not the message's time.
  let classifier: RedFlagClassifier | undefined;
  try {
    classifier = (options.classifier ?? committedClassifier)();
  } catch {
    safety.push(safetyFlag('DETECTION_FAILED', 'the classifier could not be loaded'));
  }
  const now = options.now ?? (() => performance.now());
  const budget = options.budgetMs ?? DETECTION_BUDGET_MS;
  const started = now();
  const overBudget = (): boolean => now() - started > budget;

  // The rules' lexicon pass, shared with the classifier's features and the readability check.
  let lexicon: LexiconView | undefined;
  try {
    let ruleFlags: RuleFlag[];
    if (options.rules) ruleFlags = options.rules(text);
    else {
      lexicon = readLexicon(text);
      ruleFlags = ruleFlagsFrom(text, lexicon);
    }
    for (const flag of ruleFlags) byCode.set(flag.code, { ...flag, detectedBy: ['RULES'], signals: [] });
  } catch {
    safety.push(safetyFlag('DETECTION_FAILED', 'the rules could not assess this message'));
  }

  if (classifier && overBudget()) {
    safety.push(safetyFlag('DETECTION_TIMEOUT', 'the rules took longer than allowed; the classifier did not run'));
  } else if (classifier) {
    try {
      for (const found of classifier.classify(text, lexicon)) {
        const existing = byCode.get(found.code);
        if (existing) {
          existing.detectedBy.push('CLASSIFIER');
          existing.signals = found.evidence;
        } else {
          byCode.set(found.code, { code: found.code, urgency: RED_FLAG_URGENCY[found.code], evidence: found.evidence.join(', '), detectedBy: ['CLASSIFIER'], signals: found.evidence });
        }
      }
      if (overBudget()) safety.push(safetyFlag('DETECTION_TIMEOUT', 'detection took longer than allowed'));
    } catch {
      safety.push(safetyFlag('DETECTION_FAILED', 'the classifier could not assess this message'));
    }
  }

  // Without a classifier there is no vocabulary: the message is judged on its script alone.
  const readability = readabilityOf(text, (word) => classifier?.knows(word) ?? true, lexicon?.tokens);
  if (!readability.readable) safety.push(safetyFlag('UNREADABLE_MESSAGE', `${readability.reason}: ${readability.evidence}`));

  return ordered([...byCode.values(), ...safety]);
}

/**
 * Adds the codes a reviewer (the LLM) found to the detectors' flags. Only adds: a code the
 * detectors raised stays whatever the reviewer says, and unknown codes are ignored.
 */
export function addReviewedFlags(flags: readonly RedFlag[], reviewed: readonly string[], evidence: string): RedFlag[] {
  const result = flags.map((flag) => ({ ...flag, detectedBy: [...flag.detectedBy], signals: [...flag.signals] }));
  for (const code of new Set(reviewed)) {
    if (!isRedFlagCode(code)) continue;
    const existing = result.find((flag) => flag.code === code);
    if (existing) {
      if (!existing.detectedBy.includes('LLM')) existing.detectedBy.push('LLM');
    } else {
      result.push({ code, urgency: RED_FLAG_URGENCY[code], evidence, detectedBy: ['LLM'], signals: [] });
    }
  }
  return ordered(result);
}
