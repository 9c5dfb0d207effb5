import type { Token } from './text.js';
import type { PatternMatch } from './patterns.js';

/**
 * Decides whether a matched symptom phrase is about the patient, now. Every cue is looked for in
 * the match's own clause, within a bounded window (the cost per match stays constant):
 *
 * - negation before the phrase ("no chest pain", "denies shortness of breath"), inside it ("chest
 *   isn't hurting") or a resolution after it ("the chest pain has gone");
 * - a hypothetical ("what should I do if I get chest pain");
 * - past time: for the patient only explicit past markers count ("years ago", "in 2019", "used
 *   to", "as a child") — a bare "I had a seizure" may be minutes old and still fires;
 * - someone else: "my father had a stroke" is suppressed by any past marker including a bare
 *   "had"/"was", but "my husband is having chest pain right now" still fires — a carer may be
 *   writing about an emergency in front of them;
 * - a present marker ("now", "still", "this morning", "20 minutes ago") overrides past markers;
 * - a worry about the future or about something read ("scared of having a stroke", "I read that
 *   black stool means…", "I dey fear say…"), unless a present marker says it is happening;
 * - a general question that is not about the writer ("can stress cause chest pain?", "how long
 *   does a seizure have to last before…?"): a question sentence that opens with a question
 *   word and has no "I"/"my" before the phrase.
 */

export type Suppression = 'negated' | 'hypothetical' | 'worry' | 'past' | 'other-person';

export type Subject = 'self' | 'other';

/** A multi-word cue is written with spaces and matched on normalised words. */
type Cue = readonly string[];

function cues(phrases: readonly string[]): Cue[] {
  return phrases.map((p) => p.split(' '));
}

const NEGATION_CUES = cues([
  'no', 'not', 'denies', 'denied', 'deny', 'denying', 'without', 'never', 'nor', 'neither', 'none', 'dont', 'doesnt',
  'didnt', 'havent', 'hasnt', 'hadnt', 'isnt', 'arent', 'wasnt', 'werent', 'aint', 'free of', 'negative for', 'absence of',
  'ruled out',
]);
/** Phrases that contain a negation word but negate nothing (NegEx's pseudo-negations). */
const PSEUDO_NEGATIONS = cues(['not sure', 'no idea', 'dont know', 'not only', 'not just', 'no matter', 'no longer', 'not certain', 'didnt know', 'doesnt know', 'no doubt']);
/** Words after a phrase that say it is over ("the bleeding has stopped"). */
const RESOLUTION_CUES = cues(['gone', 'resolved', 'stopped', 'settled', 'disappeared', 'went away', 'eased off', 'cleared up']);
/** A new subject between a negation and the phrase ends the negation's reach ("no, I can't breathe"). */
const NEGATION_SCOPE_BREAKERS = new Set(['i', 'im', 'ive', 'my', 'he', 'hes', 'she', 'shes', 'it', 'its', 'they', 'we', 'but']);
/** How many words before a phrase a negation can reach, as in NegEx. */
const NEGATION_WINDOW = 6;
const RESOLUTION_WINDOW = 4;

const HYPOTHETICAL_CUES = cues(['if', 'in case', 'signs of', 'symptoms of', 'what does', 'what causes', 'how do i know', 'risk of', 'side effect', 'side effects']);
/** "if" that introduces a worry about now, not a hypothetical. */
const REAL_WORRY_IF = new Set(['wondering', 'wonder', 'sure', 'unsure', 'checking']);
const HYPOTHETICAL_WINDOW = 8;

