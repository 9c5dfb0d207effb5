import { findIdentifiers, validateCaseContent, type CaseContent } from '../../subgraphs/training/domain/case-content.js';
import { answerAsPatient, tokenize } from '../../subgraphs/training/domain/responder.js';
import { PENALTY, safetySubScore, scoreSession, type SessionRecord } from '../../subgraphs/training/domain/scoring.js';
import { SEED_CASES } from '../../prisma/seed-cases.js';

const acs = SEED_CASES.find((c) => c.slug === 'chest-pain-acs')?.content as CaseContent;
const empty: SessionRecord = { learnerTurns: [], revealedFactIds: [], examinedFindingIds: [], orderedCodes: [], diagnosis: null, managementPlan: null };

describe('case content', () => {
  it.each(SEED_CASES.map((c) => [c.slug, c.content] as const))('seed case %s is complete and synthetic', (_slug, content) => {
    expect(validateCaseContent(content)).toEqual([]);
  });

  it.each([
    ['an email', 'Contact me at jane.doe@example.org'],
    ['a phone number', 'Call +44 20 7946 0958'],
    ['a US SSN', 'SSN 123-45-6789'],
    ['an NHS number', '943 476 5919'],
    ['an MRN', 'MRN: AB123456'],
    ['a long number', 'Patient 123456789012'],
  ])('refuses %s anywhere in the content', (_label, text) => {
    const tainted: CaseContent = { ...acs, history: [...acs.history, { id: 'x', keywords: ['x'], answer: text }] };
    const problems = validateCaseContent(tainted);
    expect(problems.map((p) => p.path)).toContain(`history[${acs.history.length}].answer`);
  });

  it('does not mistake clinical values for identifiers', () => {
    expect(findIdentifiers(['blood pressure 150/92', 'troponin 1850 ng/L', 'pH 7.12', 'temperature 38.7', 'pulse 104', 'ST elevation of 3 mm in leads II, III and aVF'])).toEqual([]);
  });

  it('reports rubric references that do not resolve, and all problems at once', () => {
    const broken: CaseContent = {
      ...acs,
      persona: { ...acs.persona, age: 300 },
      rubric: [...acs.rubric, { id: 'bad', section: 'history', description: 'x', weight: 5, criterion: { kind: 'ordered', codes: ['MRI'] } }],
    };
    const paths = validateCaseContent(broken).map((p) => `${p.path}: ${p.message}`);
    expect(paths).toEqual(expect.arrayContaining(['persona.age: must be a whole number from 0 to 120', `rubric[${acs.rubric.length}].criterion: unknown investigation MRI`]));
  });
});

describe('embedded patient', () => {
  it('reveals a fact only when asked about it, and stays in persona otherwise', () => {
    const asked = answerAsPatient(acs, 'Does the pain spread anywhere, like your arm?');
    expect(asked.revealedFactIds).toEqual(['radiation']);
    expect(asked.text).toContain('left arm');
    const unrelated = answerAsPatient(acs, 'What is your favourite football team?');
    expect(unrelated).toEqual({ text: "I'm sorry, I don't really know about that.", revealedFactIds: [], examinedFindingIds: [] });
    expect(answerAsPatient(acs, 'Hello, my name is Dr Lee').text).toBe(acs.persona.opening);
  });

  it('reveals examination findings only on a request to examine', () => {
    const exam = answerAsPatient(acs, 'I would like to check your vital signs');
    expect(exam.examinedFindingIds).toEqual(['vitals']);
    expect(exam.text).toContain('pulse 104');
    expect(answerAsPatient(acs, 'Is your pulse usually fast?').examinedFindingIds).toEqual([]);
  });

  it('streams word by word and the pieces rebuild the text', () => {
    const text = answerAsPatient(acs, 'Any allergies?').text;
    const pieces = tokenize(text);
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.join('')).toBe(text);
  });
});

describe('scoring', () => {
  const good: SessionRecord = {
    learnerTurns: ['Hello, my name is Dr Lee', 'When did it start?', 'Does it spread?'],
    revealedFactIds: ['onset', 'character', 'radiation', 'risk-factors', 'allergies'],
    examinedFindingIds: ['vitals'],
    orderedCodes: ['ECG', 'TROPONIN'],
    diagnosis: 'Inferior STEMI',
    managementPlan: 'Activate the cath lab for primary PCI, load with ticagrelor, morphine, monitoring',
  };

  it('scores a complete work-up 100 with no flagged errors, identically every time', () => {
    const card = scoreSession(acs, good);
    expect(card.total).toBe(100);
    expect(card.flaggedErrors).toEqual([]);
    expect(card.subScores.find((s) => s.section === 'management')?.score).toBe(100);
    expect(scoreSession(acs, good)).toEqual(card);
  });

  it('flags prescribing the allergen and discharging, safety first, and penalises them', () => {
    const card = scoreSession(acs, { ...good, orderedCodes: ['TROPONIN'], managementPlan: 'Give aspirin 300 mg and discharge home with GP follow up' });
    expect(card.flaggedErrors.map((e) => [e.code, e.severity])).toEqual([
      ['ALLERGEN_PRESCRIBED', 'safety'],
      ['DISCHARGED_WITH_RED_FLAG', 'safety'],
      ['MISSED_ECG', 'critical'],
    ]);
    const unpenalised = Math.round((100 * (100 - 15 - 10 - 5)) / 100);
    expect(card.total).toBe(Math.max(0, unpenalised - 2 * PENALTY.safety - PENALTY.critical));
    // The safety sub-score loses the safety penalty per safety error; the critical miss does not touch it.
    const safety = card.subScores.find((s) => s.section === 'safety');
    const fromRubric = safety && safety.possible > 0 ? Math.round((100 * safety.achieved) / safety.possible) : 100;
    expect(safety?.score).toBe(Math.max(0, fromRubric - 2 * PENALTY.safety));
    expect(safety?.score).toBeLessThan(100);
  });

  it('lowers the safety sub-score only for safety errors, never below 0, and gives a case without safety items one when it has such an error', () => {
    expect(safetySubScore(100, 0)).toBe(100);
    expect(safetySubScore(100, 1)).toBe(100 - PENALTY.safety);
    expect(safetySubScore(60, 3)).toBe(0);
    expect(safetySubScore(null, 0)).toBeNull();
    expect(safetySubScore(null, 1)).toBe(100 - PENALTY.safety);
    const missedEcgOnly = scoreSession(acs, { ...good, orderedCodes: ['TROPONIN'] });
    expect(missedEcgOnly.flaggedErrors.map((e) => e.severity)).toEqual(['critical']);
    expect(missedEcgOnly.subScores.find((s) => s.section === 'safety')?.score).toBe(scoreSession(acs, good).subScores.find((s) => s.section === 'safety')?.score);
  });

  it('gives nothing for an empty session but the critical miss', () => {
    const card = scoreSession(acs, empty);
    expect(card.total).toBe(0);
    expect(card.subScores.every((s) => s.score === 0 || s.score === null)).toBe(true);
    expect(card.flaggedErrors.map((e) => e.code)).toEqual(['MISSED_ECG']);
  });

  it('accepts diagnosis synonyms but not near misses', () => {
    expect(scoreSession(acs, { ...empty, diagnosis: 'heart attack' }).metItemIds).toContain('d-acs');
    expect(scoreSession(acs, { ...empty, diagnosis: 'heartburn' }).metItemIds).not.toContain('d-acs');
  });
});
