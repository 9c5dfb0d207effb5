import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A Redis for a fault test: the one at REDIS_URL, or a private redis-server when none is configured. */
export interface RedisServer {
  url: string;
  address: { host: string; port: number };
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether a fault test can have a Redis: REDIS_URL (CI), or a redis-server on this machine. */
export const redisAvailable = (): boolean => Boolean(process.env['REDIS_URL']) || spawnSync('redis-server', ['--version']).status === 0;

/** REDIS_URL when set (CI); otherwise a redis-server of this machine on a free loopback port, kept in memory only. */
export async function startRedis(): Promise<RedisServer> {
  const configured = process.env['REDIS_URL'];
  if (configured) {
    const url = new URL(configured);
    return { url: configured, address: { host: url.hostname, port: Number(url.port || 6379) }, stop: async () => undefined };
  }
  if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('fault tests need Redis: set REDIS_URL or install redis-server');
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      probe.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  probe.disconnect();
  return {
    url,
    address: { host: '127.0.0.1', port },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    },
  };
}
