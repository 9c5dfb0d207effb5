import { distinctFeatures, featureScale, type RedFlagModel } from '../../subgraphs/kit/red-flags/red-flag-classifier.js';
import type { LabelledMessage } from '../../subgraphs/kit/red-flags/red-flag-evaluation.js';
import { extractFeatures, wordsOf } from '../../subgraphs/kit/red-flags/red-flag-features.js';
import { RED_FLAG_CODES, type RedFlagCode } from '../../subgraphs/kit/red-flags/red-flag-lexicon.js';
import { digestOf, type CorpusFamily, type FamilyKind } from './corpus.js';

/**
 * Trains the red-flag classifier: one logistic regression per code (AdaGrad, L2), on presence
 * features normalised to unit length, each message seen twice — whole, and as a variety-neutral
 * copy with only its concept, context and fact features — with positives weighted up (a missed
 * emergency costs more than a false alarm). Each code's threshold is chosen from out-of-fold scores — folds are whole
 * families, as in the held-back split — as the lowest that keeps precision at a target on families
 * the fold model did not see. Everything is deterministic: fixed
 * order, a seeded shuffle, no parallelism, weights rounded before they are written.
 */

export const TRAINING_DEFAULTS = {
  epochs: 30,
  learningRate: 0.5,
  l2: 1e-5,
  /** A feature must occur in this many training messages to get a weight. */
  minCount: 2,
  folds: 4,
  /** Out-of-fold precision of the classifier's own flags that each code's threshold must keep. */
  precisionTarget: 0.9,
  /** Thresholds stay in this range whatever the folds say. */
  minThreshold: 0.25,
  maxThreshold: 0.95,
  /** Weights smaller than this are dropped from the committed model. */
  minWeight: 0.25,
  seed: 20261205,
} as const;

export type TrainingOptions = typeof TRAINING_DEFAULTS;

interface Example {
  features: Int32Array;
  scale: number;
}

/** A training target per example: 1, 0, or null when the example says nothing about it. */
type Labels = ReadonlyArray<0 | 1 | null>;

/** mulberry32: a small seeded generator, so the shuffle is the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(count: number, random: () => number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
  }
  return order;
}

const featureNamesOf = (text: string): string[] => distinctFeatures(extractFeatures(text)).map((f) => f.name);

/** Features seen in at least `minCount` messages, in a fixed order. */
function buildVocabulary(namesPerMessage: ReadonlyArray<readonly string[]>, minCount: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const names of namesPerMessage) for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  const kept = [...counts].filter(([, count]) => count >= minCount).map(([name]) => name).sort();
  return new Map(kept.map((name, i) => [name, i]));
}

function vectorise(namesPerMessage: ReadonlyArray<readonly string[]>, vocabulary: ReadonlyMap<string, number>): Example[] {
  return namesPerMessage.map((names) => {
    const indices = names.map((name) => vocabulary.get(name)).filter((i): i is number => i !== undefined).sort((a, b) => a - b);
    // Scaled by every feature of the message, known or not, exactly as the classifier does.
    return { features: Int32Array.from(indices), scale: featureScale(names.length) };
  });
}

interface Head {
  bias: number;
  weights: Float64Array;
}

function trainHead(examples: readonly Example[], labels: Labels, featureCount: number, options: TrainingOptions): Head {
  const positives = labels.filter((l) => l === 1).length;
  const negatives = labels.filter((l) => l === 0).length;
  const positiveWeight = positives === 0 ? 1 : Math.max(1, Math.sqrt(negatives / positives));
  const weights = new Float64Array(featureCount);
  const squaredGradients = new Float64Array(featureCount);
  let bias = 0;
  let biasSquaredGradient = 0;
  const random = seededRandom(options.seed);
  for (let epoch = 0; epoch < options.epochs; epoch += 1) {
    for (const i of shuffled(examples.length, random)) {
      const example = examples[i];
      const label = labels[i];
      if (!example || label === null || label === undefined) continue;
      let z = bias;
      for (const f of example.features) z += (weights[f] ?? 0) * example.scale;
      const p = 1 / (1 + Math.exp(-z));
      const gradient = (p - label) * (label === 1 ? positiveWeight : 1);
      for (const f of example.features) {
        const g = gradient * example.scale + options.l2 * (weights[f] ?? 0);
        squaredGradients[f] = (squaredGradients[f] ?? 0) + g * g;
        weights[f] = (weights[f] ?? 0) - (options.learningRate * g) / Math.sqrt((squaredGradients[f] ?? 0) + 1e-8);
      }
      biasSquaredGradient += gradient * gradient;
      bias -= (options.learningRate * gradient) / Math.sqrt(biasSquaredGradient + 1e-8);
    }
  }
  return { bias, weights };
}

