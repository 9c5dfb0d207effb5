import type { SubgraphDeps } from '../kit/context.js';
import { detectRedFlags, type RedFlag } from '../kit/red-flags/red-flag-detector.js';
import { emergencyGuidance } from '../kit/red-flags/red-flags.js';
import { LlmTriageReviewer, type LlmTriage, type TriageReviewer } from './adapters/llm-triage.js';

/**
 * Triage before booking: how urgent the patient's problem is, how sure the assessment is,
 * what it may be and what to do — with the reasons, in the patient's words. The red-flag engine
 * chat uses (kit/red-flags) decides the emergencies: a critical flag is CRITICAL, with the
 * emergency guidance, and nothing is booked. Below that, common complaints are recognised by
 * their words to suggest likely conditions; the clinician sees all of it. With an LLM
 * configured, its assessment is added: it may raise the urgency, never lower it, and a slow or
 * failed answer leaves the rules' triage as it is.
 */
export type Urgency = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export interface Triage {
  urgency: Urgency;
  /** 0-100. */
  confidence: number;
  likelyConditions: string[];
  recommendation: string;
  reasons: string[];
  /** Set when CRITICAL: what the patient must do now. */
  emergencyGuidance: string | null;
  assessedBy: string[];
}

/** What a red flag suggests, for the clinician (possibilities, never a diagnosis). */
const FLAG_CONDITIONS: Record<string, string> = {
  CHEST_PAIN: 'Acute coronary syndrome (to exclude)',
  BREATHING_DIFFICULTY: 'Acute respiratory distress',
  STROKE_SIGNS: 'Stroke or transient ischaemic attack',
  SEVERE_BLEEDING: 'Haemorrhage',
  SUICIDAL_OR_SELF_HARM: 'Mental health crisis',
  ANAPHYLAXIS: 'Anaphylaxis',
  SEIZURE: 'Seizure',
  LOSS_OF_CONSCIOUSNESS: 'Syncope or reduced consciousness',
  INFANT_FEVER: 'Serious bacterial infection in an infant (to exclude)',
  PREGNANCY_BLEEDING: 'Bleeding in pregnancy',
  SUDDEN_SEVERE_HEADACHE: 'Subarachnoid haemorrhage (to exclude)',
  OVERDOSE_OR_POISONING: 'Poisoning or overdose',
  SEPSIS_SIGNS: 'Sepsis',
};

