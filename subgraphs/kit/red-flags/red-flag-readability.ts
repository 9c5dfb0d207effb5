import { wordsOf } from './red-flag-features.js';
import type { Token } from './text.js';

/**
 * Whether the red-flag engine can read a message at all. Its rules and classifier know English
 * as Nigerian, Indian, British and American patients write it, Nigerian Pidgin and Hinglish; a
 * message in another language or script, or a placeholder for a photo or voice note, would pass
 * both silently. Such a message is unreadable, and an unreadable message alerts a nurse (fail
 * safe) instead of being taken as harmless.
 */

export type Readability = { readable: true } | { readable: false; reason: UnreadableReason; evidence: string };
export type UnreadableReason = 'attachment' | 'script' | 'symbols-only' | 'unknown-words';

/** "[image]", "<Media omitted>", "IMG_2031.jpg", a bare "voice note": what chat apps put in place of media. */
const MEDIA_WORDS = String.raw`(?:image|photo|picture|pic|attachment|file|voice\s*(?:note|message)|audio|video|sticker|gif|media omitted)`;
const ATTACHMENT = new RegExp(String.raw`^\s*[[<(]\s*${MEDIA_WORDS}\b[^\]>)]*[\]>)]|^\s*${MEDIA_WORDS}\s*$|\b[\w-]+\.(?:jpe?g|png|heic|gif|webp|pdf|mp4|mov|m4a|ogg|opus|aac)\b`, 'iu');
const LETTER = /\p{L}/gu;
const LATIN_LETTER = /\p{Script=Latin}/gu;
const PICTOGRAPH = /\p{Extended_Pictographic}/u;
/** Share of non-Latin letters above which the message is in another script (Devanagari, Arabic, …). */
const MAX_OTHER_SCRIPT_SHARE = 0.3;
/** With at least this many words, fewer than MIN_KNOWN_SHARE known ones means another language. */
const MIN_WORDS_TO_JUDGE = 3;
const MIN_KNOWN_SHARE = 0.4;

/** `words`: the message's tokens when they have been made already (their normalised form is all that is read). */
export function readabilityOf(text: string, knows: (word: string) => boolean, words: readonly Token[] = wordsOf(text)): Readability {
  const attachment = ATTACHMENT.exec(text);
  if (attachment) return { readable: false, reason: 'attachment', evidence: attachment[0].trim() };
  const letters = text.match(LETTER)?.length ?? 0;
  if (letters === 0) return PICTOGRAPH.test(text) ? { readable: false, reason: 'symbols-only', evidence: text.trim().slice(0, 40) } : { readable: true };
  const latin = text.match(LATIN_LETTER)?.length ?? 0;
  if ((letters - latin) / letters > MAX_OTHER_SCRIPT_SHARE) return { readable: false, reason: 'script', evidence: 'written in a script the engine does not read' };
  const judged = words.filter((t) => t.value === null && t.norm.length >= 2);
  if (judged.length < MIN_WORDS_TO_JUDGE) return { readable: true };
  const known = judged.filter((t) => knows(t.norm)).length;
  if (known / judged.length < MIN_KNOWN_SHARE) return { readable: false, reason: 'unknown-words', evidence: `${known} of ${judged.length} words known` };
  return { readable: true };
}
