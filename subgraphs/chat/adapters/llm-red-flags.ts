import { OpenAICompatibleResponder, type LlmConfig, type Responder } from '../../kit/responder.js';
import { isRedFlagCode, RED_FLAG_CODES } from '../../kit/red-flags/red-flag-lexicon.js';

/**
 * A second opinion on a patient's message from the configured LLM: which red-flag codes it
 * sees. Its answer can only add flags (red-flag-detector.ts `addReviewedFlags`); a slow, failed
 * or unparseable answer adds nothing and the detectors' flags stand.
 */

export interface RedFlagReviewer {
  codesFor(text: string, signal: AbortSignal): Promise<string[]>;
}

const REVIEW_PROMPT = [
  'You triage patient chat messages for a nurse. Reply with JSON only: {"codes": [...]}.',
  `Use only these codes: ${RED_FLAG_CODES.join(', ')}.`,
  'Include a code only when the message describes that emergency happening now, to the writer or someone with them',
  '(not negated, not in the past, not a hypothetical question, not an idiom). The message may be in Nigerian or Indian English, Pidgin or Hinglish.',
].join(' ');

/** The codes named in the model's answer: JSON when it complied, else any code names it wrote. */
export function parseReviewedCodes(answer: string): string[] {
  const json = /\{[\s\S]*\}/.exec(answer)?.[0];
  if (json) {
    try {
      const parsed = JSON.parse(json) as { codes?: unknown };
      if (Array.isArray(parsed.codes)) return parsed.codes.filter(isRedFlagCode);
    } catch {
      // Not JSON after all: fall through to the names it wrote.
    }
  }
  return RED_FLAG_CODES.filter((code) => answer.includes(code));
}

export class LlmRedFlagReviewer implements RedFlagReviewer {
  private readonly responder: Responder;

  constructor(config: LlmConfig) {
    this.responder = new OpenAICompatibleResponder(config);
  }

  async codesFor(text: string, signal: AbortSignal): Promise<string[]> {
    let answer = '';
    for await (const delta of this.responder.stream({ system: REVIEW_PROMPT, history: [], message: text, signal })) answer += delta;
    return parseReviewedCodes(answer);
  }
}
