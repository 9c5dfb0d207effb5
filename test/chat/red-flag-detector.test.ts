import { readFileSync } from 'node:fs';
import { parseReviewedCodes } from '../../subgraphs/chat/adapters/llm-red-flags.js';
import { committedClassifier, MODEL_URL, parseModel, RedFlagClassifier, type RedFlagModel } from '../../subgraphs/kit/red-flags/red-flag-classifier.js';
import { addReviewedFlags, detectRedFlags, type RedFlag } from '../../subgraphs/kit/red-flags/red-flag-detector.js';
import { RED_FLAG_CODES } from '../../subgraphs/kit/red-flags/red-flag-lexicon.js';
import { detectRuleFlags } from '../../subgraphs/kit/red-flags/red-flags.js';
import { corpusProblems, digestOf, FAMILY_KINDS, HOLDOUT_SET, loadCorpus, loadLabelledSet, messagesOf, splitByFamily } from '../../scripts/redflags/corpus.js';

const codes = (flags: readonly RedFlag[]): string[] => flags.map((f) => f.code).sort();
const corpus = loadCorpus();
const { training, heldBack } = splitByFamily(corpus);

/** A classifier that never fires: its thresholds are out of reach. */
const silentClassifier = (): RedFlagClassifier => {
  const model = committedClassifier().model;
  return new RedFlagClassifier({ ...model, thresholds: model.thresholds.map(() => 2) });
};

describe('the labelled corpus', () => {
  it('has at least 3,000 messages, positives and every kind of look-alike for every code, in every language variety', () => {
    expect(messagesOf(corpus).length).toBeGreaterThanOrEqual(3000);
    for (const code of RED_FLAG_CODES) {
      const kinds = new Set(corpus.filter((f) => f.code === code).map((f) => f.kind));
      expect([code, [...kinds].sort()]).toEqual([code, FAMILY_KINDS.filter((k) => k !== 'everyday').sort()]);
      const varieties = new Set(corpus.filter((f) => f.code === code && f.kind === 'positive').map((f) => f.variety));
      for (const variety of ['uk-us', 'nigerian-english', 'pidgin', 'indian-english', 'hinglish']) expect([code, varieties.has(variety as never)]).toEqual([code, true]);
    }
  });

  it('has no repeated texts, families of 8-25 messages, and labels that agree with each family’s kind', () => {
    expect(corpusProblems(corpus)).toEqual([]);
    const [first] = corpus;
    if (!first) throw new Error('empty corpus');
    const copy = { ...first, id: `${first.id}-copy`, kind: 'negated' as const };
    expect(corpusProblems([first, copy]).filter((p) => p.includes('duplicate'))).toHaveLength(first.messages.length);
    expect(corpusProblems([copy]).filter((p) => p.includes('look-alike labelled with its own code'))).toHaveLength(first.messages.filter((m) => m.expected.includes(first.code as never)).length);
  });

  it('is split by family: every code has held-back emergencies, and no held-back wording is trained on', () => {
    for (const code of RED_FLAG_CODES) expect([code, heldBack.some((f) => f.code === code && f.kind === 'positive')]).toEqual([code, true]);
    const trainedTexts = new Set(messagesOf(training).map((m) => m.text.toLowerCase()));
    expect(messagesOf(heldBack).filter((m) => trainedTexts.has(m.text.toLowerCase()))).toEqual([]);
    expect(new Set(training.map((f) => f.id)).size + new Set(heldBack.map((f) => f.id)).size).toBe(corpus.length);
  });

  it('keeps redflags-holdout.json out: none of its messages is in the corpus', () => {
    const corpusTexts = new Set(messagesOf(corpus).map((m) => m.text.toLowerCase().trim()));
    expect(loadLabelledSet(HOLDOUT_SET).filter((m) => corpusTexts.has(m.text.toLowerCase().trim()))).toEqual([]);
  });

  it('the committed model was trained on exactly the training families (not the held-back ones)', () => {
    expect(committedClassifier().model.training['corpusDigest']).toBe(digestOf(messagesOf(training)));
  });
});

describe('the classifier', () => {
  it('is deterministic and explains itself with words of the message', () => {
    const text = 'abeg my papa chest dey pain am well well since morning, e dey sweat';
    const first = committedClassifier().classify(text);
    expect(committedClassifier().classify(text)).toEqual(first);
    expect(first.map((f) => f.code)).toContain('CHEST_PAIN');
    const evidence = first.find((f) => f.code === 'CHEST_PAIN')?.evidence ?? [];
    expect(evidence.length).toBeGreaterThan(0);
    for (const quote of evidence) expect(text).toContain(quote);
  });

  it('refuses a model file of the wrong shape rather than scoring zero', () => {
    const model = JSON.parse(readFileSync(MODEL_URL, 'utf8')) as RedFlagModel;
    expect(() => parseModel({ ...model, format: 1 })).toThrow(/format/);
    expect(() => parseModel({ ...model, bias: model.bias.slice(1) })).toThrow(/bias/);
    expect(() => parseModel({ ...model, codes: [...model.codes.slice(1), 'NOT_A_CODE'] })).toThrow(/codes/);
  });
});