const TIME_UNITS_PAST = new Set(['day', 'days', 'week', 'weeks', 'month', 'months', 'year', 'years', 'decade', 'decades']);
const TIME_UNITS_RECENT = new Set(['minute', 'minutes', 'min', 'mins', 'hour', 'hours', 'hr', 'hrs', 'second', 'seconds']);
const LIFE_STAGES = new Set(['child', 'kid', 'teenager', 'teen', 'baby', 'toddler', 'student', 'youngster']);
const DECADES_OF_LIFE = new Set(['teens', 'twenties', '20s', 'thirties', '30s', 'forties', '40s', 'fifties', '50s']);
/** Explicit past markers: enough to set aside a phrase about the patient. */
const STRONG_PAST_CUES = cues([
  'used to', 'history of', 'in the past', 'previously', 'years back', 'last week', 'last month', 'last year', 'last summer',
  'last winter', 'last spring', 'last autumn', 'last time', 'when i was', 'when he was', 'when she was', 'when they was',
  'when we were', 'first pregnancy', 'last pregnancy', 'previous pregnancy', 'recovering from', 'recovered from', 'runs in', 'childhood', 'at school', 'back in', 'a while ago', 'long ago',
]);
/** Plain past-tense markers: enough to set aside a phrase about someone else. */
const WEAK_PAST_CUES = cues(['had', 'was', 'were', 'died', 'passed away', 'passed on', 'lost', 'once']);
const PRESENT_CUES = cues([
  'now', 'right now', 'currently', 'still', 'at the moment', 'just', 'today', 'tonight', 'this morning', 'this afternoon',
  'this evening', 'since', 'started', 'again', 'keeps', 'keep', 'ongoing', 'getting worse', 'is having', 'are having',
  'am having', 'cant', 'wont', 'isnt', 'happening',
]);
const TIME_WINDOW = 20;

/** People other than the patient; "my" followed by one of these is someone else. */
export const OTHER_PEOPLE = new Set([
  'mum', 'mom', 'mother', 'mam', 'dad', 'father', 'brother', 'sister', 'son', 'daughter', 'husband', 'wife', 'partner',
  'boyfriend', 'girlfriend', 'friend', 'friends', 'grandma', 'grandmother', 'granny', 'nan', 'nana', 'grandad', 'granddad',
  'grandpa', 'grandfather', 'uncle', 'aunt', 'auntie', 'cousin', 'nephew', 'niece', 'neighbour', 'neighbor', 'colleague',
  'coworker', 'boss', 'flatmate', 'roommate', 'housemate', 'baby', 'toddler', 'child', 'kid', 'kids', 'children', 'newborn',
  'family', 'parents', 'someone', 'somebody', 'dog', 'cat', 'mums', 'moms', 'dads', 'neighbours', 'neighbors', 'babys',
  'sons', 'daughters', 'husbands', 'wifes', 'friends', 'brothers', 'sisters', 'fathers', 'mothers', 'grandads', 'grandmas',
]);
const OTHER_PRONOUNS = new Set(['he', 'hes', 'she', 'shes', 'they', 'theyre', 'him', 'his', 'her', 'hers', 'them', 'their']);
const SELF_WORDS = new Set(['i', 'im', 'ive', 'id', 'me', 'myself', 'mine']);
const SUBJECT_LOOKBACK = 12;

/** Where a multi-word cue starting at `i` matches, or false. */
function cueAt(tokens: readonly Token[], i: number, cue: Cue, clause: number): boolean {
  return cue.every((word, k) => {
    const token = tokens[i + k];
    return token !== undefined && token.clause === clause && token.norm === word;
  });
}

function anyCueAt(tokens: readonly Token[], i: number, list: readonly Cue[], clause: number): Cue | null {
  return list.find((cue) => cueAt(tokens, i, cue, clause)) ?? null;
}

/** Indices of tokens within `radius` of the match and in its clause. */
function clauseWindow(tokens: readonly Token[], match: PatternMatch, before: number, after: number): number[] {
  const clause = tokens[match.from]?.clause;
  const indices: number[] = [];
  for (let i = Math.max(0, match.from - before); i <= Math.min(tokens.length - 1, match.to + after); i += 1) {
    if (tokens[i]?.clause === clause) indices.push(i);
  }
  return indices;
}

export function isNegated(tokens: readonly Token[], match: PatternMatch): boolean {
  return negatedBefore(tokens, match) || match.gapTokens.some((i) => anyCueAt(tokens, i, NEGATION_CUES, tokens[i]?.clause ?? -1) !== null) || resolvedAfter(tokens, match);
}

