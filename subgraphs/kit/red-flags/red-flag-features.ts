import { conceptsOf } from './red-flag-concepts.js';
import { AGE_UNIT_DAYS, INFANT_MAX_AGE_DAYS, isFeverReading, NEWBORN_WORDS, WORD_CLASSES } from './red-flag-lexicon.js';
import { readLexicon, type LexiconView } from './red-flags.js';
import { tokenise, type Token } from './text.js';

/**
 * The features the red-flag classifier reads from a message: what a linear model needs to
 * recognise wordings no rule was written for, computed the same way in training and in the
 * chat. Deterministic and linear in the message length.
 *
 * - `w:` words and `b:` word pairs within a clause ("dey pain", "seene mein");
 * - `c:` character 3–5-grams of each word, with word boundaries marked ("<che", "ches", "est>"),
 *   so misspellings and inflections share most of their features ("breth", "breathin");
 * - `n:` words within three words after a negation in the same clause ("no chest pain" →
 *   n:chest, n:pain), so the model can learn that negated symptoms are not flags;
 * - `a:`/`t:` facts the rules already parse: a stated age under or over three months, a
 *   temperature reading that is or is not a fever (bag-of-words cannot compare numbers);
 * - what the rules' lexicon knows: `k:` its word classes (CHEST, PAIN, BREATH…) for words and
 *   their corrected misspellings, `m:` codes whose phrases occur at all, `r:` codes the rules
 *   flag after context. The model learns how far to trust each.
 *
 * Each feature keeps the span of the message it came from, so the strongest ones can be
 * quoted to the nurse as evidence.
 */

export interface Feature {
  name: string;
  /** Offsets in the original text of the words the feature came from. */
  start: number;
  end: number;
}

const NEGATIONS = new Set(['no', 'not', 'never', 'without', 'dont', 'doesnt', 'didnt', 'isnt', 'wasnt', 'arent', 'werent', 'havent', 'hasnt', 'hadnt', 'nor', 'denies', 'nahi', 'nahin', 'nhi', 'na']);
const NEGATION_REACH = 3;
const CHAR_GRAMS = [3, 4, 5] as const;
/** Hinglish and Pidgin age words, beside the rules' English ones. */
const EXTRA_AGE_UNITS: Readonly<Record<string, number>> = { din: 1, hafte: 7, hafta: 7, mahine: 30, mahina: 30, mahiney: 30, year: 365, years: 365, yr: 365, yrs: 365, saal: 365 };
const AGE_UNITS: Readonly<Record<string, number>> = { ...AGE_UNIT_DAYS, ...EXTRA_AGE_UNITS };
const AGE_AFTER = new Set(['old', 'ka', 'ki', 'ke', 'baby', 'pikin', 'son', 'daughter', 'boy', 'girl', 'child']);

const isNormalReading = (value: number): boolean => (value >= 35 && value < 38) || (value >= 95 && value < 100.4);

const identity = (word: string): string => word;

/** The words of a message, as the rules see them (before spelling correction). */
export function wordsOf(text: string): Token[] {
  return tokenise(text, identity);
}

const CLASS_SETS = Object.entries(WORD_CLASSES).filter((entry): entry is [string, ReadonlySet<string>] => entry[1] instanceof Set);

/** The features of `text`; `lexicon` is the rules' pass over the same text when it has been made already. */
export function extractFeatures(text: string, lexicon: LexiconView = readLexicon(text)): Feature[] {
  const tokens = lexicon.tokens;
  const features: Feature[] = [];
  const whole = { start: 0, end: 0 };
  for (const code of new Set(lexicon.matches.map((f) => f.code))) features.push({ name: `m:${code}`, ...whole });
  for (const code of new Set(lexicon.current.map((f) => f.code))) features.push({ name: `r:${code}`, ...whole });
  const add = (name: string, from: Token, to: Token = from): void => {
    features.push({ name, start: from.start, end: to.end });
  };
  let negatedUntil = -1;
  let negationClause = -1;
  for (const token of tokens) {
    const word = token.norm;
    add(`w:${word}`, token);
    if (token.canon !== word) add(`w:${token.canon}`, token);
    for (const [name, members] of CLASS_SETS) if (members.has(token.canon)) add(`k:${name}`, token);
    const next = tokens[token.index + 1];
    if (next && next.clause === token.clause) add(`b:${word} ${next.norm}`, token, next);
    if (word.length >= 3 && token.value === null) {
      const padded = `<${word}>`;
      for (const n of CHAR_GRAMS) {
        for (let i = 0; i + n <= padded.length; i += 1) add(`c:${padded.slice(i, i + n)}`, token);
      }
    }
    if (token.index <= negatedUntil && token.clause === negationClause) add(`n:${word}`, token);
    if (NEGATIONS.has(word)) {
      negatedUntil = token.index + NEGATION_REACH;
      negationClause = token.clause;
    }
    if (token.value !== null) {
      if (isFeverReading(token.value)) add('t:fever', token);
      else if (isNormalReading(token.value)) add('t:normal', token);
      const days = AGE_UNITS[next?.norm ?? ''];
      const after = tokens[token.index + 2];
      if (next && days !== undefined && after && AGE_AFTER.has(after.norm)) add(token.value * days <= INFANT_MAX_AGE_DAYS ? 'a:infant' : 'a:older', token, after);
    }
    if (NEWBORN_WORDS.has(word) || (word === 'new' && next?.norm === 'born')) add('a:infant', token, next ?? token);
  }
  addConceptFeatures(tokens, add);
  return features;
}

/** Concepts within this many words of each other, in one clause, make a pair. */
const PAIR_REACH = 6;

/**
 * `q:` concepts (red-flag-concepts.ts) and `p:` pairs of concepts near each other in a clause
 * ("p:CHEST+PAIN", "p:NEG+BREATH"): the same features whichever variety the message is in.
 */
function addConceptFeatures(tokens: readonly Token[], add: (name: string, from: Token, to?: Token) => void): void {
  const mentions = conceptsOf(tokens);
  for (const m of mentions) {
    const from = tokens[m.from];
    if (from) add(`q:${m.concept}`, from, tokens[m.to]);
  }
  for (let i = 0; i < mentions.length; i += 1) {
    const a = mentions[i];
    if (!a) continue;
    for (let j = i + 1; j < mentions.length; j += 1) {
      const b = mentions[j];
      if (!b || b.from - a.to > PAIR_REACH) break;
      const first = tokens[a.from];
      const last = tokens[Math.max(a.to, b.to)];
      if (!first || !last || first.clause !== tokens[b.from]?.clause || a.concept === b.concept) continue;
      const [x, y] = a.concept < b.concept ? [a.concept, b.concept] : [b.concept, a.concept];
      add(`p:${x}+${y}`, first, last);
    }
  }
}
