import { suppression } from './context.js';
import { createCorrector } from './fuzzy.js';
import { compilePattern, matchAt, patternWords, type CompiledPattern, type PatternMatch } from './patterns.js';
import {
  AGE_UNIT_DAYS,
  ALLERGY_CUES,
  FUZZY_TARGETS,
  INFANT_MAX_AGE_DAYS,
  LEXICON,
  NEWBORN_WORDS,
  PREGNANCY_PATTERNS,
  WORD_CLASSES,
  type LexiconRule,
  type RedFlagCode,
} from './red-flag-lexicon.js';
import { spanText, tokenise, type Token } from './text.js';

/**
 * Red-flag detection for patient chat messages: runs on every message before the assistant
 * answers. Deterministic and rule-based so a nurse can see why a flag fired (`evidence` quotes the
 * message) and a clinician can review the rules; it does not throw on any input (an internal
 * failure would surface rather than silently clear an emergency), and its work is linear in the
 * (capped) message length.
 *
 * Pipeline: tokenise and split clauses (text.ts) → correct misspellings of salient words
 * (fuzzy.ts) → match lexicon phrases (red-flag-lexicon.ts, patterns.ts) → drop matches that are
 * negated, hypothetical, in the past or about someone else (context.ts) → message-level rules
 * (infant age, pregnancy, allergy) → one flag per code, critical first.
 */

export { RED_FLAG_CODES, type RedFlagCode } from './red-flag-lexicon.js';

export type RedFlagUrgency = 'critical' | 'high';

/** A flag the rules raised. */
export interface RuleFlag {
  code: RedFlagCode;
  urgency: RedFlagUrgency;
  /** The words of the message that raised the flag. */
  evidence: string;
}

/** What emergency guidance needs of a flag, whichever detector raised it. */
interface UrgentFlag {
  code: string;
  urgency: RedFlagUrgency;
}

/**
 * Critical: minutes matter and the patient should call emergency services now — the assistant
 * replaces its answer with emergencyGuidance() and a nurse is alerted.
 * High: needs a clinician the same hour but the usual first step is urgent advice rather than
 * an ambulance (NICE "red" for an infant's fever means urgent face-to-face assessment; bleeding
 * in pregnancy needs the early-pregnancy or maternity unit). Heavy bleeding in pregnancy also
 * raises SEVERE_BLEEDING, which is critical. Suicidal thoughts are critical even when passive:
 * the cost of a missed crisis outweighs an unnecessary crisis message.
 */
export const RED_FLAG_URGENCY: Readonly<Record<RedFlagCode, RedFlagUrgency>> = {
  CHEST_PAIN: 'critical',
  BREATHING_DIFFICULTY: 'critical',
  STROKE_SIGNS: 'critical',
  SEVERE_BLEEDING: 'critical',
  SUICIDAL_OR_SELF_HARM: 'critical',
  ANAPHYLAXIS: 'critical',
  SEIZURE: 'critical',
  LOSS_OF_CONSCIOUSNESS: 'critical',
  INFANT_FEVER: 'high',
  PREGNANCY_BLEEDING: 'high',
  SUDDEN_SEVERE_HEADACHE: 'critical',
  OVERDOSE_OR_POISONING: 'critical',
  SEPSIS_SIGNS: 'critical',
};

interface CompiledRule {
  rule: LexiconRule;
  pattern: CompiledPattern;
}

/** Rules indexed by the words their first element accepts, so each token tries only a few rules. */
interface RuleIndex {
  byFirstWord: ReadonlyMap<string, readonly CompiledRule[]>;
  /** Rules whose first element is a test (numbers) rather than words. */
  unindexed: readonly CompiledRule[];
}

function buildIndex(rules: readonly CompiledRule[]): RuleIndex {
  const byFirstWord = new Map<string, CompiledRule[]>();
  const unindexed: CompiledRule[] = [];
  for (const compiled of rules) {
    if (!compiled.pattern.firstWords) {
      unindexed.push(compiled);
      continue;
    }
    for (const word of compiled.pattern.firstWords) byFirstWord.set(word, [...(byFirstWord.get(word) ?? []), compiled]);
  }
  return { byFirstWord, unindexed };
}

