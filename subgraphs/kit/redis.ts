import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * Redis clients that fail fast and quietly. A command never waits long for a Redis that is down
 * (a short command timeout, no offline queue while Redis is known to be down): callers treat
 * Redis as a cache or a live channel and carry on without it (rate limits fail open for
 * patients, caches miss, the outbox relay retries). Connection errors are logged once per
 * outage, not once per reconnect attempt, and never crash the process (an ioredis client
 * without an `error` listener would).
 *
 * - `commands`: no offline queue at all; a command while disconnected fails at once.
 * - `cache`: commands sent before the first connection wait for it (a store is usable at once);
 *   after an error, they fail at once until Redis is back.
 * - `subscriber`: queues SUBSCRIBE until connected and re-subscribes after a reconnect.
 */
export type RedisRole = 'commands' | 'cache' | 'subscriber';

export interface RedisClientOptions {
  /** How long one command may take before it fails (ms). */
  commandTimeoutMs?: number;
  /** Names the client in log lines (defaults to its role). */
  name?: string;
}

const ROLE_SETTINGS: Record<RedisRole, (commandTimeoutMs: number) => RedisOptions> = {
  commands: (commandTimeout) => ({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout }),
  // Queued commands fail after one failed reconnect instead of waiting for Redis to return.
  cache: (commandTimeout) => ({ enableOfflineQueue: true, maxRetriesPerRequest: 1, commandTimeout }),
  subscriber: () => ({ enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: true }),
};

export function createRedisClient(url: string, role: RedisRole, log: Logger, options: RedisClientOptions = {}): Redis {
  const client = new Redis(url, {
    connectTimeout: 2_000,
    // Reconnect forever, backing off to one attempt every 2 s.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...ROLE_SETTINGS[role](options.commandTimeoutMs ?? 1_000),
  });
  const name = options.name ?? role;
  let down = false;
  client.on('error', (error: Error) => {
    if (role === 'cache') client.options.enableOfflineQueue = false;
    if (down) return;
    down = true;
    log.warn({ err: error, redis: name }, 'redis unavailable');
  });
  client.on('ready', () => {
    if (role === 'cache') client.options.enableOfflineQueue = true;
    if (!down) return;
    down = false;
    log.info({ redis: name }, 'redis available again');
  });
  return client;
}

/**
 * Closes a client whatever its state: QUIT when connected, else stop reconnecting (QUIT would
 * wait for a connection that may never come, keeping the process alive).
 */
export async function closeRedisClient(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}