function negatedBefore(tokens: readonly Token[], match: PatternMatch): boolean {
  const clause = tokens[match.from]?.clause ?? -1;
  for (let i = match.from - 1; i >= Math.max(0, match.from - NEGATION_WINDOW); i -= 1) {
    const token = tokens[i];
    if (!token || token.clause !== clause) return false;
    if (anyCueAt(tokens, i, NEGATION_CUES, clause) && !anyCueAt(tokens, i, PSEUDO_NEGATIONS, clause)) return true;
    if (NEGATION_SCOPE_BREAKERS.has(token.norm)) return false;
  }
  return false;
}

function resolvedAfter(tokens: readonly Token[], match: PatternMatch): boolean {
  const clause = tokens[match.from]?.clause ?? -1;
  for (let i = match.to + 1; i <= match.to + RESOLUTION_WINDOW; i += 1) {
    const token = tokens[i];
    if (!token || token.clause !== clause) return false;
    // "hasn't stopped" is not a resolution.
    const negatedResolution = anyCueAt(tokens, i - 1, NEGATION_CUES, clause) !== null;
    if (anyCueAt(tokens, i, RESOLUTION_CUES, clause) && !negatedResolution) return true;
  }
  return false;
}

/**
 * Hinglish and Indian English put the negation after the symptom ("koi bleeding nahi hai",
 * "chest pain is not there"); "ruk nahi raha" (won't stop) is not a negation of the symptom.
 */
const AFTER_NEGATIONS = cues(['nahi', 'nahin', 'nhi', 'is not there', 'not there', 'nahi hai', 'nahi hua']);
const NOT_STOPPING = new Set(['ruk', 'ruki', 'ruka', 'band', 'stop', 'stopping', 'thama', 'tham']);
const AFTER_NEGATION_WINDOW = 3;

function negatedAfter(tokens: readonly Token[], match: PatternMatch): boolean {
  const clause = tokens[match.from]?.clause ?? -1;
  for (let i = match.to + 1; i <= match.to + AFTER_NEGATION_WINDOW; i += 1) {
    const token = tokens[i];
    if (!token || token.clause !== clause || NOT_STOPPING.has(token.norm)) return false;
    if (anyCueAt(tokens, i, AFTER_NEGATIONS, clause)) return true;
  }
  return false;
}

/** Words of worry or of having read something, and the links that make the phrase their object. */
const WORRY_CUES = new Set([
  'worried', 'worry', 'worries', 'worrying', 'scared', 'afraid', 'terrified', 'fear', 'fears', 'feared', 'frightened',
  'anxious', 'paranoid', 'tensed', 'tension', 'dar', 'darr', 'chinta', 'read', 'googled', 'googling', 'google', 'heard',
  'video', 'news', 'article', 'documentary', 'programme', 'program', 'tiktok', 'youtube', 'padha', 'convinced',
]);
const WORRY_LINKS = new Set([
  'of', 'about', 'that', 'say', 'ki', 'will', 'might', 'may', 'could', 'would', 'go', 'get', 'gets', 'getting', 'having',
  'hell', 'shell', 'theyll', 'iwill', 'youll', 'can', 'causes', 'cause', 'means', 'mean', 'se', 'like', 'jaisa',
]);
const WORRY_WINDOW = 10;

export function isWorry(tokens: readonly Token[], match: PatternMatch): boolean {
  const clause = tokens[match.from]?.clause ?? -1;
  let linked = false;
  for (let i = match.from - 1; i >= Math.max(0, match.from - WORRY_WINDOW); i -= 1) {
    const token = tokens[i];
    if (!token || token.clause !== clause) return false;
    if (WORRY_CUES.has(token.norm)) return linked || WORRY_LINKS.has(tokens[i + 1]?.norm ?? '');
    if (WORRY_LINKS.has(token.norm)) linked = true;
  }
  return false;
}

const QUESTION_OPENERS = cues(['can', 'could', 'does', 'do', 'how', 'what', 'which', 'when', 'why', 'would', 'should', 'will', 'is it', 'is there', 'are there', 'kya', 'wetin']);
const WRITER_WORDS = new Set(['i', 'im', 'ive', 'id', 'my', 'me', 'mera', 'meri', 'mere', 'mujhe', 'main']);

