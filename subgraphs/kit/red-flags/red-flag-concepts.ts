import type { Token } from './text.js';

/**
 * Concepts: what a word means for triage, whichever variety of English (or Pidgin, or Hinglish)
 * it is written in. "seene mein dard", "my chest dey pain me" and "chest hurts" all become
 * CHEST + PAIN, so the classifier can carry what it learned from one variety's wording to
 * another's (red-flag-features.ts adds concepts and concept pairs as features). The lists are
 * written from general knowledge of these varieties and of triage vocabulary (NHS 111 and
 * Manchester Triage discriminators), not from any evaluation set.
 *
 * An entry is a word, a phrase of words (matched on consecutive tokens), or a stem ending in
 * `*` (any word of at least the stem's length that starts with it: "sooj*" → sooja, soojan).
 */

export const CONCEPT_LEXICON: Readonly<Record<string, string>> = {
  // Body
  CHEST: 'chest chests breastbone sternum seena seene seeney seeny sina sine chhati chhaati chati chaati chhatti',
  HEART: 'heart dil cardiac',
  HEAD: 'head heads sar sir sarr matha mathe',
  NECK: 'neck gardan gardn',
  AIRWAY: 'throat tongue lips lip mouth gala gale galla jeebh jeeb jibh honth hont hoth honthon muh munh mooh',
  FACE: 'face faces chehra chehre chehera mukh',
  LIMB: 'arm arms leg legs hand hands foot feet haath hath haat pair pair paon paer pao limb limbs',
  SIDE: 'side taraf one-side left right daayein dayen baayein bayen half',
  BELLY: 'belly stomach tummy abdomen pet pait belle',
  SKIN: 'skin rash rashes spots spot daane dane dana nishaan nishan chakte blotches patches',
  EYES: 'eye eyes aankh aankhein ankhein ankh aakh',

  // Symptoms
  PAIN: 'pain pains painful paining hurt* ache aches aching achy sore dard dardd dukh* tight tightness pressure heavy heaviness bhaari bhari jakdan jakad squeez* crush* stabbing agony discomfort cramp* marod pressing press catch',
  BREATH: 'breath breathe breathing breathin breaths breathless* saans saas sans swas swaas shwas dam air oxygen hanf* haanf* pant panting gasp* wheez* suffocat* choking choke',
  UNABLE: "cant cannot couldnt unable incapable 'no fit' 'no fit' 'not able' 'nahi pa' 'nahi paa' 'nahi sak' 'nahi ho pa' 'no dey fit' 'no go fit'",
  STRUGGLE: 'struggl* difficult* difficulty trouble hard labou* dikkat diqqat takleef taklif taklef pareshan* wahala problem problems',
  FAST: 'fast rapid rapidly quick tez tezz jaldi-jaldi',
  BLUE: 'blue grey gray neela neeli nila nili ash purple bangni',
  DROOP: 'droop* sag* lopsided crooked twisted tedha tedhi tedhe latak* shift* fallen',
  SPEECH: 'speech speak* talk* words word slur* garbl* jumbl* gibberish bol* zubaan zuban jubaan shabd baat baatein awaaz',
  WEAK: 'weak weakness numb numbness limp floppy kamzor* sunn sun-pad jhunjhun* paralys* paralyz* lakwa lakva lakua',
  BLOOD: "blood bloody bleed* bled haemorrhag* hemorrhag* khoon khun khoonn rakt",
  LOTS: "lots loads lot much plenty heavily heavy massive pouring gush* spurt* pump* bahut bohot bahot zyada jyada saara sara 'well well' 'too much' everywhere soaked soaking",
  NONSTOP: "nonstop 'non stop' 'wont stop' 'not stopping' 'no gree stop' 'ruk nahi' 'ruk hi nahi' 'band nahi' 'no dey stop' 'never stop' continuous continuously",
  VOMIT: 'vomit* puk* ulti ultee throw* threw',
  STOOL: 'stool stools poo poop potty latrine shit toilet motion',
  BLACK: 'black tarry kaali kali kala kaala',
  DIE: 'die dying dead death kill* suicid* mar marna marne marunga marungi mar-jaun khatam maut jaan end ending',
  SELF: "myself self khud 'my life' 'apni jaan' 'my own'",
  WANT: "want wanna wan wish mann 'feel like' chahta chahti chahiye planning plan",
  HOPELESS: "hopeless pointless worthless burden 'no point' 'no reason' 'no use' 'koi matlab' bekaar bekar 'tire for this life' tired",
  ALLERGY: 'allerg* reaction sting stung peanut* nut nuts groundnut cashew* almond* shellfish prawn* shrimp* crayfish snail jhinga mungfali kaju bee bees wasp* madhumakkhi hives',
  SWELL: 'swell* swoll* puff* sooj* suj* phool* blow big fat thick moti mota rise closing closed',
  SEIZURE: 'seizure* seizing convuls* fit fits fitting daura daure mirgi jhatk* jhatak* giri jerk* shaking shake shook kaanp* stiff akad* stretch epilep*',
  FOAM: 'foam* froth* jhaag',
  UNCONSCIOUS: "unconscious* unresponsive faint* collaps* behosh* murchha murcha 'pass out' 'passed out' 'passing out' 'blacked out' 'black out' blackout slack yakata",
  RESPONSE: "respond* responsive answer* wake waking woke jawab hosh harkat 'open eye' 'open eyes' 'aankh nahi khol'",
  FEVER: 'fever* feverish temperature temp pyrex* bukhar bukhaar bukar tapman garam garm hot boil* burning tap',
  INFANT: "newborn* neonate infant* baby babies 'omo tuntun' 'new born' pikin bachcha bachche bachchi",
  PREGNANT: "pregnan* expecting trimester belle garbh* 'carry belle' 'get belle' miscarr* garbhpaat",
  HEADACHE: 'headache* migraine* sardard',
  SUDDEN: "sudden suddenly abrupt* instantly achanak achaanak 'ek dum' ekdum 'one time' 'all at once' 'out of nowhere' gbam kpa",
  WORST: "worst 'never had' 'never felt' 'kabhi nahi' 'life' explod* exploded burst* phat thunderclap 'like gunshot'",
  MEDICINE: 'pill* tablet* capsule* meds medication* medicine* drug drugs goli goliyan golian dawai dawa dawaai syrup paracetamol acetaminophen tylenol ibuprofen aspirin insulin codeine tramadol sleeping antidepressant* painkiller*',
  POISON: "poison* zeher zehar zahar bleach kerosene petrol diesel paraffin sniper otapiapia gramoxone pesticide* insecticide* 'rat poison' harpic phenyl detergent antifreeze camphor 'chuhe maar' 'keede maar' angithi 'carbon monoxide' generator fumes",
  INGEST: "took taken take swallow* ate eaten drank drunk drink* chop 'kha li' 'kha liya' 'kha gaya' 'kha gayi' 'pee li' 'pi li' 'pee liya' 'pila di' khaya khayi khaye",
  CONFUSED: "confus* disorient* delirious* 'not making sense' 'no dey make sense' behki 'pehchaan nahi' 'no know' rubbish nonsense 'talk anyhow' drowsy",
  SHIVER: 'shiver* rigor* rigour* kapkapi kaapna thand chills chilly cold',
  INFECTION: 'infect* uti wound sepsis septic* peshab urine pee',
  MOTTLED: "mottl* blotch* 'dont fade' 'not fade' nonblanch* 'non blanching' glass tumbler cup 'nahi mit' 'no comot when'",

  // Context
  NEG: "no not never nor none without denies denied dont doesnt didnt isnt wasnt arent werent havent hasnt nahi nahin nhi nai mat 'no be' 'e no'",
  PAST: "was were had ago last previously 'used to' tha thi pehle pahle pichle pichhle 'that time' bin 'e don tey' 'don tey' history",
  HYPOTHETICAL: "if agar suppose 'what if' 'in case' 'signs of' 'symptoms of' lakshan 'what does' 'what happens' 'which kind' 'how do' 'kya hota' 'kab hospital' 'when should' 'should i' 'wetin be'",
  WORRY: "worried worry worries scared afraid fear dey-fear anxious nervous panic* dar darr chinta tension 'read that' 'read about' padha google googled internet heard 'is it normal' 'could it be'",
  NOW: "now abhi 'right now' rn currently still today tonight aaj 'since morning' 'subah se' 'now now' ongoing 'just now' 'this morning' 'minutes ago' started shuru",
  MILD: "little slight slightly bit small thoda thodi halka halki mild minor 'small small' okay ok fine better theek thik normal settled 'went away'",
  OTHER_PERSON: 'he she his her him they them papa mummy mama mum mom dad father mother husband wife son daughter brother sister bhai behen dadi nani dada nana grandma grandpa granny neighbour neighbor friend guy',
};

