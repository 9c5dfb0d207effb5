import { readFileSync } from 'node:fs';
import { extractFeatures, type Feature } from './red-flag-features.js';
import type { LexiconView } from './red-flags.js';
import { isRedFlagCode, type RedFlagCode } from './red-flag-lexicon.js';

/**
 * The learned red-flag detector, trained from the labelled corpus by `npm run train:redflags`
 * (weights in red-flag-model.json, committed; no download, no network). Logistic regressions
 * over the features of red-flag-features.ts: a topic head per code (is the message about this
 * emergency?) and one context head shared by all codes (is it happening now, rather than
 * negated, past, hypothetical or a worry?). A code's probability is the product of the two; it
 * fires at the threshold chosen in training. Deterministic: the same message always gets the
 * same scores. The evidence is the message's words behind the topic's strongest features, so a
 * nurse sees why, as with the rules.
 */

export interface RedFlagModel {
  format: 2;
  codes: RedFlagCode[];
  /** One per head: the codes' topic heads in `codes` order, then the context head. */
  bias: number[];
  thresholds: number[];
  /** Feature name → flattened pairs [headIndex, weight, headIndex, weight, …]; absent features weigh 0. */
  weights: Record<string, number[]>;
  /** Every word seen in training: what the engine can read (red-flag-readability.ts). */
  vocabulary: string[];
  /** How it was trained (for the README and the reproducibility test). */
  training: Record<string, unknown>;
}

export interface ClassifierFlag {
  code: RedFlagCode;
  probability: number;
  /** The message's words behind the strongest features, strongest first. */
  evidence: string[];
}

export interface ClassifierScore {
  code: RedFlagCode;
  probability: number;
  threshold: number;
}

const EVIDENCE_COUNT = 3;

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Features once each (presence, not counts), with the first place each occurs. */
export function distinctFeatures(features: readonly Feature[]): Feature[] {
  const seen = new Map<string, Feature>();
  for (const feature of features) if (!seen.has(feature.name)) seen.set(feature.name, feature);
  return [...seen.values()];
}

/** A typical message has a hundred-odd features; shorter ones are not scaled up beyond that. */
const MIN_SCALED_FEATURES = 120;

/**
 * The feature vector's scale: presence features normalised to unit length, so a long message
 * does not score higher merely for having more words, but never scaled up past a typical
 * message's length, so two words ("[image]", "my grandad") cannot carry a whole message's weight.
 */
export const featureScale = (count: number): number => 1 / Math.sqrt(Math.max(count, MIN_SCALED_FEATURES));

export class RedFlagClassifier {
  private readonly vocabulary: ReadonlySet<string>;

  constructor(readonly model: RedFlagModel) {
    this.vocabulary = new Set(model.vocabulary);
  }

  /** Whether the word occurred in training (what the engine can read). */
  knows(word: string): boolean {
    return this.vocabulary.has(word);
  }

  /** Every code's probability for a message. */
  scores(text: string, lexicon?: LexiconView): ClassifierScore[] {
    const { logits } = this.logits(text, lexicon);
    return this.model.codes.map((code, i) => ({ code, probability: this.probability(logits, i), threshold: this.model.thresholds[i] ?? 1 }));
  }

  /** The codes whose probability reaches their threshold, with evidence. `lexicon`: the rules' pass over `text`, when made already. */
  classify(text: string, lexicon?: LexiconView): ClassifierFlag[] {
    const { logits, features, scale } = this.logits(text, lexicon);
    const flags: ClassifierFlag[] = [];
    this.model.codes.forEach((code, i) => {
      const probability = this.probability(logits, i);
      if (probability < (this.model.thresholds[i] ?? 1)) return;
      // No flag without words behind it: a message the model knows nothing of (another script,
      // a placeholder) must not fire on the prior alone — readability handles those.
      const evidence = this.evidence(text, features, i, scale);
      if (evidence.length > 0 && (logits[i] ?? 0) > (this.model.bias[i] ?? 0)) flags.push({ code, probability, evidence });
    });
    return flags;
  }

  /** Topic times context (the context head comes after the codes' heads). */
  private probability(logits: readonly number[], codeIndex: number): number {
    return sigmoid(logits[codeIndex] ?? 0) * sigmoid(logits[this.model.codes.length] ?? 0);
  }

  private logits(text: string, lexicon?: LexiconView): { logits: number[]; features: Feature[]; scale: number } {
    const features = distinctFeatures(extractFeatures(text, lexicon));
    const scale = featureScale(features.length);
    const logits = [...this.model.bias];
    for (const feature of features) {
      const pairs = this.model.weights[feature.name];
      if (!pairs) continue;
      for (let p = 0; p + 1 < pairs.length; p += 2) {
        const index = pairs[p] ?? 0;
        logits[index] = (logits[index] ?? 0) + (pairs[p + 1] ?? 0) * scale;
      }
    }
    return { logits, features, scale };
  }

  private weightOf(feature: string, codeIndex: number): number {
    const pairs = this.model.weights[feature];
    if (!pairs) return 0;
    for (let p = 0; p + 1 < pairs.length; p += 2) if (pairs[p] === codeIndex) return pairs[p + 1] ?? 0;
    return 0;
  }

  /** The words behind the features that pushed hardest towards this code, deduplicated. */
  private evidence(text: string, features: readonly Feature[], codeIndex: number, scale: number): string[] {
    const ranked = features
      .map((feature) => ({ feature, contribution: this.weightOf(feature.name, codeIndex) * scale }))
      .filter((f) => f.contribution > 0)
      .sort((a, b) => b.contribution - a.contribution || a.feature.start - b.feature.start);
    const quotes: string[] = [];
    for (const { feature } of ranked) {
      const quote = text.slice(feature.start, feature.end);
      // Features of the whole message (what the rules' lexicon saw) have no words of their own.
      if (quote === '') continue;
      if (quotes.some((q) => q.includes(quote))) continue;
      // A longer span that contains an earlier quote replaces it ("chest" → "chest dey").
      const contained = quotes.findIndex((q) => quote.includes(q));
      if (contained >= 0) quotes[contained] = quote;
      else quotes.push(quote);
      if (quotes.length === EVIDENCE_COUNT) break;
    }
    return quotes;
  }
}

/** Refuses a model file that does not have the shape the classifier needs (a bad file must fail loudly, not score zero). */
export function parseModel(value: unknown): RedFlagModel {
  const model = value as Partial<RedFlagModel> | null;
  if (!model || model.format !== 2 || !Array.isArray(model.codes) || !model.codes.every(isRedFlagCode)) throw new Error('red-flag model: unknown format or codes');
  const n = model.codes.length;
  if (!Array.isArray(model.bias) || model.bias.length !== n + 1 || !Array.isArray(model.thresholds) || model.thresholds.length !== n) throw new Error('red-flag model: one bias per head and one threshold per code');
  if (typeof model.weights !== 'object' || model.weights === null || !Array.isArray(model.vocabulary)) throw new Error('red-flag model: weights and vocabulary are required');
  return model as RedFlagModel;
}

export const MODEL_URL = new URL('./red-flag-model.json', import.meta.url);

let committed: RedFlagClassifier | undefined;

/** The committed model, read once. Throws when the file is missing or malformed (the caller fails safe). */
export function committedClassifier(): RedFlagClassifier {
  committed ??= new RedFlagClassifier(parseModel(JSON.parse(readFileSync(MODEL_URL, 'utf8'))));
  return committed;
}
