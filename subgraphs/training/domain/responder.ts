import { mentions, normalize, type CaseContent } from './case-content.js';

/**
 * The embedded simulated patient: answers only from the case version's content. A question
 * that touches a history fact's keywords reveals that fact, in the patient's words; a request
 * to examine reveals matching findings; anything else gets an in-persona "I don't know".
 */
export interface PatientAnswer {
  text: string;
  revealedFactIds: string[];
  examinedFindingIds: string[];
}

const EXAMINATION_CUES = ['examine', 'examination', 'listen to', 'auscultate', 'palpate', 'look at', 'check your', 'feel your', 'vital signs', 'vitals'];
const GREETINGS = ['hello', 'hi', 'good morning', 'good afternoon', 'good evening', 'my name is'];

export function answerAsPatient(content: CaseContent, question: string): PatientAnswer {
  const examining = EXAMINATION_CUES.some((cue) => mentions(question, cue));
  const findings = examining ? content.examination.filter((finding) => finding.keywords.some((k) => mentions(question, k))) : [];
  const facts = content.history.filter((fact) => fact.keywords.some((k) => mentions(question, k)));
  const parts: string[] = [];
  if (findings.length > 0) parts.push(`(On examination: ${findings.map((f) => f.finding).join('; ')}.)`);
  else if (examining && content.examination.length > 0) parts.push('(You may examine me — which part would you like to examine?)');
  parts.push(...facts.map((fact) => fact.answer));
  if (parts.length === 0) {
    const greeting = GREETINGS.some((g) => normalize(question).startsWith(normalize(g)));
    parts.push(greeting ? content.persona.opening : "I'm sorry, I don't really know about that.");
  }
  return { text: parts.join(' '), revealedFactIds: facts.map((f) => f.id), examinedFindingIds: findings.map((f) => f.id) };
}

/** Splits a reply into the small pieces it is streamed in: words with their trailing space. */
export function tokenize(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}