function probability(head: Head, example: Example): number {
  let z = head.bias;
  for (const f of example.features) z += (head.weights[f] ?? 0) * example.scale;
  return 1 / (1 + Math.exp(-z));
}

/** Look-alikes that are about the emergency but not an emergency now: the context head learns these. */
const CONTEXT_KINDS: ReadonlySet<FamilyKind> = new Set(['negated', 'past', 'hypothetical', 'worry']);

interface LabelledExample {
  message: LabelledMessage;
  kind: FamilyKind;
  /** The family's code, for look-alikes: what the message is about. */
  about: RedFlagCode | 'NONE';
}

/**
 * Two kinds of head. A topic head per code: is the message about this emergency at all (its
 * positives, and its negated, past, hypothetical and worried look-alikes, against everything
 * else, mild and other-sense look-alikes included)? One context head shared by every code: is
 * what the message describes happening now (any flagged message, against the negated, past,
 * hypothetical and worried look-alikes of every code)? A code's probability is the product.
 * Context cues ("what if", "last year", "no", "I read that") are the same whatever the
 * emergency, so the shared head learns them from every code's families at once.
 */
function headLabels(examples: readonly LabelledExample[]): { topics: Labels[]; context: Labels } {
  const topics = RED_FLAG_CODES.map((code): Labels => examples.map(({ message, kind, about }) => (message.expected.includes(code) || (about === code && CONTEXT_KINDS.has(kind)) ? 1 : 0)));
  const context: Labels = examples.map(({ message, kind }) => (message.expected.length > 0 ? 1 : CONTEXT_KINDS.has(kind) ? 0 : null));
  return { topics, context };
}

interface Heads {
  topics: Head[];
  context: Head;
}

function trainHeads(examples: readonly Example[], labels: { topics: Labels[]; context: Labels }, featureCount: number, options: TrainingOptions): Heads {
  return { topics: labels.topics.map((l) => trainHead(examples, l, featureCount, options)), context: trainHead(examples, labels.context, featureCount, options) };
}

const codeProbabilities = (heads: Heads, example: Example): number[] => {
  const context = probability(heads.context, example);
  return heads.topics.map((topic) => probability(topic, example) * context);
};

export interface ThresholdReport {
  code: RedFlagCode;
  threshold: number;
  /** Out-of-fold figures of the classifier at that threshold. */
  recall: number;
  precision: number;
  positives: number;
}

/**
 * The lowest threshold (the most emergencies found) at which the classifier's own flags keep
 * their out-of-fold precision at the target: a nurse queue full of false alarms gets ignored.
 * Measured on the classifier alone, not rules-or-classifier: where the rules' own precision is
 * below the target no threshold could reach it, and the classifier would be silenced for the
 * codes whose rules are weakest.
 */
function chooseThreshold(code: RedFlagCode, scores: readonly number[], labels: readonly boolean[], options: TrainingOptions): ThresholdReport {
  const positives = labels.filter(Boolean).length;
  const measure = (threshold: number) => {
    let tp = 0;
    let fp = 0;
    scores.forEach((score, i) => {
      const fired = score >= threshold;
      if (fired && labels[i]) tp += 1;
      else if (fired) fp += 1;
    });
    return { recall: positives === 0 ? 1 : tp / positives, precision: tp + fp === 0 ? 1 : tp / (tp + fp) };
  };
  let threshold: number = options.maxThreshold;
  for (let step = 0; step <= 100; step += 1) {
    const candidate = round(options.minThreshold + ((options.maxThreshold - options.minThreshold) * step) / 100);
    if (measure(candidate).precision >= options.precisionTarget) {
      threshold = candidate;
      break;
    }
  }
  return { code, threshold, ...measure(threshold), positives };
}

const round = (value: number, digits = 4): number => Number(value.toFixed(digits));

/** Features tied to the words of one variety: words, word pairs, character n-grams. */
const VARIETY_BOUND = /^[wbc]:/;

/**
 * The examples with their variety-neutral copies appended: a copy keeps only concepts, context
 * and parsed facts, so the model must also learn to flag from those alone, and a wording in a
 * variety it has few words of still scores on its concepts.
 */
function withNeutral(examples: readonly Example[], neutral: readonly Example[], labels: { topics: Labels[]; context: Labels }, keep: (_: unknown, i: number) => boolean) {
  // Each copy has its message's labels.
  const twice = (l: Labels): Labels => {
    const kept = l.filter(keep);
    return [...kept, ...kept];
  };
  return { examples: [...examples.filter(keep), ...neutral.filter(keep)], labels: { topics: labels.topics.map(twice), context: twice(labels.context) } };
}

