import type { Token } from './text.js';
import type { WordClass } from './patterns.js';

/**
 * What each red flag sounds like in a patient's own words. Patterns use the phrase language in
 * patterns.ts; add a variant here when the evaluation set shows a miss, and a look-alike to the
 * evaluation set when a variant over-reaches.
 */

export const RED_FLAG_CODES = [
  'CHEST_PAIN',
  'BREATHING_DIFFICULTY',
  'STROKE_SIGNS',
  'SEVERE_BLEEDING',
  'SUICIDAL_OR_SELF_HARM',
  'ANAPHYLAXIS',
  'SEIZURE',
  'LOSS_OF_CONSCIOUSNESS',
  'INFANT_FEVER',
  'PREGNANCY_BLEEDING',
  'SUDDEN_SEVERE_HEADACHE',
  'OVERDOSE_OR_POISONING',
  'SEPSIS_SIGNS',
] as const;

export type RedFlagCode = (typeof RED_FLAG_CODES)[number];

const CODE_SET: ReadonlySet<unknown> = new Set(RED_FLAG_CODES);
/** Whether a value from outside (a stored flag, a model file, an LLM's answer) is one of the codes. */
export const isRedFlagCode = (value: unknown): value is RedFlagCode => CODE_SET.has(value);

export interface LexiconRule {
  code: RedFlagCode;
  pattern: string;
  /** Any of these words in the clause cancels the match ("can't breathe through my nose"). */
  unlessInClause?: readonly string[];
  /** The word right before the match cancels it ("food poisoning", "knee collapsed"). */
  unlessBefore?: readonly string[];
  /** The word right after the match cancels it ("stroke of luck", "seizing up"). */
  unlessAfter?: readonly string[];
  /** A further check on the matched tokens (a temperature below 38 °C is not a fever). */
  accept?: (tokens: readonly Token[], from: number, to: number) => boolean;
}

const words = (list: string): ReadonlySet<string> => new Set(list.split(/\s+/));

const isNumberAtLeast =
  (minimum: number) =>
  (token: Token): boolean =>
    token.value !== null && token.value >= minimum;

/** A thermometer reading that is a fever: 38–45 °C or 100.4–113 °F. */
export function isFeverReading(value: number): boolean {
  return (value >= 38 && value <= 45) || (value >= 100.4 && value <= 113);
}

/** A reading after "temperature"/"temp" that is not a fever cancels "has a temperature of 37.2". */
function noNormalReading(tokens: readonly Token[], _from: number, to: number): boolean {
  for (let i = to + 1; i <= to + 3; i += 1) {
    const value = tokens[i]?.value;
    if (value !== null && value !== undefined && value >= 30) return isFeverReading(value);
  }
  return true;
}

export const WORD_CLASSES: Readonly<Record<string, WordClass>> = {
  CHEST: words('chest breastbone sternum'),
  PAIN: words('pain pains painful hurts hurting hurt ache aches aching achy tight tightness pressure heavy heaviness crushing squeezing squeeze sore stabbing agony discomfort'),
  RADIATES: words('radiating radiates spreading spreads going goes shooting shoots moving travelling traveling down into'),
  BREATH: words('breathe breath breathing'),
  BREATHING_TROUBLE: words('struggling struggle trouble difficulty difficult hard problems problem labored laboured'),
  DROOP: words('drooping droopy droop droops drooped dropped dropping sagging lopsided fallen'),
  SPEECH: words('speech words talking speaking'),
  WEAK: words('weak weakness numb numbness dead limp floppy'),
  LIMB: words('arm arms leg legs hand'),
  INTENT: words('want going thinking thoughts thought urge urges been keep started will planning plan'),
  HARM_VERB: words('hurt harm cut hurting harming cutting burn burning'),
  SWELLING: words('swelling swollen swell swells closing tight tightening puffing puffy'),
  AIRWAY: words('throat tongue lips lip'),
  INGEST: words('took taken take taking swallowed ate eaten'),
  LOTS: words('whole entire all handful packet packets bottle bottles box boxes strip strips lots loads bunch many'),
  MEDS: words('codamol co pills pill tablets tablet capsules meds medication medications medicine medicines paracetamol acetaminophen tylenol ibuprofen aspirin insulin codeine tramadol cocodamol amitriptyline sertraline antidepressants painkillers sleeping'),
  POISON: words('bleach antifreeze poison weedkiller detergent pods pod batteries battery cleaner chemicals paraffin washing liquid lighter white'),
  SUDDEN: words('sudden suddenly abrupt abruptly instantly explosive exploding'),
  SEIZURE: words('seizure seizures seizing convulsing convulsion convulsions convulsed'),
  FEVER: words('fever feverish pyrexia pyrexial'),
  BIG_NUMBER: isNumberAtLeast(10),
  FEVER_READING: (t) => t.value !== null && isFeverReading(t.value),
};

