import { randomUUID } from 'node:crypto';
import { MemoryCache, RedisCache, type TtlCache } from '../../subgraphs/kit/cache.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { closedPort } from '../gateway/support.js';
import { redisAvailable, startRedis, type RedisServer } from '../support/redis-server.js';

/**
 * The kit's short-lived cache, in memory and in Redis: values come back as JSON copies until
 * their time is up and never after; a Redis that cannot be reached is a miss, not an error.
 */
const log = createLogger('cache-test', 'silent');
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function behaves(name: string, make: () => TtlCache) {
  describe(name, () => {
    let cache: TtlCache;
    beforeEach(() => {
      cache = make();
    });
    afterEach(async () => {
      await cache.close();
    });

    it('returns a copy of what was set until it expires, then nothing', async () => {
      const value = { checkId: 'c1', nested: { amount: 150050 } };
      await cache.set('k', value, 0.3);
      const read = await cache.get<typeof value>('k');
      expect(read).toEqual(value);
      expect(read).not.toBe(value);
      await sleep(400);
      expect(await cache.get('k')).toBeUndefined();
    });

    it('deletes, and keeps keys apart', async () => {
      await cache.set('a', 1, 60);
      await cache.set('b', 2, 60);
      await cache.delete('a');
      expect(await cache.get('a')).toBeUndefined();
      expect(await cache.get('b')).toBe(2);
    });
  });
}

behaves('MemoryCache', () => new MemoryCache());

const describeWithRedis = redisAvailable() ? describe : describe.skip;
describeWithRedis('RedisCache', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });
  behaves('against a real Redis', () => new RedisCache(redis.url, `caregraph-test:${randomUUID()}:`, log));

  it('a Redis that cannot be reached is a miss and a skipped write, not an error', async () => {
    const cache = new RedisCache(`redis://127.0.0.1:${await closedPort()}`, 'x:', log);
    await expect(cache.set('k', 1, 60)).resolves.toBeUndefined();
    await expect(cache.get('k')).resolves.toBeUndefined();
    await cache.close();
  });
});
