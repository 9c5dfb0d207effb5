import { OpenAICompatibleResponder, type LlmConfig, type Responder } from '../../kit/responder.js';

/**
 * A second opinion on a patient's description from the configured LLM (any OpenAI-compatible
 * server): urgency, confidence, likely conditions, a recommendation and reasons, as JSON. It
 * can raise the rules' urgency, never lower it (triage.ts `combine`); a slow, failed or
 * unreadable answer is no answer, and the rules stand.
 */
export type LlmUrgency = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
export interface LlmTriage {
  urgency: LlmUrgency;
  confidence: number;
  likelyConditions: string[];
  recommendation: string;
  reasons: string[];
}

export interface TriageReviewer {
  review(symptoms: string, signal: AbortSignal): Promise<LlmTriage | null>;
}

export const TRIAGE_PROMPT = [
  'You triage a patient’s description of their problem before a video consultation with a clinician.',
  'Reply with JSON only: {"urgency": "LOW" | "MEDIUM" | "HIGH" | "CRITICAL", "confidence": 0-100, "likelyConditions": [up to 5 short names],',
  '"recommendation": one sentence, "reasons": [short reasons quoting the patient’s words]}.',
  'CRITICAL means an emergency now (call emergency services); HIGH means a clinician within the hour; MEDIUM today or tomorrow; LOW routine.',
  'The description may be in Nigerian or Indian English, Pidgin or Hinglish. Never invent symptoms.',
].join(' ');

const URGENCIES: readonly LlmUrgency[] = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const strings = (value: unknown, max: number): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim().length > 0).map((v) => v.trim().slice(0, 200)).slice(0, max) : []);

/** The model's answer, when it is the JSON asked for with a known urgency; null otherwise. */
export function parseLlmTriage(answer: string): LlmTriage | null {
  const json = /\{[\s\S]*\}/.exec(answer)?.[0];
  if (!json) return null;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return null;
  }
  const urgency = typeof parsed['urgency'] === 'string' ? parsed['urgency'].toUpperCase() : '';
  if (!URGENCIES.includes(urgency as LlmUrgency)) return null;
  const confidence = Number(parsed['confidence']);
  return {
    urgency: urgency as LlmUrgency,
    confidence: Number.isFinite(confidence) ? Math.max(0, Math.min(100, Math.round(confidence))) : 50,
    likelyConditions: strings(parsed['likelyConditions'], 5),
    recommendation: typeof parsed['recommendation'] === 'string' ? parsed['recommendation'].trim().slice(0, 300) : '',
    reasons: strings(parsed['reasons'], 5),
  };
}

export class LlmTriageReviewer implements TriageReviewer {
  private readonly responder: Responder;

  constructor(config: LlmConfig) {
    this.responder = new OpenAICompatibleResponder(config);
  }

  async review(symptoms: string, signal: AbortSignal): Promise<LlmTriage | null> {
    let answer = '';
    for await (const delta of this.responder.stream({ system: TRIAGE_PROMPT, history: [], message: symptoms, signal })) answer += delta;
    return parseLlmTriage(answer);
  }
}