/** A question sentence opening with a question word, with no "I" or "my" before the phrase. */
export function isGeneralQuestion(tokens: readonly Token[], match: PatternMatch): boolean {
  const at = tokens[match.from];
  if (!at?.inQuestion) return false;
  const first = at.sentenceStart;
  if (!anyCueAt(tokens, first, QUESTION_OPENERS, tokens[first]?.clause ?? -1)) return false;
  return firstWriterWord(tokens, first) >= match.from;
}

/** Per message, each sentence's first "I"/"my" (Infinity when none): found once, so many matches in one long sentence cost no more than one. */
const writerWordsByMessage = new WeakMap<readonly Token[], Map<number, number>>();

function firstWriterWord(tokens: readonly Token[], sentenceStart: number): number {
  let bySentence = writerWordsByMessage.get(tokens);
  if (!bySentence) {
    bySentence = new Map();
    writerWordsByMessage.set(tokens, bySentence);
  }
  let found = bySentence.get(sentenceStart);
  if (found === undefined) {
    found = Infinity;
    for (let i = sentenceStart; tokens[i]?.sentenceStart === sentenceStart; i += 1) {
      if (WRITER_WORDS.has(tokens[i]?.norm ?? '')) {
        found = i;
        break;
      }
    }
    bySentence.set(sentenceStart, found);
  }
  return found;
}

export function isHypothetical(tokens: readonly Token[], match: PatternMatch): boolean {
  const clause = tokens[match.from]?.clause ?? -1;
  for (let i = match.from - 1; i >= Math.max(0, match.from - HYPOTHETICAL_WINDOW); i -= 1) {
    if (tokens[i]?.clause !== clause) return false;
    const cue = anyCueAt(tokens, i, HYPOTHETICAL_CUES, clause);
    if (cue && !(cue[0] === 'if' && REAL_WORRY_IF.has(tokens[i - 1]?.norm ?? ''))) return true;
  }
  return false;
}

/** The nearest person reference before the phrase decides whose symptom it is; default the patient. */
export function subjectOf(tokens: readonly Token[], match: PatternMatch): Subject {
  const clause = tokens[match.from]?.clause;
  for (let i = match.from - 1; i >= Math.max(0, match.from - SUBJECT_LOOKBACK); i -= 1) {
    const token = tokens[i];
    if (!token || token.clause !== clause) break;
    if (OTHER_PEOPLE.has(token.norm) || OTHER_PRONOUNS.has(token.norm)) return 'other';
    if (SELF_WORDS.has(token.norm)) return 'self';
  }
  return 'self';
}

interface TimeCues {
  strongPast: boolean;
  weakPast: boolean;
  present: boolean;
}

export function timeCues(tokens: readonly Token[], match: PatternMatch): TimeCues {
  const clause = tokens[match.from]?.clause ?? -1;
  const found: TimeCues = { strongPast: false, weakPast: false, present: false };
  for (const i of clauseWindow(tokens, match, TIME_WINDOW, TIME_WINDOW)) {
    // Words inside the phrase itself ("can't breathe") are symptoms, not time markers.
    if (i >= match.from && i <= match.to && !match.gapTokens.includes(i)) continue;
    const token = tokens[i];
    if (!token) continue;
    if (anyCueAt(tokens, i, STRONG_PAST_CUES, clause) || isPastDate(tokens, i)) found.strongPast = true;
    if (anyCueAt(tokens, i, WEAK_PAST_CUES, clause)) found.weakPast = true;
    if (anyCueAt(tokens, i, PRESENT_CUES, clause) || isRecentAgo(tokens, i)) found.present = true;
    if (token.norm === 'ago' && TIME_UNITS_PAST.has(tokens[i - 1]?.norm ?? '')) found.strongPast = true;
  }
  return found;
}

/** "in 2019", "as a teenager", "in my twenties". */
function isPastDate(tokens: readonly Token[], i: number): boolean {
  const token = tokens[i];
  if (!token) return false;
  if (token.value !== null && Number.isInteger(token.value) && token.value >= 1950 && token.value <= 2030) return true;
  if (token.norm === 'as' && tokens[i + 1]?.norm === 'a' && LIFE_STAGES.has(tokens[i + 2]?.norm ?? '')) return true;
  return token.norm === 'in' && tokens[i + 1]?.norm === 'my' && DECADES_OF_LIFE.has(tokens[i + 2]?.norm ?? '');
}

