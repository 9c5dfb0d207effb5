import { mentions, SUBSCORE_SECTIONS, type CaseContent, type RubricCriterion, type Section, type Severity } from './case-content.js';

/** Everything scoring looks at: the session's record, nothing else (so re-scoring is stable). */
export interface SessionRecord {
  learnerTurns: string[];
  /** Facts and findings the patient revealed during the conversation. */
  revealedFactIds: string[];
  examinedFindingIds: string[];
  orderedCodes: string[];
  diagnosis: string | null;
  managementPlan: string | null;
}

export interface FlaggedError {
  code: string;
  severity: Severity;
  message: string;
}

export interface SubScore {
  section: Section;
  /** 0–100, or null when the rubric has no item in this section. */
  score: number | null;
  achieved: number;
  possible: number;
}

export interface ScoreCard {
  total: number;
  subScores: SubScore[];
  /** Safety first, then critical, then minor; stable order within a severity. */
  flaggedErrors: FlaggedError[];
  /** Which rubric items were met, for feedback. */
  metItemIds: string[];
}

/** What each flagged error costs off the total, in points. */
export const PENALTY: Record<Severity, number> = { safety: 25, critical: 10, minor: 2 };
const SEVERITY_ORDER: Record<Severity, number> = { safety: 0, critical: 1, minor: 2 };

export function diagnosisMatches(content: CaseContent, diagnosis: string | null): boolean {
  if (!diagnosis) return false;
  return [content.expectedDiagnosis.name, ...content.expectedDiagnosis.synonyms].some((name) => mentions(diagnosis, name));
}

function criterionMet(criterion: RubricCriterion, record: SessionRecord, content: CaseContent): boolean {
  switch (criterion.kind) {
    case 'askedAbout':
      return criterion.factIds.every((id) => record.revealedFactIds.includes(id));
    case 'examined':
      return criterion.findingIds.every((id) => record.examinedFindingIds.includes(id));
    case 'ordered':
      return criterion.codes.every((code) => record.orderedCodes.includes(code));
    case 'diagnosis':
      return diagnosisMatches(content, record.diagnosis);
    case 'managementIncludes':
      return record.managementPlan !== null && criterion.anyOf.some((phrase) => mentions(record.managementPlan ?? '', phrase));
    case 'saidAnyOf':
      return record.learnerTurns.some((turn) => criterion.phrases.some((phrase) => mentions(turn, phrase)));
  }
}

/** Plans that send the patient home. */
const DISCHARGE_PHRASES = ['discharge', 'send home', 'sent home', 'go home', 'no follow up needed', 'reassure and discharge'];

function safetyErrors(content: CaseContent, record: SessionRecord): FlaggedError[] {
  const plan = record.managementPlan ?? '';
  const errors: FlaggedError[] = [];
  for (const rule of content.safetyRules) {
    let violated = false;
    switch (rule.kind) {
      case 'prescribesAllergen':
        violated = rule.drugs.some((drug) => mentions(plan, drug));
        break;
      case 'missedInvestigation':
        violated = !record.orderedCodes.includes(rule.code);
        break;
      case 'dischargedWithRedFlag':
        violated = content.persona.hasRedFlag && DISCHARGE_PHRASES.some((phrase) => mentions(plan, phrase));
        break;
      case 'managementMentions':
        violated = rule.anyOf.some((phrase) => mentions(plan, phrase));
        break;
    }
    if (violated) errors.push({ code: rule.id, severity: rule.severity, message: rule.message });
  }
  return errors.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}

/**
 * The safety sub-score loses PENALTY.safety points for each flagged error of severity safety,
 * never below 0: a session that harmed the patient cannot show full marks for safety, however
 * many safety items it met. A case without safety items has no safety sub-score (null) until
 * such an error is flagged; then it starts from 100.
 */
export function safetySubScore(fromRubric: number | null, safetyErrors: number): number | null {
  if (safetyErrors === 0) return fromRubric;
  return Math.max(0, (fromRubric ?? 100) - PENALTY.safety * safetyErrors);
}

/**
 * Deterministic scoring from the rubric and the session's record. Each section scores the
 * weight of its met items over its possible weight (safety also less its penalty, see
 * safetySubScore); the total does the same over all items, less a fixed penalty per flagged
 * error, never below 0.
 */
export function scoreSession(content: CaseContent, record: SessionRecord): ScoreCard {
  const met = content.rubric.filter((item) => criterionMet(item.criterion, record, content));
  const metIds = new Set(met.map((item) => item.id));
  const flaggedErrors = safetyErrors(content, record);
  const safetyErrorCount = flaggedErrors.filter((error) => error.severity === 'safety').length;
  const subScores = SUBSCORE_SECTIONS.map((section): SubScore => {
    const items = content.rubric.filter((item) => item.section === section);
    const possible = items.reduce((sum, item) => sum + item.weight, 0);
    const achieved = items.filter((item) => metIds.has(item.id)).reduce((sum, item) => sum + item.weight, 0);
    const score = possible === 0 ? null : Math.round((100 * achieved) / possible);
    return { section, achieved, possible, score: section === 'safety' ? safetySubScore(score, safetyErrorCount) : score };
  });
  const possible = content.rubric.reduce((sum, item) => sum + item.weight, 0);
  const achieved = met.reduce((sum, item) => sum + item.weight, 0);
  const penalty = flaggedErrors.reduce((sum, error) => sum + PENALTY[error.severity], 0);
  const total = Math.max(0, Math.round((100 * achieved) / possible) - penalty);
  return { total, subScores, flaggedErrors, metItemIds: content.rubric.filter((item) => metIds.has(item.id)).map((item) => item.id) };
}
