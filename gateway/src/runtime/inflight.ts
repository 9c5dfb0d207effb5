import type { ServerResponse } from 'node:http';
import { getOperationAST, parse } from 'graphql';
import type { GraphQLHttpAnswer } from '../../../subgraphs/kit/http.js';
import type { Identity } from '../../../subgraphs/kit/identity.js';
import { identityScope } from './identity-scope.js';
import type { GatewayRequest } from './request.js';

/** Query texts whose operation kinds are remembered (a bounded cache: the texts a deployment sees are few). */
const MAX_REMEMBERED_QUERIES = 1_000;
/** Request headers besides the identity that can change Apollo's answer (negotiation, CSRF checks). */
const ANSWER_HEADERS = ['accept', 'content-type', 'apollo-require-preflight', 'x-apollo-operation-name'] as const;

/**
 * Inbound in-flight deduplication: a POSTed query that is byte-identical to one already being
 * executed **for the same identity** (identityScope: the whole identity the subgraphs are told)
 * waits for that execution and gets the same
 * answer, instead of running the plan again. Callers with different identities never share,
 * so one caller's data cannot reach another. Only queries are shared (never mutations), only
 * while the first is still running (nothing is cached), and only complete answers (a streamed
 * incremental answer makes each waiter run its own).
 *
 * What sharing changes: the subgraphs see (and audit) one read for the identical reads of one
 * caller at the same moment, under the first request's id.
 */
export class InflightQueries {
  private readonly running = new Map<string, Promise<GraphQLHttpAnswer>>();
  private readonly operationKinds = new Map<string, boolean>();

  private waiters = 0;

  /** `shared`: an answer was handed to a waiter rather than executed; `waiting`: callers waiting now (both for the metrics). */
  constructor(private readonly observe: { shared?(): void; waiting?(count: number): void } = {}) {}

  /** The sharing key of a request, or undefined when it must run on its own (not a query, or not JSON). */
  keyOf(request: GatewayRequest, identity: Identity): string | undefined {
    if (request.method !== 'POST' || request.body.length === 0) return undefined;
    const text = request.body.toString('utf8');
    let body: { query?: unknown; operationName?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return undefined;
    }
    if (typeof body !== 'object' || body === null || typeof body.query !== 'string') return undefined;
    if (!this.isQuery(body.query, typeof body.operationName === 'string' ? body.operationName : undefined)) return undefined;
    const headers = ANSWER_HEADERS.map((name) => request.headers[name] ?? '').join('\n');
    return `${identityScope(identity)}\n${headers}\n${text}`;
  }

  /** Runs `execute` unless an identical request is running, whose answer is then shared. */
  async answer(key: string, res: ServerResponse, execute: () => Promise<GraphQLHttpAnswer>, write: (res: ServerResponse, answer: GraphQLHttpAnswer) => Promise<void>): Promise<void> {
    const running = this.running.get(key);
    if (running) {
      this.observe.waiting?.((this.waiters += 1));
      const answer = await running.catch(() => undefined);
      this.observe.waiting?.((this.waiters -= 1));
      if (answer?.kind === 'complete') {
        this.observe.shared?.();
        return write(res, answer);
      }
      return write(res, await execute());
    }
    // Encoded once: every waiter is written the same bytes, not a fresh copy of the string each.
    const execution = execute().then(encoded);
    this.running.set(key, execution);
    try {
      return await write(res, await execution);
    } finally {
      this.running.delete(key);
    }
  }

  private isQuery(query: string, operationName: string | undefined): boolean {
    const cacheKey = `${operationName ?? ''}\n${query}`;
    let isQuery = this.operationKinds.get(cacheKey);
    if (isQuery === undefined) {
      isQuery = operationKindOf(query, operationName) === 'query';
      if (this.operationKinds.size >= MAX_REMEMBERED_QUERIES) this.operationKinds.clear();
      this.operationKinds.set(cacheKey, isQuery);
    }
    return isQuery;
  }
}

function encoded(answer: GraphQLHttpAnswer): GraphQLHttpAnswer {
  if (answer.kind !== 'complete' || typeof answer.response.body !== 'string') return answer;
  return { kind: 'complete', response: { ...answer.response, body: Buffer.from(answer.response.body) } };
}

/** The kind of operation a request would run (getOperationAST: the named one, or the only one); undefined when the text does not parse or is ambiguous (Apollo answers those). */
function operationKindOf(query: string, operationName: string | undefined): string | undefined {
  try {
    return getOperationAST(parse(query, { noLocation: true }), operationName)?.operation;
  } catch {
    return undefined;
  }
}
