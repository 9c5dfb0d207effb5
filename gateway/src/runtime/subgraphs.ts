import { INTERNAL_IDENTITY_HEADER } from '../../../subgraphs/kit/identity.js';
import { Agent } from 'undici';
import { SubgraphDataSource } from '../datasource.js';
import type { GatewayMetrics } from '../metrics.js';
import { currentScope, REQUEST_ID_HEADER } from './request.js';
import { subgraphFailure } from './subgraph-failure.js';
import type { SignedIdentity } from './signer.js';

/** Open connections per subgraph origin at most; beyond it fetches queue (a bound on what one gateway asks of a subgraph). */
const SUBGRAPH_CONNECTIONS = 128;

export interface SubgraphCall {
  method?: string;
  /** Headers to send as they are (a proxied request's own). */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Who the call is for; none for `/health`, which subgraphs answer to anyone. */
  identity?: SignedIdentity;
  /** The request's id; by default the id of the request being handled. */
  requestId?: string;
  /** Shorter than the subgraph timeout (a readiness probe). */
  timeoutMs?: number;
}

export interface SubgraphAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
}

/**
 * Where the subgraphs listen (replaced on a supergraph reload), and the gateway's plain HTTP
 * calls to them: each carries the request id and, when it acts for someone, their signed
 * identity, and is bounded by the subgraph timeout. A subgraph that cannot be reached or does
 * not answer in time throws DOWNSTREAM_SERVICE_ERROR or TIMEOUT.
 */
export class Subgraphs {
  private readonly urls: Record<string, string>;
  /** Keep-alive connections to every subgraph, shared by all fetches of every operation. */
  private readonly pool = new Agent({ keepAliveTimeout: 30_000, connections: SUBGRAPH_CONNECTIONS });

  constructor(urls: Record<string, string>, readonly timeoutMs: number) {
    this.urls = { ...urls };
  }

  /** The GraphQL data source of one subgraph (operations' fetches, subscription events' entity fetches). */
  dataSource(name: string, metrics: GatewayMetrics): SubgraphDataSource {
    return new SubgraphDataSource(name, `${this.url(name)}/graphql`, metrics, this.timeoutMs, this.pool);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  url(name: string): string {
    const url = this.urls[name];
    if (!url) throw new Error(`no URL configured for subgraph ${name}`);
    return url;
  }

  names(): string[] {
    return Object.keys(this.urls);
  }

  update(urls: Record<string, string>): void {
    Object.assign(this.urls, urls);
  }

  async call(name: string, path: string, call: SubgraphCall = {}): Promise<SubgraphAnswer> {
    const timeoutMs = call.timeoutMs ?? this.timeoutMs;
    const headers: Record<string, string> = { ...call.headers };
    const requestId = call.requestId ?? currentScope()?.requestId;
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    if (call.identity) headers[INTERNAL_IDENTITY_HEADER] = await call.identity();
    try {
      // One signal for the answer and its body: a subgraph that stalls mid-body times out too.
      // redirect: 'manual': a subgraph's redirect is the caller's to follow (a browser launch ends in
      // a 303 to the learner app), never the gateway's.
      const response = await fetch(`${this.url(name)}${path}`, { method: call.method ?? 'GET', headers, body: call.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
    } catch (error) {
      throw subgraphFailure(name, error, timeoutMs);
    }
  }

  /** A JSON POST as `identity` (the internal credential routes). */
  async post(name: string, path: string, body: unknown, identity: SignedIdentity): Promise<{ status: number; json: unknown }> {
    const answer = await this.call(name, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), identity });
    let json: unknown;
    try {
      json = JSON.parse(answer.body.toString('utf8'));
    } catch {
      json = undefined;
    }
    return { status: answer.status, json };
  }
}
