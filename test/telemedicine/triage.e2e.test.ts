import { PATIENTS } from '../../prisma/seed-data.js';
import { combine, triageOf } from '../../subgraphs/telemedicine/triage.js';
import { parseLlmTriage, TRIAGE_PROMPT } from '../../subgraphs/telemedicine/adapters/llm-triage.js';
import { FakeOpenAI } from '../support/fake-openai.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Triage with an LLM configured (a local OpenAI-compatible fake), through the gateway: the
 * model's assessment can raise the rules' urgency, never lower it; an answer that is not the
 * JSON asked for leaves the rules' triage alone. And the rules and the combination on their own.
 */
let t: TestPlatform;
/** What the fake model answers, by a word of the patient's description. */
const ANSWERS: Record<string, string> = {
  dizzy: '{"urgency": "HIGH", "confidence": 70, "likelyConditions": ["Posterior circulation stroke (to exclude)"], "recommendation": "See a clinician within the hour.", "reasons": ["sudden blurred vision with dizziness"]}',
  chest: '{"urgency": "LOW", "confidence": 90, "likelyConditions": ["Muscle strain"], "recommendation": "Rest.", "reasons": ["sounds muscular"]}',
  cough: 'I think it is probably a cold.',
};
const fake = new FakeOpenAI((messages) => {
  const system = messages.find((m) => m.role === 'system')?.content ?? '';
  const user = messages.at(-1)?.content ?? '';
  if (system !== TRIAGE_PROMPT) return ['Hello.'];
  const key = Object.keys(ANSWERS).find((word) => user.toLowerCase().includes(word));
  return [key ? (ANSWERS[key] as string) : '{}'];
});

beforeAll(async () => {
  await fake.start();
  t = await startTestPlatform({ llm: { baseURL: fake.baseURL, model: 'triage-test', apiKey: 'test-key' } });
}, 120_000);
afterAll(async () => {
  await t?.close();
  await fake.stop();
});

const triage = async (symptoms: string) =>
  (await (await t.client('patient')).request<{ triage: { urgency: string; confidence: number; likelyConditions: string[]; reasons: string[]; assessedBy: string[]; emergencyGuidance: string | null } }>(
    'query($p: ID!, $s: String!) { triage(patientId: $p, symptoms: $s) { urgency confidence likelyConditions reasons assessedBy emergencyGuidance } }', { p: PATIENTS.amaraNorth.id, s: symptoms })).triage;

describe('triage with an LLM', () => {
  it('the model raises an urgency the rules missed, with its reasons marked', async () => {
    const result = await triage('I feel dizzy when I stand up and my ankles are swollen');
    expect(result).toMatchObject({ urgency: 'HIGH', confidence: 70, assessedBy: ['RULES', 'LLM'], likelyConditions: ['Posterior circulation stroke (to exclude)'] });
    expect(result.reasons).toContain('LLM: sudden blurred vision with dizziness');
    expect(fake.requests.at(-1)?.messages[0]?.content).toBe(TRIAGE_PROMPT);
  });

  it('the model cannot lower a critical triage', async () => {
    const result = await triage('crushing chest pain spreading to my left arm');
    expect(result.urgency).toBe('CRITICAL');
    expect(result.emergencyGuidance).toMatch(/emergency/i);
    expect(result.likelyConditions).toEqual(['Acute coronary syndrome (to exclude)', 'Muscle strain']);
  });

  it('an answer that is not the JSON asked for leaves the rules’ triage alone', async () => {
    const result = await triage('a cough for two days');
    const rules = triageOf('a cough for two days');
    expect(result).toEqual({ urgency: rules.urgency, confidence: rules.confidence, likelyConditions: rules.likelyConditions, reasons: rules.reasons, assessedBy: ['RULES'], emergencyGuidance: null });
  });
});

describe('the pieces', () => {
  it('reads the model’s JSON, clamps what it can, refuses what it cannot', () => {
    expect(parseLlmTriage('Sure: {"urgency": "medium", "confidence": 140, "likelyConditions": ["a", 3], "reasons": ["x"]}')).toEqual({ urgency: 'MEDIUM', confidence: 100, likelyConditions: ['a'], recommendation: '', reasons: ['x'] });
    expect(parseLlmTriage('{"urgency": "SOON"}')).toBeNull();
    expect(parseLlmTriage('no json')).toBeNull();
  });

  it('combining keeps the higher urgency, and emergency guidance when the model alone says CRITICAL', () => {
    const rules = triageOf('a cough and a sore throat');
    expect(rules.urgency).toBe('LOW');
    const critical = combine(rules, { urgency: 'CRITICAL', confidence: 80, likelyConditions: ['Epiglottitis'], recommendation: 'Call an ambulance.', reasons: ['drooling'] });
    expect(critical).toMatchObject({ urgency: 'CRITICAL', confidence: 80, recommendation: 'Call an ambulance.', assessedBy: ['RULES', 'LLM'] });
    expect(critical.emergencyGuidance).toMatch(/emergency/i);
    expect(combine(rules, { urgency: 'LOW', confidence: 95, likelyConditions: [], recommendation: '', reasons: [] }).confidence).toBe(95);
  });
});
