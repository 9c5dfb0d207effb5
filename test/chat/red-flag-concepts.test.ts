import { conceptsOf } from '../../subgraphs/kit/red-flags/red-flag-concepts.js';
import { extractFeatures, wordsOf } from '../../subgraphs/kit/red-flags/red-flag-features.js';

const conceptNames = (text: string): string[] => [...new Set(conceptsOf(wordsOf(text)).map((m) => m.concept))].sort();
const pairs = (text: string): string[] => extractFeatures(text).filter((f) => f.name.startsWith('p:')).map((f) => f.name);

describe('red-flag concepts', () => {
  it('reads the same symptom in English, Pidgin and Hinglish as the same concepts', () => {
    for (const text of ['my chest hurts', 'my chest dey pain me', 'seene mein dard hai', 'chhati bhaari lag rahi']) {
      expect([text, conceptNames(text).filter((c) => c === 'CHEST' || c === 'PAIN')]).toEqual([text, ['CHEST', 'PAIN']]);
    }
    expect(conceptNames('saans nahi aa rahi')).toEqual(expect.arrayContaining(['BREATH', 'NEG']));
    expect(conceptNames('I no fit breathe')).toEqual(expect.arrayContaining(['BREATH', 'UNABLE']));
  });

  it('sees through stretched letters, run-together words and stems', () => {
    expect(conceptNames('chest hurtsss')).toEqual(expect.arrayContaining(['CHEST', 'PAIN']));
    expect(conceptNames('chestpain again')).toEqual(expect.arrayContaining(['CHEST', 'PAIN']));
    expect(conceptNames('honth sooj gaye')).toEqual(expect.arrayContaining(['AIRWAY', 'SWELL']));
  });

  it('does not give ordinary words a meaning they lack', () => {
    expect(conceptNames('when is the clinic open on Saturday')).toEqual([]);
    expect(conceptNames('fitness class')).toEqual([]);
  });

  it('pairs concepts that are near each other in one clause, and only those', () => {
    expect(pairs('seene mein dard')).toContain('p:CHEST+PAIN');
    expect(pairs('my chest is fine. My knee has pain again after the long walk yesterday')).not.toContain('p:CHEST+PAIN');
  });
});
