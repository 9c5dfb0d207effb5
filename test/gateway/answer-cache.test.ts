import { AnswerCache } from '../../gateway/src/auth/answer-cache.js';

/** The cache of credential answers (is this user still active?): bounded, and never older than its TTL. */
describe('AnswerCache', () => {
  const clock = { now: 0 };
  const cache = () => new AnswerCache<boolean>({ ttlMs: 60_000, maxEntries: 2 }, () => clock.now);

  it('keeps positive and negative answers until the TTL, from when they were stored (reads do not extend it)', async () => {
    const answers = cache();
    let asked = 0;
    const ask = (value: boolean) => answers.through('user', async () => ((asked += 1), value));
    clock.now = 0;
    expect(await ask(false)).toBe(false);
    clock.now = 59_999;
    expect(await ask(true)).toBe(false);
    expect(asked).toBe(1);
    clock.now = 60_000;
    expect(await ask(true)).toBe(true);
    expect(asked).toBe(2);
  });

  it('holds at most maxEntries, evicting the least recently used', () => {
    const answers = cache();
    clock.now = 0;
    answers.set('a', true);
    answers.set('b', true);
    answers.get('a');
    answers.set('c', true);
    expect(answers.size).toBe(2);
    expect(answers.get('b')).toBeUndefined();
    expect(answers.get('a')).toBe(true);
  });

  it('does not keep a failure: the next request asks again', async () => {
    const answers = cache();
    await expect(answers.through('user', async () => { throw new Error('identity is down'); })).rejects.toThrow('identity is down');
    expect(await answers.through('user', async () => true)).toBe(true);
  });
});