/** A stem must be at least this long to match as a prefix ("fit*" would catch "fitness"). */
const MIN_STEM = 3;

interface ConceptIndex {
  words: ReadonlyMap<string, readonly string[]>;
  stems: ReadonlyMap<string, readonly string[]>;
  /** First word of a phrase → [phrase words, concept]. */
  phrases: ReadonlyMap<string, ReadonlyArray<readonly [readonly string[], string]>>;
}

function add<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) {
    if (!list.includes(value)) list.push(value);
  } else map.set(key, [value]);
}

/** Splits a concept's list into entries: quoted phrases and plain words or stems. */
function entriesOf(list: string): string[] {
  return [...list.matchAll(/'([^']+)'|(\S+)/g)].map((m) => (m[1] ?? m[2] ?? '').toLowerCase().replace(/-/g, ' ').trim()).filter((e) => e !== '');
}

function buildIndex(lexicon: Readonly<Record<string, string>>): ConceptIndex {
  const words = new Map<string, string[]>();
  const stems = new Map<string, string[]>();
  const phrases = new Map<string, Array<readonly [readonly string[], string]>>();
  for (const [concept, list] of Object.entries(lexicon)) {
    for (const entry of entriesOf(list)) {
      const parts = entry.split(/\s+/);
      const first = parts[0] ?? '';
      if (parts.length > 1) add(phrases, first, [parts, concept] as const);
      else if (first.endsWith('*') && first.length > MIN_STEM) add(stems, first.slice(0, -1), concept);
      else add(words, first, concept);
    }
  }
  return { words, stems, phrases };
}