describe('rules or classifier', () => {
  it('flags a code the rules miss when the classifier fires, and says which detector raised it', () => {
    const text = 'abeg my papa chest dey pain am well well since morning, e dey sweat';
    const flags = detectRedFlags(text, { rules: () => [] });
    const chest = flags.find((f) => f.code === 'CHEST_PAIN');
    expect(chest?.detectedBy).toEqual(['CLASSIFIER']);
    expect(chest?.signals.length).toBeGreaterThan(0);
    expect(chest?.evidence).toBe(chest?.signals.join(', '));
  });

  it('keeps a rules flag when the classifier does not fire', () => {
    const flags = detectRedFlags('crushing chest pain going down my left arm', { classifier: silentClassifier });
    expect(flags).toEqual([{ code: 'CHEST_PAIN', urgency: 'critical', evidence: 'crushing chest', detectedBy: ['RULES'], signals: [] }]);
  });

  it('names both detectors when both fire, quoting the rules and listing the classifier’s words', () => {
    const [flag] = detectRedFlags('crushing chest pain going down my left arm');
    expect(flag?.detectedBy).toEqual(['RULES', 'CLASSIFIER']);
    expect(flag?.evidence).toBe(detectRuleFlags('crushing chest pain going down my left arm')[0]?.evidence);
    expect(flag?.signals.length).toBeGreaterThan(0);
  });

  it('raises nothing on an everyday message', () => {
    expect(detectRedFlags('Can I move my appointment on Thursday to the afternoon please?')).toEqual([]);
  });
});

describe('fail safe: what the detectors cannot assess reaches a nurse', () => {
  it('a rules failure is DETECTION_FAILED, and the classifier still runs', () => {
    const flags = detectRedFlags('abeg my papa chest dey pain am well well since morning, e dey sweat', {
      rules: () => {
        throw new Error('boom');
      },
    });
    expect(codes(flags)).toEqual(['CHEST_PAIN', 'DETECTION_FAILED']);
    expect(flags.find((f) => f.code === 'DETECTION_FAILED')).toMatchObject({ urgency: 'high', detectedBy: ['SAFETY'] });
  });

  it('a classifier that cannot load is DETECTION_FAILED, and the rules’ flags stand', () => {
    const flags = detectRedFlags('crushing chest pain going down my left arm', {
      classifier: () => {
        throw new Error('model file missing');
      },
    });
    expect(codes(flags)).toEqual(['CHEST_PAIN', 'DETECTION_FAILED']);
  });

  it('a pass slower than its budget is DETECTION_TIMEOUT', () => {
    let clock = 0;
    const flags = detectRedFlags('crushing chest pain going down my left arm', { now: () => (clock += 300) });
    expect(codes(flags)).toContain('DETECTION_TIMEOUT');
    expect(codes(flags)).toContain('CHEST_PAIN');
  });

  it.each([
    ['a photo placeholder', '[image]'],
    ['WhatsApp’s media placeholder', '<Media omitted>'],
    ['a file name', 'IMG_20261204_0931.jpg'],
    ['emoji only', '\u{1F62D}\u{1F62D}\u{1F691}'],
    ['Hindi in Devanagari', 'मेरे सीने में बहुत दर्द है'],
    ['Arabic script', 'صدري يؤلمني كثيرا'],
    ['Yoruba', 'Ori n fo mi gidigidi, ara mi gbona'],
  ])('%s is UNREADABLE_MESSAGE', (_label, text) => {
    const flags = detectRedFlags(text);
    expect(flags.find((f) => f.code === 'UNREADABLE_MESSAGE')).toMatchObject({ urgency: 'high', detectedBy: ['SAFETY'] });
  });

  it.each(['ok thanks', 'Please can I get my metformin refilled before Friday?', 'abeg when una dey open for Saturday?', 'doctor sahab, report kab tak aayegi?'])('"%s" is readable', (text) => {
    expect(codes(detectRedFlags(text))).not.toContain('UNREADABLE_MESSAGE');
  });

  it('never throws on arbitrary input', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let n = 0; n < 200; n += 1) {
      const text = String.fromCodePoint(...Array.from({ length: next() % 80 }, () => next() % 0x2ffff));
      expect(Array.isArray(detectRedFlags(text))).toBe(true);
    }
  });
});

describe('the LLM may add a flag, never remove one', () => {
  const detected = detectRedFlags('crushing chest pain going down my left arm');

  it('adds a code it found that the detectors did not', () => {
    const flags = addReviewedFlags(detected, ['CHEST_PAIN', 'SEPSIS_SIGNS'], 'raised by the LLM review');
    expect(codes(flags)).toEqual(['CHEST_PAIN', 'SEPSIS_SIGNS']);
    expect(flags.find((f) => f.code === 'SEPSIS_SIGNS')).toMatchObject({ urgency: 'critical', detectedBy: ['LLM'] });
    expect(flags.find((f) => f.code === 'CHEST_PAIN')?.detectedBy).toEqual(['RULES', 'CLASSIFIER', 'LLM']);
  });

  it('keeps every detector flag when it finds nothing, and ignores codes it made up', () => {
    expect(addReviewedFlags(detected, [], '')).toEqual(detected);
    expect(addReviewedFlags(detected, ['HEART_ON_FIRE'], '')).toEqual(detected);
  });

  it('reads codes from JSON, or from prose when the model did not comply', () => {
    expect(parseReviewedCodes('{"codes": ["SEIZURE", "NOPE"]}')).toEqual(['SEIZURE']);
    expect(parseReviewedCodes('Sure! ```json\n{"codes": []}\n```')).toEqual([]);
    expect(parseReviewedCodes('I think this is STROKE_SIGNS.')).toEqual(['STROKE_SIGNS']);
    expect(parseReviewedCodes('no idea')).toEqual([]);
  });
});
