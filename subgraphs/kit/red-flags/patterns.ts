import type { Token } from './text.js';

/**
 * A very small phrase language, so lexicons read like the wording they catch:
 *
 *   `chest ~3 @PAIN`     the word "chest", up to 3 other words, then a word of the PAIN class
 *   `cant|unable`        either word
 *   `own?`               an optional word
 *   `@BIG_NUMBER`        a class defined by a test on the token (numbers)
 *
 * Words are matched on their corrected form (`Token.canon`), within one clause.
 */

export type WordClass = ReadonlySet<string> | ((token: Token) => boolean);

type Element =
  | { kind: 'word'; test: (token: Token) => boolean; words: readonly string[] | null; optional: boolean }
  | { kind: 'gap'; max: number };

export interface CompiledPattern {
  source: string;
  elements: readonly Element[];
  /** Words the first element accepts (null when it is a test), for indexing. */
  firstWords: readonly string[] | null;
}

export interface PatternMatch {
  /** First and last token of the match (inclusive). */
  from: number;
  to: number;
  /** Tokens skipped by `~N` gaps: a negation there ("chest isn't hurting") negates the match. */
  gapTokens: number[];
}

export function compilePattern(source: string, classes: Readonly<Record<string, WordClass>>): CompiledPattern {
  const elements = source.trim().split(/\s+/).map((part) => compileElement(part, classes, source));
  const first = elements[0];
  if (!first || first.kind !== 'word' || first.optional) throw new Error(`pattern "${source}" must start with a required word`);
  return { source, elements, firstWords: first.words };
}

function compileElement(part: string, classes: Readonly<Record<string, WordClass>>, source: string): Element {
  const gap = /^~(\d+)$/.exec(part);
  if (gap) return { kind: 'gap', max: Number(gap[1]) };
  const optional = part.endsWith('?');
  const body = optional ? part.slice(0, -1) : part;
  const words: string[] = [];
  const tests: ((token: Token) => boolean)[] = [];
  let indexable = true;
  for (const alternative of body.split('|')) {
    if (!alternative.startsWith('@')) {
      words.push(alternative);
      continue;
    }
    const wordClass = classes[alternative.slice(1)];
    if (!wordClass) throw new Error(`pattern "${source}" uses unknown class ${alternative}`);
    if (typeof wordClass === 'function') {
      tests.push(wordClass);
      indexable = false;
    } else words.push(...wordClass);
  }
  const set = new Set(words);
  return { kind: 'word', test: (t) => set.has(t.canon) || tests.some((test) => test(t)), words: indexable ? words : null, optional };
}

/** Every lexicon word a pattern names, for the spelling corrector's "known words". */
export function patternWords(pattern: CompiledPattern): string[] {
  return pattern.elements.flatMap((e) => (e.kind === 'word' && e.words ? e.words : []));
}

/**
 * Matches `pattern` starting exactly at token `start`, staying inside that token's clause.
 * Gaps are tried shortest first, so the evidence is the tightest phrase.
 */
export function matchAt(pattern: CompiledPattern, tokens: readonly Token[], start: number): PatternMatch | null {
  const clause = tokens[start]?.clause;
  if (clause === undefined) return null;
  const gapTokens: number[] = [];
  const end = matchFrom(pattern.elements, 0, start, tokens, clause, gapTokens, -1);
  return end === null ? null : { from: start, to: end, gapTokens };
}

/** Returns the index of the last matched token, or null. `last` is the last token matched so far. */
function matchFrom(elements: readonly Element[], e: number, position: number, tokens: readonly Token[], clause: number, gapTokens: number[], last: number): number | null {
  const element = elements[e];
  if (!element) return last;
  if (element.kind === 'gap') {
    for (let skip = 0; skip <= element.max; skip += 1) {
      const next = position + skip;
      if (tokens[next - 1] !== undefined && skip > 0 && tokens[next - 1]?.clause !== clause) break;
      const mark = gapTokens.length;
      for (let k = position; k < next; k += 1) gapTokens.push(k);
      const end = matchFrom(elements, e + 1, next, tokens, clause, gapTokens, last);
      if (end !== null) return end;
      gapTokens.length = mark;
    }
    return null;
  }
  const token = tokens[position];
  if (token && token.clause === clause && element.test(token)) {
    const end = matchFrom(elements, e + 1, position + 1, tokens, clause, gapTokens, position);
    if (end !== null) return end;
  }
  return element.optional ? matchFrom(elements, e + 1, position, tokens, clause, gapTokens, last) : null;
}