const INDEX = buildIndex(CONCEPT_LEXICON);
const LONGEST_STEM = Math.max(...[...INDEX.stems.keys()].map((s) => s.length));

/** "hurtsss" → "hurts", "soooo" → "soo": elongation for emphasis is common in chat. */
const squeeze = (word: string): string => word.replace(/(\p{L})\1{2,}/gu, '$1$1');

function wordConcepts(word: string): readonly string[] {
  const exact = INDEX.words.get(word);
  if (exact) return exact;
  for (let length = Math.min(word.length, LONGEST_STEM); length >= MIN_STEM; length -= 1) {
    const stem = INDEX.stems.get(word.slice(0, length));
    if (stem) return stem;
  }
  return [];
}

/** The concepts of one word, trying its elongation-squeezed and spelling-corrected forms, then a split compound ("chestpain"). */
function conceptsOfWord(token: Token): readonly string[] {
  for (const form of [token.norm, squeeze(token.norm), squeeze(token.norm).replace(/(\p{L})\1/gu, '$1'), token.canon]) {
    const found = wordConcepts(form);
    if (found.length > 0) return found;
  }
  return splitCompound(token.norm);
}

function splitCompound(word: string): readonly string[] {
  if (word.length < 7) return [];
  for (let cut = 3; cut <= word.length - 3; cut += 1) {
    const left = INDEX.words.get(word.slice(0, cut));
    const right = wordConcepts(word.slice(cut));
    if (left && right.length > 0) return [...left, ...right];
  }
  return [];
}

export interface ConceptMention {
  concept: string;
  /** Token indices the concept came from (inclusive). */
  from: number;
  to: number;
}

/** Every concept mentioned in the tokens, in order; a phrase and its words may both count. */
export function conceptsOf(tokens: readonly Token[]): ConceptMention[] {
  const mentions: ConceptMention[] = [];
  for (const token of tokens) {
    if (token.value !== null) continue;
    for (const concept of conceptsOfWord(token)) mentions.push({ concept, from: token.index, to: token.index });
    for (const [words, concept] of INDEX.phrases.get(token.norm) ?? []) {
      const matches = words.every((word, k) => tokens[token.index + k]?.norm === word);
      if (matches) mentions.push({ concept, from: token.index, to: token.index + words.length - 1 });
    }
  }
  return mentions;
}