const compileRule = (rule: LexiconRule): CompiledRule => ({ rule, pattern: compilePattern(rule.pattern, WORD_CLASSES) });

const SYMPTOM_RULES = LEXICON.map(compileRule);
const SYMPTOM_INDEX = buildIndex(SYMPTOM_RULES);
const PREGNANCY_RULES = PREGNANCY_PATTERNS.map((pattern) => compileRule({ code: 'PREGNANCY_BLEEDING', pattern }));
const PREGNANCY_INDEX = buildIndex(PREGNANCY_RULES);

const KNOWN_WORDS: ReadonlySet<string> = new Set([...SYMPTOM_RULES, ...PREGNANCY_RULES].flatMap((r) => patternWords(r.pattern)));
const correctSpelling = createCorrector(FUZZY_TARGETS, KNOWN_WORDS);

export interface Finding {
  code: RedFlagCode;
  match: PatternMatch;
}

/** Every lexicon match in the message, before context is considered. */
function findMatches(tokens: readonly Token[], index: RuleIndex): Finding[] {
  const findings: Finding[] = [];
  for (const token of tokens) {
    const candidates = [...(index.byFirstWord.get(token.canon) ?? []), ...index.unindexed];
    for (const { rule, pattern } of candidates) {
      const match = matchAt(pattern, tokens, token.index);
      if (match && passesRuleChecks(rule, tokens, match)) findings.push({ code: rule.code, match });
    }
  }
  return findings;
}

function passesRuleChecks(rule: LexiconRule, tokens: readonly Token[], match: PatternMatch): boolean {
  const before = tokens[match.from - 1];
  const after = tokens[match.to + 1];
  const clause = tokens[match.from]?.clause;
  if (rule.unlessBefore && before && before.clause === clause && rule.unlessBefore.includes(before.norm)) return false;
  if (rule.unlessAfter && after && after.clause === clause && rule.unlessAfter.includes(after.norm)) return false;
  if (rule.unlessInClause && clauseHasWord(tokens, match, rule.unlessInClause)) return false;
  return rule.accept ? rule.accept(tokens, match.from, match.to) : true;
}

/** Looks a bounded distance either side: clauses are short, and long ones must not cost quadratic time. */
function clauseHasWord(tokens: readonly Token[], match: PatternMatch, list: readonly string[]): boolean {
  const clause = tokens[match.from]?.clause;
  for (let i = Math.max(0, match.from - 15); i <= Math.min(tokens.length - 1, match.to + 15); i += 1) {
    const token = tokens[i];
    if (token && token.clause === clause && list.includes(token.norm)) return true;
  }
  return false;
}

/** A stated age under three months anywhere in the message (the fever may be in another clause). */
function mentionsYoungInfant(tokens: readonly Token[]): boolean {
  return tokens.some((token, i) => {
    if (NEWBORN_WORDS.has(token.canon)) return true;
    if (token.norm === 'new' && tokens[i + 1]?.norm === 'born') return true;
    const unitDays = AGE_UNIT_DAYS[tokens[i + 1]?.norm ?? ''];
    if (token.value === null || unitDays === undefined) return false;
    const saysOld = tokens[i + 2]?.norm === 'old' || (tokens[i - 1]?.norm === 'born' && tokens[i + 2]?.norm === 'ago');
    return saysOld && token.value * unitDays <= INFANT_MAX_AGE_DAYS;
  });
}

function mentionsCurrentPregnancy(tokens: readonly Token[]): boolean {
  return findMatches(tokens, PREGNANCY_INDEX).some((f) => suppression(tokens, f.match) === null);
}

function mentionsAllergy(tokens: readonly Token[]): Token | undefined {
  return tokens.find((token, i) => ALLERGY_CUES.has(token.canon) && tokens[i - 1]?.norm !== 'no');
}

/** Context rules: which of the lexicon's matches are about the patient (or their infant), now. */
function currentFindings(tokens: readonly Token[], matches: readonly Finding[]): Finding[] {
  const infant = mentionsYoungInfant(tokens);
  let pregnant: boolean | null = null;
  return matches.filter((finding) => {
    if (finding.code === 'INFANT_FEVER') return infant && suppression(tokens, finding.match, true) === null;
    if (finding.code === 'PREGNANCY_BLEEDING') {
      pregnant ??= mentionsCurrentPregnancy(tokens);
      if (!pregnant) return false;
    }
    return suppression(tokens, finding.match) === null;
  });
}

