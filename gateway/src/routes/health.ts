import type { RouteResponse } from '../../../subgraphs/kit/http.js';
import type { GatewayModule } from '../runtime/router.js';
import type { Subgraphs } from '../runtime/subgraphs.js';

/** How long readiness waits for one subgraph's /health before calling it not ready. */
const PROBE_TIMEOUT_MS = 2_000;

/** A subgraph's readiness: 'ok', or why not (its status and own answer, e.g. `{ status: 'unavailable', database: … }`). */
export type SubgraphReadiness = 'ok' | { status: number | 'unreachable' | 'timeout'; body?: unknown };

/**
 * `/health`: the gateway process is up (a liveness probe; it asks nobody). `/ready`: every
 * subgraph answers its own `/health` with 200, which a subgraph does only while its database
 * answers; otherwise 503 with each subgraph's status and its body.
 */
export function healthModule(deps: { subgraphs: Subgraphs }): GatewayModule {
  const { subgraphs } = deps;

  const probe = async (name: string): Promise<SubgraphReadiness> => {
    try {
      const answer = await subgraphs.call(name, '/health', { timeoutMs: Math.min(PROBE_TIMEOUT_MS, subgraphs.timeoutMs) });
      if (answer.status === 200) return 'ok';
      return { status: answer.status, body: parseBody(answer.body) };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return { status: code === 'TIMEOUT' ? 'timeout' : 'unreachable' };
    }
  };

  const ready = async (): Promise<RouteResponse> => {
    const results = await Promise.all(subgraphs.names().map(async (name) => [name, await probe(name)] as const));
    const ok = results.every(([, state]) => state === 'ok');
    return { status: ok ? 200 : 503, body: { ok, subgraphs: Object.fromEntries(results) }, headers: { 'cache-control': 'no-store' } };
  };

  return {
    name: 'health',
    routes: [
      { method: 'GET', path: '/health', handle: async () => ({ status: 200, body: { status: 'ok' }, headers: { 'cache-control': 'no-store' } }) },
      { method: 'GET', path: '/ready', handle: ready },
    ],
  };
}

function parseBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Bounded: a misconfigured upstream could answer with a whole HTML page.
    return text.slice(0, 500);
  }
}
