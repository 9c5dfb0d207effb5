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
 * - `commands`: commands sent before the first connection wait for it (a client is usable as
 *   soon as it is made, with no start-up race); after a connection error they fail at once
 *   until Redis is back.
 * - `subscriber`: queues SUBSCRIBE until connected and re-subscribes after a reconnect.
 */
export type RedisRole = 'commands' | 'subscriber';

export interface RedisClientOptions {
  /** How long one command may take before it fails (ms). */
  commandTimeoutMs?: number;
  /** Names the client in log lines (defaults to its role). */
  name?: string;
}

const ROLE_SETTINGS: Record<RedisRole, (commandTimeoutMs: number) => RedisOptions> = {
  // Queued commands fail after one failed reconnect instead of waiting for Redis to return.
  commands: (commandTimeout) => ({ enableOfflineQueue: true, maxRetriesPerRequest: 1, commandTimeout }),
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
    if (role === 'commands') client.options.enableOfflineQueue = false;
    if (down) return;
    down = true;
    log.warn({ err: error, redis: name }, 'redis unavailable');
  });
  client.on('ready', () => {
    if (role === 'commands') client.options.enableOfflineQueue = true;
    if (!down) return;
    down = false;
    log.info({ redis: name }, 'redis available again');
  });
  return client;
}

/**
 * Closes a client whatever its state: QUIT when connected, bounded (a black-holed Redis never
 * answers it), then drop the connection and stop reconnecting. Never waits for a connection
 * that may never come, which would keep the process alive.
 */
export async function closeRedisClient(client: Redis, timeoutMs = 1_000): Promise<void> {
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([client.quit().catch(() => undefined), gaveUp]);
    clearTimeout(timer);
  }
  client.disconnect();
}
