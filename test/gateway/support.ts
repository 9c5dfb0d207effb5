import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../subgraphs/kit/logger.js';
import { DEFAULT_LIMITS, startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/src/server.js';
import type { TestPlatform } from '../support/platform.js';

/** What a subgraph behind a RecordingProxy was sent. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * An HTTP proxy in front of one subgraph that records every request the gateway sends it, and
 * can answer a path itself (a /health that reports its database down, say).
 */
export interface RecordingProxy {
  url: string;
  requests: RecordedRequest[];
  answer(path: string, response: { status: number; body: unknown } | undefined): void;
  /** Holds the requests to `path` (recorded, not yet forwarded) until the returned release is called. */
  hold(path: string): () => void;
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const requests: RecordedRequest[] = [];
  const overrides = new Map<string, { status: number; body: unknown }>();
  const held = new Map<string, Promise<void>>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const path = req.url ?? '/';
        requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body: body.toString('utf8') });
        await held.get(path);
        const override = overrides.get(path);
        if (override) {
          res.writeHead(override.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(override.body));
          return;
        }
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(req.headers)) if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(key)) headers[key] = value;
        try {
          const upstream = await fetch(`${target}${path}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : body });
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await upstream.arrayBuffer()));
        } catch {
          res.writeHead(502);
          res.end();
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    answer(path, response) {
      if (response) overrides.set(path, response);
      else overrides.delete(path);
    },
    hold(path) {
      let release = () => {};
      held.set(path, new Promise<void>((resolve) => { release = resolve; }));
      return () => {
        held.delete(path);
        release();
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A logger whose records a test can read (JSON objects, PHI already redacted). */
export function capturingLogger(name: string): { log: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger(name, 'debug', destination), records };
}

/** A gateway of the test's own in front of the platform's subgraphs; `subgraphUrls` replaces some (proxies, dead ports). */
export function gatewayInFront(t: TestPlatform, supergraphSdl: string, options: Partial<GatewayOptions> = {}): Promise<RunningGateway> {
  return startGateway({
    supergraphSdl,
    publicRoutes: [],
    keys: t.keys,
    oidcIssuers: [],
    limits: DEFAULT_LIMITS,
    production: false,
    log: createLogger('gateway-test'),
    ...options,
    subgraphUrls: { ...Object.fromEntries(t.platform.subgraphs.map((s) => [s.name, s.url])), ...options.subgraphUrls },
  });
}

/** A loopback port nothing listens on: connections to it are refused at once. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface GraphQLAnswer {
  status: number;
  headers: Headers;
  json: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }> };
}

export async function post(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphQLAnswer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, json: (await response.json()) as GraphQLAnswer['json'] };
}