/** The training families as the learner needs them, made once for the folds and the final model. */
interface Prepared {
  messages: LabelledMessage[];
  vocabulary: Map<string, number>;
  examples: Example[];
  /** Each message again with only its variety-neutral features (concepts, context, facts): trained on, never scored. */
  neutral: Example[];
  labels: { topics: Labels[]; context: Labels };
}

function prepare(families: readonly CorpusFamily[], options: TrainingOptions): Prepared {
  const labelled = families.flatMap((family) => family.messages.map((message): LabelledExample => ({ message, kind: family.kind, about: family.code })));
  const messages = labelled.map((e) => e.message);
  const namesPerMessage = messages.map((m) => featureNamesOf(m.text));
  const vocabulary = buildVocabulary(namesPerMessage, options.minCount);
  const neutralNames = namesPerMessage.map((names) => names.filter((name) => !VARIETY_BOUND.test(name)));
  return { messages, vocabulary, examples: vectorise(namesPerMessage, vocabulary), neutral: vectorise(neutralNames, vocabulary), labels: headLabels(labelled) };
}

/**
 * Each family scored by a model trained without it (folds are whole families):
 * scores[codeIndex][messageIndex].
 */
function outOfFoldScores(families: readonly CorpusFamily[], { messages, vocabulary, examples, neutral, labels }: Prepared, options: TrainingOptions): number[][] {
  const foldOf = families.flatMap((family, i) => family.messages.map(() => i % options.folds));
  const scores = RED_FLAG_CODES.map(() => new Array<number>(messages.length).fill(0));
  for (let fold = 0; fold < options.folds; fold += 1) {
    const keep = (_: unknown, i: number): boolean => foldOf[i] !== fold;
    const foldData = withNeutral(examples, neutral, labels, keep);
    const heads = trainHeads(foldData.examples, foldData.labels, vocabulary.size, options);
    examples.forEach((example, i) => {
      if (foldOf[i] !== fold) return;
      codeProbabilities(heads, example).forEach((p, c) => {
        (scores[c] as number[])[i] = p;
      });
    });
  }
  return scores;
}

export interface TrainingResult {
  model: RedFlagModel;
  thresholds: ThresholdReport[];
}

/** Trains on the given families and returns the model to commit. */
export function trainModel(families: readonly CorpusFamily[], options: TrainingOptions = TRAINING_DEFAULTS): TrainingResult {
  const prepared = prepare(families, options);
  const { messages, vocabulary } = prepared;
  const scores = outOfFoldScores(families, prepared, options);
  const thresholds = RED_FLAG_CODES.map((code, c) => chooseThreshold(code, scores[c] ?? [], messages.map((m) => m.expected.includes(code)), options));

  const everything = withNeutral(prepared.examples, prepared.neutral, prepared.labels, () => true);
  const heads = trainHeads(everything.examples, everything.labels, vocabulary.size, options);
  const all = [...heads.topics, heads.context];
  const names = [...vocabulary.keys()];
  const weights: Record<string, number[]> = {};
  names.forEach((name, f) => {
    const pairs: number[] = [];
    all.forEach((head, h) => {
      const weight = round(head.weights[f] ?? 0, 3);
      if (Math.abs(weight) >= options.minWeight) pairs.push(h, weight);
    });
    if (pairs.length > 0) weights[name] = pairs;
  });
  // What the engine can read: every word of the training messages, rare ones included.
  const words = new Set<string>();
  for (const message of messages) for (const token of wordsOf(message.text)) if (token.value === null) words.add(token.norm);
  return {
    thresholds,
    model: {
      format: 2,
      codes: [...RED_FLAG_CODES],
      bias: all.map((h) => round(h.bias)),
      thresholds: thresholds.map((t) => t.threshold),
      weights,
      vocabulary: [...words].sort(),
      training: {
        families: families.length,
        messages: messages.length,
        features: vocabulary.size,
        corpusDigest: digestOf(messages),
        options,
      },
    },
  };
}

/** The model as committed: one feature per line, so a retrained model's diff is readable. */
export function serialiseModel(model: RedFlagModel): string {
  const { weights, vocabulary, ...head } = model;
  const features = Object.keys(weights).sort().map((name) => `    ${JSON.stringify(name)}: ${JSON.stringify(weights[name])}`);
  const headJson = JSON.stringify(head, null, 2).slice(0, -2);
  return `${headJson},\n  "vocabulary": ${JSON.stringify(vocabulary)},\n  "weights": {\n${features.join(',\n')}\n  }\n}\n`;
}
