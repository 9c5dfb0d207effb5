/**
 * Turns a patient message into tokens the red-flag rules can match: normalised words with
 * their offsets in the original text (so evidence quotes what the patient wrote), a
 * misspelling-corrected form, a numeric value, and the clause each token belongs to (negation,
 * time and person cues only apply within a clause).
 */

export interface Token {
  /** Position in the token list. */
  index: number;
  /** Lowercase, accent-free, apostrophes removed: "Can't" → "cant". */
  norm: string;
  /** `norm`, or the lexicon word it is a likely misspelling of ("pian" → "pain"). */
  canon: string;
  /** Offsets of the token in the original text, for evidence. */
  start: number;
  end: number;
  /** Clause number; cues in one clause never affect a match in another. */
  clause: number;
  /** Index of the first token of this token's sentence (sentences end at . ! ? ; or a line break). */
  sentenceStart: number;
  /** Whether the token's sentence ends with a question mark. */
  inQuestion: boolean;
  /** Digits or number words ("six") as a number, else null. */
  value: number | null;
}

/**
 * Messages are scanned up to this many characters. A chat message is normally a few hundred;
 * the cap keeps the work bounded whatever is pasted in (the chat subgraph should also limit
 * message length). Text beyond it is not scanned.
 */
export const MAX_SCANNED_CHARS = 200_000;

/** Numbers (with an optional decimal part) or words (letters with inner apostrophes). */
const TOKEN_PATTERN = /\p{N}+(?:[.,]\p{N}+)?|[\p{L}\p{M}]+(?:['’‘`][\p{L}\p{M}]+)*/gu;

/** Punctuation that ends a clause outright. Colons are excluded so "chest pain: denied" stays one clause. */
const HARD_BREAK = /[.!?;\n\r…]/;
/** Punctuation that may end a clause when a new subject follows it. */
const SOFT_BREAK = /[,—–(]|\s-\s/;

/** Words that open a new clause by themselves ("no fever but my chest hurts"). */
const CLAUSE_CONJUNCTIONS = new Set(['but', 'although', 'though', 'however', 'whereas', 'except']);
/** Words that link clauses; a subject right after them starts a new clause. */
const LINKING_WORDS = new Set(['and', 'so', 'then', 'or']);
/**
 * Subjects that start a new clause after a comma or a linking word: "no fever, my chest
 * hurts" must not let "no" negate the chest pain.
 */
const SUBJECT_STARTERS = new Set(['i', 'im', 'ive', 'id', 'my', 'he', 'hes', 'she', 'shes', 'it', 'its', 'they', 'theyre', 'we', 'his', 'her', 'their', 'there', 'theres', 'this', 'now']);

/** Contractions that lose their meaning once apostrophes are removed. */
const APOSTROPHE_FORMS: Record<string, string> = {
  "od'd": 'overdosed',
  "o.d'd": 'overdosed',
  // "I'll" would otherwise read as "ill" (unwell), and "scared and ill" as "scared I'll".
  "i'll": 'iwill',
};
const SPELLING_VARIANTS: Record<string, string> = { cannot: 'cant', wanna: 'want', gonna: 'going', alot: 'lot' };

const NUMBER_WORDS: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  twenty: 20, thirty: 30, forty: 40, fifty: 50, hundred: 100,
};

export function normaliseWord(raw: string): string {
  const lower = raw.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[’‘`]/g, "'");
  const special = APOSTROPHE_FORMS[lower];
  if (special) return special;
  const plain = lower.replace(/'/g, '');
  return SPELLING_VARIANTS[plain] ?? plain;
}

function numericValue(norm: string): number | null {
  if (/^\d+(?:[.,]\d+)?$/.test(norm)) return Number(norm.replace(',', '.'));
  return NUMBER_WORDS[norm] ?? null;
}

/**
 * Splits the text into tokens and clauses. `correct` maps a normalised word to the lexicon word
 * it stands for (misspellings), or returns it unchanged.
 */
export function tokenise(text: string, correct: (norm: string) => string): Token[] {
  const scanned = text.length > MAX_SCANNED_CHARS ? text.slice(0, MAX_SCANNED_CHARS) : text;
  const tokens: Token[] = [];
  let clause = 0;
  let sentenceStart = 0;
  let previousEnd = 0;
  for (const match of scanned.matchAll(TOKEN_PATTERN)) {
    const start = match.index ?? 0;
    const end = start + match[0].length;
    const norm = normaliseWord(match[0]);
    const previous = tokens[tokens.length - 1];
    // "can not" behaves like "can't": the "not" must not read as a negation cue.
    if (previous && previous.norm === 'can' && norm === 'not' && !HARD_BREAK.test(scanned.slice(previousEnd, start))) {
      previous.norm = 'cant';
      previous.canon = 'cant';
      previous.end = end;
      previousEnd = end;
      continue;
    }
    const gap = scanned.slice(previousEnd, start);
    if (previous && startsClause(gap, previous.norm, norm)) clause += 1;
    if (previous && HARD_BREAK.test(gap)) {
      markQuestion(tokens, sentenceStart, gap.includes('?'));
      sentenceStart = tokens.length;
    }
    tokens.push({ index: tokens.length, norm, canon: correct(norm), start, end, clause, sentenceStart, inQuestion: false, value: numericValue(norm) });
    previousEnd = end;
  }
  markQuestion(tokens, sentenceStart, scanned.slice(previousEnd).includes('?'));
  return tokens;
}

/** Marks the tokens of the sentence just ended (from `sentenceStart`) as a question when it ended with "?". */
function markQuestion(tokens: readonly Token[], sentenceStart: number, question: boolean): void {
  if (!question) return;
  for (let i = sentenceStart; i < tokens.length; i += 1) {
    const token = tokens[i];
    if (token) token.inQuestion = true;
  }
}

function startsClause(gap: string, previousNorm: string, norm: string): boolean {
  if (HARD_BREAK.test(gap)) return true;
  if (CLAUSE_CONJUNCTIONS.has(norm)) return true;
  return SUBJECT_STARTERS.has(norm) && (SOFT_BREAK.test(gap) || LINKING_WORDS.has(previousNorm));
}

/** The original wording of tokens `from`..`to` (inclusive). */
export function spanText(text: string, tokens: readonly Token[], from: number, to: number): string {
  const first = tokens[from];
  const last = tokens[to];
  return first && last ? text.slice(first.start, last.end) : '';
}