/** Sites where bleeding is ordinary even in pregnancy. */
const MINOR_BLEEDING_SITES = ['gums', 'gum', 'teeth', 'nose', 'finger', 'scratch', 'lip', 'brush', 'brushing'];
/** "blood test", "blood pressure": blood as a topic, not bleeding. */
const BLOOD_AS_TOPIC = ['test', 'tests', 'pressure', 'sugar', 'sugars', 'type', 'results', 'result', 'count', 'group', 'work', 'donation'];

export const LEXICON: readonly LexiconRule[] = [
  // Chest pain or pressure, with or without radiation; "heart attack" in the patient's words.
  { code: 'CHEST_PAIN', pattern: '@CHEST ~3 @PAIN' },
  { code: 'CHEST_PAIN', pattern: 'sitting|standing|pressing|crushing ~1 on ~1 my ~1 @CHEST' },
  { code: 'CHEST_PAIN', pattern: '@PAIN ~5 @CHEST' },
  { code: 'CHEST_PAIN', pattern: 'heart attack' },
  { code: 'CHEST_PAIN', pattern: '@PAIN ~3 @RADIATES ~3 left? arm|jaw' },
  { code: 'CHEST_PAIN', pattern: 'arm and jaw' },

  // Breathing difficulty. "Out of breath" after exertion is deliberately not here.
  { code: 'BREATHING_DIFFICULTY', pattern: 'cant|unable|couldnt ~2 @BREATH', unlessInClause: ['nose', 'nostril', 'nostrils'] },
  { code: 'BREATHING_DIFFICULTY', pattern: 'cant|couldnt|unable ~2 catch|get ~3 breath|air' },
  { code: 'BREATHING_DIFFICULTY', pattern: 'short|shortness ~1 of? breath|breathe|breathing' },
  { code: 'BREATHING_DIFFICULTY', pattern: 'breath ~3 short' },
  { code: 'BREATHING_DIFFICULTY', pattern: '@BREATHING_TROUBLE ~2 @BREATH', unlessInClause: ['nose'] },
  { code: 'BREATHING_DIFFICULTY', pattern: 'breathing ~2 difficult|hard|laboured|labored|fast|rapid|rapidly|noisy|grunting' },
  { code: 'BREATHING_DIFFICULTY', pattern: 'gasping|breathless|breathlessness|suffocating|choking', unlessInClause: ['heat', 'weather', 'laughing', 'food'] },
  { code: 'BREATHING_DIFFICULTY', pattern: 'only ~1 say ~2 few ~1 words' },
  { code: 'BREATHING_DIFFICULTY', pattern: 'barely ~1 @BREATH' },
  { code: 'BREATHING_DIFFICULTY', pattern: 'not|stopped|isnt|wasnt|stops breathing' },
  { code: 'BREATHING_DIFFICULTY', pattern: 'lips|face|skin ~3 blue|grey|gray' },
  { code: 'BREATHING_DIFFICULTY', pattern: 'turning blue' },

  // Stroke signs: face, arm, speech (FAST), or the word itself.
  { code: 'STROKE_SIGNS', pattern: 'face|mouth|smile ~3 @DROOP' },
  { code: 'STROKE_SIGNS', pattern: '@DROOP ~2 face|mouth|smile' },
  { code: 'STROKE_SIGNS', pattern: 'face ~4 numb|weird|strange|funny ~3 one? side', unlessInClause: ['dentist', 'injection', 'anaesthetic', 'filling', 'cold'] },
  { code: 'STROKE_SIGNS', pattern: 'slurred|slurring ~2 speech|words|talking' },
  { code: 'STROKE_SIGNS', pattern: 'speech ~3 slurred|slurring|garbled|jumbled|muddled|strange' },
  { code: 'STROKE_SIGNS', pattern: 'words ~4 wrong|jumbled|muddled|mixed|garbled' },
  { code: 'STROKE_SIGNS', pattern: 'cant|couldnt|unable ~2 get ~2 words ~1 out' },
  { code: 'STROKE_SIGNS', pattern: 'cant|couldnt|unable ~2 talk|speak ~1 properly|clearly|normally' },
  { code: 'STROKE_SIGNS', pattern: '@BREATHING_TROUBLE ~2 speaking|talking|speak|talk' },
  { code: 'STROKE_SIGNS', pattern: 'cant|couldnt|unable ~2 lift|raise|move ~2 @LIMB' },
  { code: 'STROKE_SIGNS', pattern: '@LIMB ~3 @WEAK', unlessInClause: ['sleeping', 'slept', 'vaccine', 'jab', 'gym', 'injection', 'workout'] },
  { code: 'STROKE_SIGNS', pattern: 'weakness|numbness|numb|weak ~3 @LIMB|side' },
  { code: 'STROKE_SIGNS', pattern: 'lost|losing|no ~2 strength|feeling|power ~4 @LIMB|side' },
  { code: 'STROKE_SIGNS', pattern: 'talking|speaking ~1 gibberish|nonsense' },
  { code: 'STROKE_SIGNS', pattern: 'smile|mouth ~2 crooked|twisted' },
  { code: 'STROKE_SIGNS', pattern: 'stroke|strokes|tia', unlessBefore: ['heat', 'back', 'breast', 'brush', 'swimming', 'pen'], unlessAfter: ['of', 'the', 'my', 'his', 'her', 'clinic', 'unit', 'ward', 'nurse', 'team', 'appointment', 'rehab', 'service'] },

  // Severe bleeding: volume, duration, or blood from the gut or lungs.
  { code: 'SEVERE_BLEEDING', pattern: 'bleeding|bleed|bled ~2 heavily|badly|profusely|everywhere|loads|lot|lots|nonstop' },
  { code: 'SEVERE_BLEEDING', pattern: 'bleeding|bleed|bled ~2 non ~1 stop' },
  { code: 'SEVERE_BLEEDING', pattern: 'cut|sliced|severed ~3 artery' },
  { code: 'SEVERE_BLEEDING', pattern: 'cut ~1 too ~1 deep' },
  { code: 'SEVERE_BLEEDING', pattern: 'black|tarry ~2 stools|stool|poo|poop' },
  { code: 'SEVERE_BLEEDING', pattern: 'heavy|heavily|severe|massive|serious|uncontrolled|uncontrollable bleeding|bleed' },
  { code: 'SEVERE_BLEEDING', pattern: 'wont|cant|doesnt|isnt ~1 stop|stopping ~1 bleeding' },
  { code: 'SEVERE_BLEEDING', pattern: 'bleeding|bleed ~8 wont|cant|doesnt|isnt|not ~1 stop|stopping|stopped' },
  { code: 'SEVERE_BLEEDING', pattern: 'blood ~2 everywhere|pouring|spurting|gushing|pumping|streaming|squirting' },
  { code: 'SEVERE_BLEEDING', pattern: 'pouring|spurting|gushing|pumping|squirting ~2 blood' },
  { code: 'SEVERE_BLEEDING', pattern: 'soaked|soaking ~3 through|blood|towel|towels|bandage|pad|pads' },
  { code: 'SEVERE_BLEEDING', pattern: 'vomiting|vomited|vomit|coughing|coughed|spitting|throwing|threw|puking ~1 up? blood' },
  { code: 'SEVERE_BLEEDING', pattern: 'lots|loads|lot|much|pool ~1 of blood' },

  // Suicidal thoughts or self-harm, direct or oblique.
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'suicidal|suicide', unlessAfter: ['squad', 'prevention'] },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'kill|killing ~1 myself|self', unlessInClause: ['laughing', 'laughter', 'lol', 'haha'] },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'cant|couldnt ~1 go ~1 on' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'not|isnt|arent worth ~1 living|it|anything' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'jumping|jump|throwing|throw ~2 off ~2 bridge|building|roof|cliff|balcony' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'jumping|jump|stepping|step|throwing|throw ~2 front ~2 train|bus|lorry|truck|car' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'happier|better ~2 if ~1 i ~1 was|were ~1 gone|dead|not' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'written|wrote|writing ~2 letters|note|notes ~3 family|goodbye' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'end|ending|take|taking ~1 my ~1 own? life' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'end|ending ~1 it ~1 all' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'thinking|thoughts|thought|think ~2 ending ~1 it' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'want|wish ~2 die|dead', unlessInClause: ['laughing', 'laughter', 'embarrassment', 'embarrassed'] },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'dont|not want ~1 to? be ~1 here|alive|around' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'dont|not want ~1 to? live|exist|living' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'better off ~1 without me|dead' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'no|nothing reason|point ~2 living|live|alive' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'never wake up' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: '@INTENT ~3 @HARM_VERB ~1 myself' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'hurting|harming|cutting ~1 myself', unlessAfter: ['a', 'some'] },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'self|selfharm ~1 harm|harming|harmed|injury|injuring' },
  { code: 'SUICIDAL_OR_SELF_HARM', pattern: 'selfharm|selfharming' },

  // Anaphylaxis: the word, adrenaline, or airway swelling (allergy + breathing is added in red-flags.ts).
  { code: 'ANAPHYLAXIS', pattern: 'anaphylaxis|anaphylactic|epipen|epipens' },
  { code: 'ANAPHYLAXIS', pattern: 'epi|adrenaline ~1 pen' },
  { code: 'ANAPHYLAXIS', pattern: '@AIRWAY ~5 @SWELLING', unlessInClause: ['sore', 'chapped', 'cold'] },
  { code: 'ANAPHYLAXIS', pattern: 'swelling|swollen ~3 @AIRWAY' },
  { code: 'ANAPHYLAXIS', pattern: 'throat ~3 thick|closing|narrow' },
  // Face swelling (not "puffy", which is crying or sleep) is listed apart from the airway words.
  { code: 'ANAPHYLAXIS', pattern: 'face ~3 swelling|swollen|swell' },
  { code: 'ANAPHYLAXIS', pattern: 'tongue ~3 huge|massive|big|enormous' },

  // Seizure: the words, fitting or convulsing, shaking with unresponsiveness.
  { code: 'SEIZURE', pattern: '@SEIZURE', unlessAfter: ['up'], unlessInClause: ['medication', 'medicine', 'tablets', 'prescription'] },
  { code: 'SEIZURE', pattern: 'is|hes|shes|started|keeps|been|was|im|are|having fitting' },
  { code: 'SEIZURE', pattern: 'having|had|another|one|epileptic ~2 fit|fits', unlessAfter: ['of'] },
  { code: 'SEIZURE', pattern: 'shaking|jerking|twitching ~4 not ~1 responding|responsive|unresponsive' },
  { code: 'SEIZURE', pattern: 'jerking|convulsing ~2 all ~1 over' },
  { code: 'SEIZURE', pattern: 'foaming ~2 mouth' },

  // Loss of consciousness.
  { code: 'LOSS_OF_CONSCIOUSNESS', pattern: 'passed|pass|passing|passes ~1 out' },
  { code: 'LOSS_OF_CONSCIOUSNESS', pattern: 'fainted|fainting|faints|blackout|blackouts' },
  { code: 'LOSS_OF_CONSCIOUSNESS', pattern: 'blacked|blacking|black ~1 out' },
  { code: 'LOSS_OF_CONSCIOUSNESS', pattern: 'unconscious|unresponsive' },
  { code: 'LOSS_OF_CONSCIOUSNESS', pattern: 'not|isnt|wasnt|stopped ~1 responding|responsive' },
  { code: 'LOSS_OF_CONSCIOUSNESS', pattern: 'lost|losing|lose|loss ~1 of? consciousness' },
  { code: 'LOSS_OF_CONSCIOUSNESS', pattern: 'collapsed|collapse|collapsing', unlessBefore: ['knee', 'knees', 'leg', 'legs', 'ankle', 'lung', 'vein', 'veins', 'arch', 'tent', 'roof'] },
  { code: 'LOSS_OF_CONSCIOUSNESS', pattern: 'wont|cant|couldnt ~1 wake ~1 up|him|her|them' },
  { code: 'LOSS_OF_CONSCIOUSNESS', pattern: 'not|isnt ~1 waking ~1 up' },
  { code: 'LOSS_OF_CONSCIOUSNESS', pattern: 'wont|doesnt|cant|isnt ~1 respond|responding' },
  { code: 'LOSS_OF_CONSCIOUSNESS', pattern: 'went|gone|going ~1 limp|floppy' },
  { code: 'LOSS_OF_CONSCIOUSNESS', pattern: 'everything|it|world ~1 went|goes|going ~1 black|dark' },

  // Fever (kept only when the message gives an age under three months, see red-flags.ts).
  { code: 'INFANT_FEVER', pattern: '@FEVER' },
  { code: 'INFANT_FEVER', pattern: 'high|raised ~1 temperature|temp' },
  { code: 'INFANT_FEVER', pattern: 'has|running|with|got ~1 a temperature|temp', accept: noNormalReading },
  { code: 'INFANT_FEVER', pattern: 'temperature|temp ~3 @FEVER_READING' },
  { code: 'INFANT_FEVER', pattern: 'burning up' },
  // A bare reading or "hot" counts only because the rule already requires a stated infant age.
  { code: 'INFANT_FEVER', pattern: '@FEVER_READING ~1 on|degrees|c|f|celsius|fahrenheit' },
  { code: 'INFANT_FEVER', pattern: 'is|feels|very|really ~2 hot' },

  // Bleeding of any amount (kept only in a message that says the patient is pregnant).
  { code: 'PREGNANCY_BLEEDING', pattern: 'bleeding|bleed|bled|spotting|clots|haemorrhage|hemorrhage', unlessInClause: MINOR_BLEEDING_SITES },
  { code: 'PREGNANCY_BLEEDING', pattern: 'blood', unlessInClause: MINOR_BLEEDING_SITES, unlessAfter: BLOOD_AS_TOPIC },

  // Sudden severe ("thunderclap") headache — not one that built up over days.
  { code: 'SUDDEN_SEVERE_HEADACHE', pattern: 'thunderclap' },
  { code: 'SUDDEN_SEVERE_HEADACHE', pattern: 'worst ~4 headache|head' },
  { code: 'SUDDEN_SEVERE_HEADACHE', pattern: 'headache ~8 worst' },
  { code: 'SUDDEN_SEVERE_HEADACHE', pattern: '@SUDDEN ~4 headache' },
  { code: 'SUDDEN_SEVERE_HEADACHE', pattern: 'headache ~5 @SUDDEN|nowhere|blue' },
  { code: 'SUDDEN_SEVERE_HEADACHE', pattern: 'headache ~5 all at once' },
  { code: 'SUDDEN_SEVERE_HEADACHE', pattern: 'head ~1 @SUDDEN ~1 exploded|exploding|burst' },
  { code: 'SUDDEN_SEVERE_HEADACHE', pattern: 'headache ~4 in|within ~1 seconds|second|instant' },

  // Overdose or poisoning: the word, a large quantity of medicine, or a household poison.
  { code: 'OVERDOSE_OR_POISONING', pattern: 'overdose|overdosed|overdosing|overdoses|overdosage' },
  { code: 'OVERDOSE_OR_POISONING', pattern: '@INGEST ~2 @LOTS ~4 @MEDS' },
  { code: 'OVERDOSE_OR_POISONING', pattern: '@INGEST ~1 @BIG_NUMBER ~2 @MEDS' },
  { code: 'OVERDOSE_OR_POISONING', pattern: 'too ~1 many ~4 @MEDS' },
  { code: 'OVERDOSE_OR_POISONING', pattern: '@INGEST ~2 more ~4 @MEDS ~3 should|prescribed|allowed' },
  { code: 'OVERDOSE_OR_POISONING', pattern: 'ate|eaten|swallowed|drank|drunk|drinking|eating ~4 @POISON' },
  { code: 'OVERDOSE_OR_POISONING', pattern: 'ate|eaten ~4 pills|tablets|pill|tablet|medicine' },
  { code: 'OVERDOSE_OR_POISONING', pattern: 'poisoned|poisoning', unlessBefore: ['food'] },
  { code: 'OVERDOSE_OR_POISONING', pattern: 'carbon monoxide' },

  // Sepsis (NHS, UK Sepsis Trust): the word, or a sign that needs no context to be alarming.
  { code: 'SEPSIS_SIGNS', pattern: 'sepsis|septic|septicaemia|septicemia', unlessAfter: ['tank'] },
  { code: 'SEPSIS_SIGNS', pattern: 'non|not ~1 blanching' },
  { code: 'SEPSIS_SIGNS', pattern: 'nonblanching' },
  { code: 'SEPSIS_SIGNS', pattern: 'mottled|blotchy ~3 skin|legs|arms|knees' },
];

