/**
 * What a case version holds, and the checks it must pass before it can be saved: a complete
 * synthetic persona, a rubric whose references resolve, and nothing shaped like a real
 * person's identifier. Pure functions; no database, no GraphQL.
 */

export const SUBSCORE_SECTIONS = ['history', 'examination', 'investigations', 'diagnosis', 'management', 'communication', 'safety'] as const;
export type Section = (typeof SUBSCORE_SECTIONS)[number];

export const SEVERITIES = ['safety', 'critical', 'minor'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Something the patient can tell, revealed when the learner asks about it. */
export interface HistoryFact {
  id: string;
  /** Words or phrases in a question that make the patient tell this. */
  keywords: string[];
  /** What the patient says, in the first person. */
  answer: string;
}

export interface ExaminationFinding {
  id: string;
  keywords: string[];
  finding: string;
}

export interface Investigation {
  /** The code a learner orders by (e.g. `ECG`, `TROPONIN`). */
  code: string;
  name: string;
  result: string;
  /** Missing it is a critical error. */
  critical?: boolean;
}

export interface Persona {
  name: string;
  age: number;
  sex: 'female' | 'male' | 'other';
  presentingComplaint: string;
  /** How the patient opens the conversation. */
  opening: string;
  allergies: string[];
  medications: string[];
  /** True when sending the patient home would be unsafe. */
  hasRedFlag: boolean;
}

export type RubricCriterion =
  | { kind: 'askedAbout'; factIds: string[] }
  | { kind: 'examined'; findingIds: string[] }
  | { kind: 'ordered'; codes: string[] }
  | { kind: 'diagnosis' }
  | { kind: 'managementIncludes'; anyOf: string[] }
  | { kind: 'saidAnyOf'; phrases: string[] };

export interface RubricItem {
  id: string;
  section: Section;
  description: string;
  weight: number;
  criterion: RubricCriterion;
}

export type SafetyRule =
  | { id: string; kind: 'prescribesAllergen'; severity: Severity; message: string; /** drug names that count as the allergen */ drugs: string[] }
  | { id: string; kind: 'missedInvestigation'; severity: Severity; message: string; code: string }
  | { id: string; kind: 'dischargedWithRedFlag'; severity: Severity; message: string }
  | { id: string; kind: 'managementMentions'; severity: Severity; message: string; anyOf: string[] };

export interface CaseContent {
  persona: Persona;
  history: HistoryFact[];
  examination: ExaminationFinding[];
  investigations: Investigation[];
  expectedDiagnosis: { name: string; synonyms: string[] };
  expectedManagement: string[];
  rubric: RubricItem[];
  safetyRules: SafetyRule[];
}

export interface ContentProblem {
  path: string;
  message: string;
}

/**
 * Patterns of identifiers a synthetic case must never contain: a case that looks like it was
 * copied from a real record is refused, whatever else it says.
 */
const IDENTIFIER_PATTERNS: Array<{ label: string; pattern: RegExp }> = [
  { label: 'an email address', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/ },
  { label: 'a phone number', pattern: /(?:\+\d{1,3}[\s-]?)?(?:\(\d{2,4}\)[\s-]?)?\d{3,4}[\s-]\d{3,4}(?:[\s-]\d{2,4})?/ },
  { label: 'a US social security number', pattern: /\b\d{3}-\d{2}-\d{4}\b/ },
  { label: 'a UK NHS number', pattern: /\b\d{3}\s\d{3}\s\d{4}\b/ },
  { label: 'an Aadhaar number', pattern: /\b\d{4}\s\d{4}\s\d{4}\b/ },
  { label: 'a Nigerian NIN', pattern: /\bNIN[:\s#]*\d{11}\b/i },
  { label: 'a medical record number', pattern: /\b(?:MRN|medical record(?: number)?|hospital (?:no|number))[:\s#]*[A-Z0-9-]{4,}\b/i },
  { label: 'a long number that could identify a person', pattern: /\b\d{9,}\b/ },
];

/** Every string in a value, with its path, for scanning. */
function* strings(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* strings(item, `${path}[${i}]`);
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) yield* strings(item, path ? `${path}.${key}` : key);
}

export function findIdentifiers(value: unknown): ContentProblem[] {
  const problems: ContentProblem[] = [];
  for (const [path, text] of strings(value, '')) {
    for (const { label, pattern } of IDENTIFIER_PATTERNS) {
      if (pattern.test(text)) {
        problems.push({ path, message: `looks like ${label}; case content must be synthetic` });
        break;
      }
    }
  }
  return problems;
}

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.trim().length > 0;

/** Structural checks plus the identifier scan. Returns every problem found, not just the first. */
export function validateCaseContent(content: CaseContent): ContentProblem[] {
  const problems: ContentProblem[] = [];
  const add = (path: string, message: string): void => void problems.push({ path, message });
  const { persona } = content;
  if (!nonEmpty(persona?.name)) add('persona.name', 'is required');
  if (!Number.isInteger(persona?.age) || persona.age < 0 || persona.age > 120) add('persona.age', 'must be a whole number from 0 to 120');
  if (!['female', 'male', 'other'].includes(persona?.sex)) add('persona.sex', 'must be female, male or other');
  if (!nonEmpty(persona?.presentingComplaint)) add('persona.presentingComplaint', 'is required');
  if (!nonEmpty(persona?.opening)) add('persona.opening', 'is required');
  if (content.history.length === 0) add('history', 'needs at least one fact');
  if (content.investigations.length === 0) add('investigations', 'needs at least one investigation');
  if (!nonEmpty(content.expectedDiagnosis?.name)) add('expectedDiagnosis.name', 'is required');
  if (content.expectedManagement.length === 0) add('expectedManagement', 'needs at least one step');

  const unique = (ids: string[], path: string): Set<string> => {
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) add(path, `id ${id} is used twice`);
      seen.add(id);
    }
    return seen;
  };
  const factIds = unique(content.history.map((f) => f.id), 'history');
  const findingIds = unique(content.examination.map((f) => f.id), 'examination');
  const codes = unique(content.investigations.map((i) => i.code), 'investigations');
  content.history.forEach((fact, i) => fact.keywords.length === 0 && add(`history[${i}].keywords`, 'needs at least one keyword'));

  if (content.rubric.length === 0) add('rubric', 'needs at least one item');
  unique(content.rubric.map((r) => r.id), 'rubric');
  content.rubric.forEach((item, i) => {
    const path = `rubric[${i}]`;
    if (!SUBSCORE_SECTIONS.includes(item.section)) add(`${path}.section`, `must be one of ${SUBSCORE_SECTIONS.join(', ')}`);
    if (!(item.weight > 0) || item.weight > 100) add(`${path}.weight`, 'must be more than 0 and at most 100');
    const c = item.criterion;
    if (c.kind === 'askedAbout') c.factIds.filter((id) => !factIds.has(id)).forEach((id) => add(`${path}.criterion`, `unknown history fact ${id}`));
    if (c.kind === 'examined') c.findingIds.filter((id) => !findingIds.has(id)).forEach((id) => add(`${path}.criterion`, `unknown examination finding ${id}`));
    if (c.kind === 'ordered') c.codes.filter((code) => !codes.has(code)).forEach((code) => add(`${path}.criterion`, `unknown investigation ${code}`));
  });
  unique(content.safetyRules.map((r) => r.id), 'safetyRules');
  content.safetyRules.forEach((rule, i) => {
    if (!SEVERITIES.includes(rule.severity)) add(`safetyRules[${i}].severity`, `must be one of ${SEVERITIES.join(', ')}`);
    if (rule.kind === 'missedInvestigation' && !codes.has(rule.code)) add(`safetyRules[${i}].code`, `unknown investigation ${rule.code}`);
  });
  problems.push(...findIdentifiers(content));
  return problems;
}

/** Lower-case words, for matching questions and plans against keywords. */
export function normalize(text: string): string {
  return ` ${text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim()} `;
}

/** True when `text` contains `phrase` as whole words (case and punctuation ignored). */
export function mentions(text: string, phrase: string): boolean {
  return normalize(text).includes(normalize(phrase));
}

/**
 * Checks that untrusted JSON has the shape of CaseContent before any deeper validation reads
 * it (an API caller can send anything). Returns the content, or the problems found.
 */
export function parseCaseContent(value: unknown): { content: CaseContent } | { problems: ContentProblem[] } {
  const problems: ContentProblem[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const isStringArray = (v: unknown): boolean => Array.isArray(v) && v.every((item) => typeof item === 'string');
  if (!isObject(value)) return { problems: [{ path: '', message: 'must be an object' }] };
  const expectObjectArray = (key: string, fields: Record<string, 'string' | 'string[]' | 'number' | 'object'>): void => {
    const list = value[key];
    if (!Array.isArray(list)) return void problems.push({ path: key, message: 'must be a list' });
    list.forEach((item, i) => {
      if (!isObject(item)) return void problems.push({ path: `${key}[${i}]`, message: 'must be an object' });
      for (const [field, type] of Object.entries(fields)) {
        const v = item[field];
        const ok = type === 'string[]' ? isStringArray(v) : type === 'object' ? isObject(v) : typeof v === type;
        if (!ok) problems.push({ path: `${key}[${i}].${field}`, message: `must be ${type === 'string[]' ? 'a list of strings' : `a ${type}`}` });
      }
    });
  };
  if (!isObject(value['persona'])) problems.push({ path: 'persona', message: 'must be an object' });
  else {
    const persona = value['persona'];
    if (!isStringArray(persona['allergies'])) problems.push({ path: 'persona.allergies', message: 'must be a list of strings' });
    if (!isStringArray(persona['medications'])) problems.push({ path: 'persona.medications', message: 'must be a list of strings' });
    if (typeof persona['hasRedFlag'] !== 'boolean') problems.push({ path: 'persona.hasRedFlag', message: 'must be true or false' });
  }
  expectObjectArray('history', { id: 'string', keywords: 'string[]', answer: 'string' });
  expectObjectArray('examination', { id: 'string', keywords: 'string[]', finding: 'string' });
  expectObjectArray('investigations', { code: 'string', name: 'string', result: 'string' });
  expectObjectArray('rubric', { id: 'string', section: 'string', description: 'string', weight: 'number', criterion: 'object' });
  expectObjectArray('safetyRules', { id: 'string', kind: 'string', severity: 'string', message: 'string' });
  const diagnosis = value['expectedDiagnosis'];
  if (!isObject(diagnosis) || typeof diagnosis['name'] !== 'string' || !isStringArray(diagnosis['synonyms'])) {
    problems.push({ path: 'expectedDiagnosis', message: 'must be { name, synonyms: [..] }' });
  }
  if (!isStringArray(value['expectedManagement'])) problems.push({ path: 'expectedManagement', message: 'must be a list of strings' });
  if (problems.length > 0) return { problems };
  const content = value as unknown as CaseContent;
  const deeper = validateCaseContent(content);
  return deeper.length > 0 ? { problems: deeper } : { content };
}