/**
 * One pass of the rules' lexicon over a message: the tokens with misspellings corrected, every
 * phrase match (before context) and the matches that are about the patient now (after it). The
 * rules' flags and the classifier's features are both read from it, so a message is tokenised
 * and matched once.
 */
export interface LexiconView {
  tokens: readonly Token[];
  matches: readonly Finding[];
  current: readonly Finding[];
}

export function readLexicon(text: string): LexiconView {
  const tokens = tokenise(text, correctSpelling);
  const matches = findMatches(tokens, SYMPTOM_INDEX);
  return { tokens, matches, current: currentFindings(tokens, matches) };
}

/**
 * The red flags the rules find in a message, at most one per code (its first occurrence),
 * critical ones first. No catch-all here: if the rules ever failed, an empty result would
 * silently clear an emergency; the combined detector (red-flag-detector.ts) turns an exception
 * into a nurse alert (fail safe).
 */
export function detectRuleFlags(text: string): RuleFlag[] {
  if (typeof text !== 'string' || text.trim() === '') return [];
  return ruleFlagsFrom(text, readLexicon(text));
}

/** The rules' flags from a lexicon pass over `text` (the view is not changed). */
export function ruleFlagsFrom(text: string, view: LexiconView): RuleFlag[] {
  const { tokens } = view;
  const findings = [...view.current];
  const allergy = mentionsAllergy(tokens);
  const breathing = findings.find((f) => f.code === 'BREATHING_DIFFICULTY');
  // Breathing trouble with an allergy cue is anaphylaxis until proven otherwise.
  if (allergy && breathing && !findings.some((f) => f.code === 'ANAPHYLAXIS')) findings.push({ code: 'ANAPHYLAXIS', match: breathing.match });
  const firstByCode = new Map<RedFlagCode, Finding>();
  for (const finding of findings) {
    const existing = firstByCode.get(finding.code);
    if (!existing || finding.match.from < existing.match.from) firstByCode.set(finding.code, finding);
  }
  return [...firstByCode.values()]
    .sort((a, b) => urgencyRank(a.code) - urgencyRank(b.code) || a.match.from - b.match.from)
    .map((f) => ({ code: f.code, urgency: RED_FLAG_URGENCY[f.code], evidence: spanText(text, tokens, f.match.from, f.match.to) }));
}

function urgencyRank(code: RedFlagCode): number {
  return RED_FLAG_URGENCY[code] === 'critical' ? 0 : 1;
}

export function isCritical(flags: readonly UrgentFlag[]): boolean {
  return flags.some((flag) => flag.urgency === 'critical');
}

const EMERGENCY_MESSAGE = [
  'This could be an emergency. Please call your local emergency number now (for example 911, 999 or 112).',
  "If you can't call, ask someone near you to call for you. Don't drive yourself.",
  "A nurse from your care team is being alerted too, but please don't wait for us.",
];
/** Added when the message suggests the patient may harm themselves: stay with someone. */
const SELF_HARM_LINE = "If you are thinking about ending your life or hurting yourself, you don't have to face this alone: stay with someone you trust while you call.";
/** Added after an overdose or poisoning: the packet tells the emergency team what was taken. */
const POISONING_LINE = 'Keep any packets or containers of what was taken to show the emergency team.';

/**
 * What the assistant sends instead of its normal reply when any flag is critical; null when none
 * is. Plain and short, no diagnosis: the point is to get the patient to call.
 */
export function emergencyGuidance(flags: readonly UrgentFlag[]): string | null {
  if (!isCritical(flags)) return null;
  const lines = [...EMERGENCY_MESSAGE];
  if (flags.some((f) => f.code === 'SUICIDAL_OR_SELF_HARM')) lines.splice(1, 0, SELF_HARM_LINE);
  if (flags.some((f) => f.code === 'OVERDOSE_OR_POISONING')) lines.splice(lines.length - 1, 0, POISONING_LINE);
  return lines.join(' ');
}