/** "20 minutes ago", "an hour ago": recent enough to be happening now. */
function isRecentAgo(tokens: readonly Token[], i: number): boolean {
  return tokens[i]?.norm === 'ago' && TIME_UNITS_RECENT.has(tokens[i - 1]?.norm ?? '');
}

/**
 * Phrases saying an episode is over and the person is well ("none since", "fully recovered", "e
 * don recover", "ab bilkul theek"). With a past marker and nothing recent in the sentence, they
 * outweigh present words such as "now" and "still" ("had a seizure in 2019, none since, can I
 * drive now?").
 */
const RECOVERY_CUES = cues([
  'none since', 'nothing since', 'not happened since', 'never again', 'never came back', 'since then', 'fully recovered',
  'recovered', 'recover', 'fine now', 'okay now', 'ok now', 'well now', 'all fine', 'strong now', 'dey fine', 'dey okay',
  'ab theek', 'bilkul theek', 'theek hain', 'theek hai', 'no such thoughts', 'clean', 'totally well', 'back to normal',
]);
const RECENT_CUES = cues(['right now', 'today', 'tonight', 'this morning', 'this afternoon', 'this evening', 'just now', 'abhi', 'aaj']);

const SENTENCE_REACH = 40;

function sentenceSaysRecovered(tokens: readonly Token[], match: PatternMatch): boolean {
  const sentence = tokens[match.from]?.sentenceStart;
  let recovered = false;
  // Bounded either side, so a long run-on message costs a constant per match.
  for (let i = Math.max(0, match.from - SENTENCE_REACH); i <= Math.min(tokens.length - 1, match.to + SENTENCE_REACH); i += 1) {
    const token = tokens[i];
    if (!token || token.sentenceStart !== sentence) continue;
    if (anyCueAt(tokens, token.index, RECENT_CUES, token.clause) || isRecentAgo(tokens, token.index)) return false;
    if (anyCueAt(tokens, token.index, RECOVERY_CUES, token.clause)) recovered = true;
  }
  return recovered;
}

/** Phrases saying a past symptom has come back: "... in 2019 but it's back today". */
const RECURRENCE_SUBJECTS = new Set(['it', 'its', 'they', 'theyre', 'pain', 'pains', 'symptoms']);
const RECURRENCE_WORDS = new Set(['back', 'again', 'returned', 'recurred']);

export function nextClauseSaysItIsBack(tokens: readonly Token[], match: PatternMatch): boolean {
  const clause = (tokens[match.from]?.clause ?? -1) + 1;
  let i = match.to + 1;
  while (tokens[i] !== undefined && tokens[i]?.clause !== clause) i += 1;
  let sawSubject = false;
  for (let k = 0; k < 8; k += 1) {
    const token = tokens[i + k];
    if (!token || token.clause !== clause) return false;
    if (RECURRENCE_SUBJECTS.has(token.norm)) sawSubject = true;
    else if (sawSubject && RECURRENCE_WORDS.has(token.norm)) return true;
  }
  return false;
}

/**
 * Why the phrase does not count, or null when it does. `subjectIsOther` is forced for phrases
 * that are always about someone else (an infant's fever).
 */
export function suppression(tokens: readonly Token[], match: PatternMatch, subjectIsOther = false): Suppression | null {
  if (isNegated(tokens, match) || negatedAfter(tokens, match)) return 'negated';
  if (isHypothetical(tokens, match) || isGeneralQuestion(tokens, match)) return 'hypothetical';
  const time = timeCues(tokens, match);
  if (!time.present && isWorry(tokens, match)) return 'worry';
  const subject: Subject = subjectIsOther ? 'other' : subjectOf(tokens, match);
  if (subject === 'other' && (time.strongPast || time.weakPast) && !time.present) return 'other-person';
  if ((time.strongPast || time.weakPast) && sentenceSaysRecovered(tokens, match)) return 'past';
  if (time.strongPast && !time.present && !nextClauseSaysItIsBack(tokens, match)) return 'past';
  return null;
}