/**
 * The words that are worth correcting when misspelled: salient, long enough that a typo does
 * not collide with an everyday word.
 */
export const FUZZY_TARGETS: readonly string[] = [
  'pain', 'chest', 'breath', 'breathe', 'breathing', 'breathless', 'shortness', 'seizure', 'seizures', 'convulsing',
  'unconscious', 'consciousness', 'unresponsive', 'fainted', 'fainting', 'collapsed', 'suicidal', 'suicide', 'myself',
  'anaphylaxis', 'anaphylactic', 'epipen', 'headache', 'thunderclap', 'pregnant', 'pregnancy', 'bleeding', 'stroke',
  'drooping', 'slurred', 'slurring', 'weakness', 'numbness', 'fever', 'feverish', 'temperature', 'overdose', 'overdosed',
  'paracetamol', 'ibuprofen', 'poisoning', 'tightness', 'swelling', 'swollen', 'throat', 'tongue', 'difficulty',
  'struggling', 'vomiting', 'spurting', 'heavily', 'crushing', 'squeezing', 'trimester', 'newborn', 'allergic',
  'spotting', 'speech', 'anaphylaxis',
];

/** Words that mean the patient is pregnant now (checked for negation and past like symptoms). */
export const PREGNANCY_PATTERNS: readonly string[] = ['pregnant|pregnancy|trimester', 'expecting and|a|twins|baby', 'weeks along'];

/** Words that by themselves mean a baby under three months. */
export const NEWBORN_WORDS = new Set(['newborn', 'newborns', 'neonate']);
/** An age in these units, in days, for "6 weeks old", "my 10 day old", "born 3 weeks ago". */
export const AGE_UNIT_DAYS: Readonly<Record<string, number>> = { day: 1, days: 1, week: 7, weeks: 7, wk: 7, wks: 7, month: 30, months: 30, mo: 30, mos: 30 };
/** Under three months, in days: 12 weeks + 6 days still counts, 3 months does not. */
export const INFANT_MAX_AGE_DAYS = 89;

/** Words that make breathing difficulty part of an allergic reaction. */
export const ALLERGY_CUES = new Set(['allergic', 'allergy', 'allergies', 'reaction', 'sting', 'stung', 'peanut', 'peanuts', 'nuts', 'shellfish', 'shrimp', 'prawns', 'wasp', 'bee', 'hives']);