/** Common complaints below the red flags: words, what they suggest, and how soon. */
const COMPLAINTS: ReadonlyArray<{ words: RegExp; condition: string; urgency: 'LOW' | 'MEDIUM' }> = [
  { words: /\b(fever|feverish|temperature|chills|malaria)\b/i, condition: 'Febrile illness (malaria to exclude where endemic)', urgency: 'MEDIUM' },
  { words: /\b(cough|coughing|sore throat|runny nose|congestion)\b/i, condition: 'Upper respiratory tract infection', urgency: 'LOW' },
  { words: /\b(diarrh(o)?ea|vomit(ing)?|stomach (ache|pain)|abdominal pain)\b/i, condition: 'Gastroenteritis', urgency: 'MEDIUM' },
  { words: /\b(burning (when|on) (peeing|urinating)|painful urination|urinary)\b/i, condition: 'Urinary tract infection', urgency: 'MEDIUM' },
  { words: /\b(rash|itch(y|ing)?|hives|eczema)\b/i, condition: 'Dermatitis or skin infection', urgency: 'LOW' },
  { words: /\b(headache|migraine)\b/i, condition: 'Tension-type headache or migraine', urgency: 'LOW' },
  { words: /\b(back pain|joint pain|knee pain|sprain)\b/i, condition: 'Musculoskeletal pain', urgency: 'LOW' },
  { words: /\b(anxious|anxiety|low mood|depressed|can'?t sleep|insomnia)\b/i, condition: 'Anxiety, low mood or sleep problem', urgency: 'LOW' },
  { words: /\b(blood pressure|hypertension|diabetes|sugar levels|refill|repeat prescription)\b/i, condition: 'Long-term condition review', urgency: 'LOW' },
];

const RECOMMENDATION: Record<Urgency, string> = {
  CRITICAL: 'Call emergency services now. A video consultation is not safe for this.',
  HIGH: 'See a clinician within the hour: book the earliest slot, or go to urgent care if none is free.',
  MEDIUM: 'See a clinician today or tomorrow.',
  LOW: 'A routine consultation is appropriate.',
};

export function triageOf(symptoms: string): Triage {
  const flags: RedFlag[] = detectRedFlags(symptoms);
  const critical = flags.filter((flag) => flag.urgency === 'critical');
  const high = flags.filter((flag) => flag.urgency === 'high');
  const complaints = COMPLAINTS.filter((complaint) => complaint.words.test(symptoms));
  const flagged = [...critical, ...high];
  const urgency: Urgency = critical.length ? 'CRITICAL' : high.length ? 'HIGH' : complaints.some((c) => c.urgency === 'MEDIUM') ? 'MEDIUM' : 'LOW';
  const likelyConditions = [...new Set([...flagged.map((flag) => FLAG_CONDITIONS[flag.code] ?? flag.code), ...complaints.map((c) => c.condition)])];
  const reasons = [
    ...flagged.map((flag) => `${flag.code.toLowerCase().replace(/_/g, ' ')}: “${flag.evidence}”`),
    ...complaints.map((c) => `${c.condition}: “${(symptoms.match(c.words)?.[0] ?? '').toLowerCase()}”`),
  ];
  // Red flags are matched rules with the patient's words as evidence; complaints are single words; nothing matched is a guess.
  const confidence = flagged.length ? 90 : complaints.length ? Math.min(75, 55 + 10 * complaints.length) : 40;
  return {
    urgency, confidence, likelyConditions, reasons: reasons.length ? reasons : ['No red flag or recognised complaint in the description'],
    recommendation: RECOMMENDATION[urgency], emergencyGuidance: urgency === 'CRITICAL' ? emergencyGuidance(critical) : null, assessedBy: ['RULES'],
  };
}

const RANK: Record<Urgency, number> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };
/** How long booking waits for the LLM before the rules' triage stands alone. */
export const LLM_TRIAGE_BUDGET_MS = 8_000;

/** The rules' triage with the LLM's added: the higher urgency wins (with its recommendation), conditions and reasons are joined. */
export function combine(rules: Triage, llm: LlmTriage): Triage {
  const raised = RANK[llm.urgency] > RANK[rules.urgency];
  const urgency: Urgency = raised ? llm.urgency : rules.urgency;
  const agree = llm.urgency === rules.urgency;
  return {
    urgency,
    confidence: raised ? llm.confidence : agree ? Math.max(rules.confidence, llm.confidence) : rules.confidence,
    likelyConditions: [...new Set([...rules.likelyConditions, ...llm.likelyConditions])],
    recommendation: raised && llm.recommendation ? llm.recommendation : rules.recommendation,
    reasons: [...rules.reasons, ...llm.reasons.map((reason) => `LLM: ${reason}`)],
    emergencyGuidance: urgency === 'CRITICAL' ? (rules.emergencyGuidance ?? emergencyGuidance([{ code: 'LLM_ASSESSMENT', urgency: 'critical' }])) : null,
    assessedBy: [...rules.assessedBy, 'LLM'],
  };
}

const reviewers = new WeakMap<object, TriageReviewer>();

/** The rules' triage, and the LLM's when one is configured (within the budget; its failure is logged, never the symptoms). */
export async function assess(deps: Pick<SubgraphDeps, 'llm' | 'log'>, symptoms: string, reviewer?: TriageReviewer): Promise<Triage> {
  const rules = triageOf(symptoms);
  if (!deps.llm && !reviewer) return rules;
  let chosen = reviewer;
  if (!chosen && deps.llm) {
    chosen = reviewers.get(deps.llm);
    if (!chosen) reviewers.set(deps.llm, (chosen = new LlmTriageReviewer(deps.llm)));
  }
  if (!chosen) return rules;
  try {
    const llm = await chosen.review(symptoms, AbortSignal.timeout(LLM_TRIAGE_BUDGET_MS));
    return llm ? combine(rules, llm) : rules;
  } catch (error) {
    deps.log.warn({ err: error instanceof Error ? error.name : 'error' }, 'LLM triage failed; the rules’ triage stands');
    return rules;
  }
}
