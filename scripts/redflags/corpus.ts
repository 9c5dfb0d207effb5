import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseLabelledMessages, type LabelledMessage } from '../../subgraphs/kit/red-flags/red-flag-evaluation.js';
import { isRedFlagCode, type RedFlagCode } from '../../subgraphs/kit/red-flags/red-flag-lexicon.js';

/**
 * The labelled red-flag corpus (test/chat/redflags-corpus/, described in its SOURCES.md): families
 * of messages that share one way of wording a red flag or a look-alike of one. It is split by
 * family, never by message, so the held-back figures measure wordings the classifier has never
 * seen rather than near-copies of what it trained on.
 */

export const FAMILY_KINDS = ['positive', 'negated', 'past', 'hypothetical', 'worry', 'mild', 'other-sense', 'everyday'] as const;
export type FamilyKind = (typeof FAMILY_KINDS)[number];
export const VARIETIES = ['uk-us', 'nigerian-english', 'pidgin', 'indian-english', 'hinglish', 'mixed'] as const;
export type Variety = (typeof VARIETIES)[number];

export interface CorpusFamily {
  id: string;
  /** The code the family is about; NONE for everyday messages. */
  code: RedFlagCode | 'NONE';
  kind: FamilyKind;
  variety: Variety;
  source: string;
  messages: LabelledMessage[];
}

export const CORPUS_DIR = fileURLToPath(new URL('../../test/chat/redflags-corpus/', import.meta.url));
/** The rules' development set: trained on, never held back (it is not organised in families). */
export const RULES_DEV_SET = fileURLToPath(new URL('../../test/chat/redflags-eval.json', import.meta.url));
/** Written after the rules and never trained on: scored separately. */
export const HOLDOUT_SET = fileURLToPath(new URL('../../test/chat/redflags-holdout.json', import.meta.url));

function parseFamily(value: unknown, where: string): CorpusFamily {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const { id, code, kind, variety, source, messages } = record;
  const fail = (why: string): never => {
    throw new Error(`${where}: ${why}`);
  };
  if (typeof id !== 'string' || !/^[a-z0-9-]+\/[a-z0-9-]+$/.test(id)) fail('id must be "code-slug/family-slug"');
  if (code !== 'NONE' && !isRedFlagCode(code)) fail(`unknown code ${String(code)}`);
  if (!(FAMILY_KINDS as readonly unknown[]).includes(kind)) fail(`unknown kind ${String(kind)}`);
  if (!(VARIETIES as readonly unknown[]).includes(variety)) fail(`unknown variety ${String(variety)}`);
  if (typeof source !== 'string' || source.trim() === '') fail('source is required');
  return { id: id as string, code: code as RedFlagCode | 'NONE', kind: kind as FamilyKind, variety: variety as Variety, source: source as string, messages: parseLabelledMessages(messages) };
}

/** Every family of the corpus, in a fixed order (file name, then position). */
export function loadCorpus(dir: string = CORPUS_DIR): CorpusFamily[] {
  const files = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();
  return files.flatMap((name) => {
    const families: unknown = JSON.parse(readFileSync(`${dir}/${name}`, 'utf8'));
    if (!Array.isArray(families)) throw new Error(`${name}: must be an array of families`);
    return families.map((family, i) => parseFamily(family, `${name}#${i}`));
  });
}

export function loadLabelledSet(path: string): LabelledMessage[] {
  return parseLabelledMessages(JSON.parse(readFileSync(path, 'utf8')));
}

/** A family's place in [0, 1), from a hash of its id: the same on every machine and run. */
const position = (id: string): number => Number.parseInt(createHash('sha256').update(id).digest('hex').slice(0, 8), 16) / 2 ** 32;

/** The share of families held back. */
export const HELD_BACK_SHARE = 0.25;

/**
 * About one family in four is held back, decided by a hash of its id alone, so adding families
 * never moves an existing one between training and held back (a model trained earlier is still
 * scored on families it never saw).
 */
export function splitByFamily(families: readonly CorpusFamily[]): { training: CorpusFamily[]; heldBack: CorpusFamily[] } {
  const heldBack = (family: CorpusFamily): boolean => position(family.id) < HELD_BACK_SHARE;
  return { training: families.filter((f) => !heldBack(f)), heldBack: families.filter(heldBack) };
}

export const messagesOf = (families: readonly CorpusFamily[]): LabelledMessage[] => families.flatMap((f) => f.messages);

/** A digest of the training data, recorded in the model so a stale model is noticed. */
export function digestOf(messages: readonly LabelledMessage[]): string {
  const hash = createHash('sha256');
  for (const m of messages) hash.update(`${m.text}\u0000${[...m.expected].sort().join(',')}\n`);
  return hash.digest('hex');
}

/** Messages per family, and words per message, that a family may have. */
export const FAMILY_SIZE = { min: 8, max: 25 } as const;
export const MESSAGE_WORDS = { min: 2, max: 80 } as const;

/**
 * What is wrong with a corpus beyond its shape (which loadCorpus checks): repeated texts
 * anywhere, family and message sizes, and labels that contradict the family's kind.
 */
export function corpusProblems(families: readonly CorpusFamily[]): string[] {
  const problems: string[] = [];
  const seenIds = new Set<string>();
  const seenTexts = new Map<string, string>();
  for (const family of families) {
    if (seenIds.has(family.id)) problems.push(`${family.id}: duplicate family id`);
    seenIds.add(family.id);
    const size = family.messages.length;
    if (size < FAMILY_SIZE.min || size > FAMILY_SIZE.max) problems.push(`${family.id}: needs ${FAMILY_SIZE.min}-${FAMILY_SIZE.max} messages (has ${size})`);
    family.messages.forEach((message, i) => {
      const where = `${family.id} message ${i}`;
      const key = message.text.toLowerCase().replace(/\s+/g, ' ').trim();
      const first = seenTexts.get(key);
      if (first) problems.push(`${where}: duplicate of a message in ${first}: ${message.text}`);
      else seenTexts.set(key, family.id);
      const words = message.text.trim().split(/\s+/).length;
      if (words < MESSAGE_WORDS.min || words > MESSAGE_WORDS.max) problems.push(`${where}: ${words} words`);
      if (family.code === 'NONE') return;
      if (family.kind === 'positive' && !message.expected.includes(family.code)) problems.push(`${where}: a positive family's message lacks ${family.code}`);
      if (family.kind !== 'positive' && message.expected.includes(family.code)) problems.push(`${where}: a look-alike labelled with its own code ${family.code}`);
    });
  }
  return problems;
}
