/**
 * Misspelling tolerance: a word that is not itself a target is read as a target word when it is
 * within a small edit distance of it ("sezure" → "seizure", "pian" → "pain"). Only a fixed list
 * of salient symptom words are targets — fuzzing every lexicon word would turn ordinary words
 * into symptoms ("bread" → "breath", "fewer" → "fever").
 */

/**
 * Real words that sit one edit from a target and must keep their own meaning. Add to this list
 * when a look-alike shows up in the evaluation set.
 */
const REAL_WORDS = new Set([
  'bread', 'breed', 'breeding', 'chess', 'fewer', 'strike', 'stoke', 'spitting', 'seize', 'seized', 'paint', 'plain',
  'pleasure', 'chase', 'cheat', 'bleep', 'blend', 'feeder', 'suicides', 'stroll', 'strode', 'headaches',
  'breathes', 'breaths', 'pains', 'seizures', 'fevers', 'fasting', 'overdue', 'lasting', 'casting', 'painting',
]);

/** Endings that make a different word form rather than a typo ("stroked" is not "stroke"). */
const INFLECTIONS = ['s', 'd', 'ed', 'es', 'ing', 'er', 'ers', 'y'];

/** Edits allowed for a target of this length: none for short words, where typos collide with real words. */
function allowedEdits(length: number): number {
  if (length <= 3) return 0;
  if (length <= 7) return 1;
  return 2;
}

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transposition), giving up as soon
 * as it must exceed `limit` — the cost stays small however long the token is.
 */
export function boundedEditDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current: number[] = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, (before[j - 2] ?? 0) + 1);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? limit + 1;
}

function isTransposition(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const differing = [...a].flatMap((ch, i) => (ch === b[i] ? [] : [i]));
  const [i, j] = differing;
  return differing.length === 2 && i !== undefined && j === i + 1 && a[i] === b[j] && a[j] === b[i];
}

export interface SpellingCorrector {
  (norm: string): string;
}

/**
 * Builds a corrector for the given targets. `known` words (every word the lexicons use) are
 * never corrected. Results are memoised, so a long message repeating a word costs one lookup.
 */
export function createCorrector(targets: readonly string[], known: ReadonlySet<string>): SpellingCorrector {
  const byInitial = new Map<string, string[]>();
  for (const target of targets) {
    const initial = target[0] ?? '';
    byInitial.set(initial, [...(byInitial.get(initial) ?? []), target]);
  }
  const memo = new Map<string, string>();
  return (norm: string): string => {
    const cached = memo.get(norm);
    if (cached !== undefined) return cached;
    const corrected = correct(norm, byInitial, known);
    // The memo only grows with distinct words, but cap it anyway so a hostile message cannot grow it without bound.
    if (memo.size < 50_000) memo.set(norm, corrected);
    return corrected;
  };
}

function correct(norm: string, byInitial: ReadonlyMap<string, readonly string[]>, known: ReadonlySet<string>): string {
  if (norm.length < 4 || known.has(norm) || REAL_WORDS.has(norm) || /\d/.test(norm)) return norm;
  // Typos rarely change the first letter; requiring it keeps the candidate list short and precise.
  const candidates = byInitial.get(norm[0] ?? '') ?? [];
  let best: { word: string; distance: number } | null = null;
  for (const target of candidates) {
    if (INFLECTIONS.some((ending) => norm === target + ending)) return norm;
    const distance = distanceWithin(norm, target);
    if (distance !== null && (best === null || distance < best.distance)) best = { word: target, distance };
  }
  return best?.word ?? norm;
}

function distanceWithin(norm: string, target: string): number | null {
  // Four-letter targets ("pain") only forgive a swapped pair ("pian"); any other edit makes real words.
  if (target.length === 4) return isTransposition(norm, target) ? 1 : null;
  const limit = allowedEdits(target.length);
  if (limit === 0) return null;
  // Two edits only when the first two letters agree: "suicidle" → "suicidal" but not "pleasure" → "pressure".
  const distance = boundedEditDistance(norm, target, limit);
  if (distance > limit) return null;
  if (distance === 2 && norm.slice(0, 2) !== target.slice(0, 2)) return null;
  return distance;
}
