import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RouteRequest } from '../../../subgraphs/kit/http.js';
import type { Logger } from '../../../subgraphs/kit/logger.js';

export const REQUEST_ID_HEADER = 'x-request-id';
/** What a caller may send as its request id: short, and nothing a log line could be forged with. */
const ACCEPTED_REQUEST_ID = /^[\w.:-]{8,128}$/;

/** One request as the gateway handles it: who asked is decided later; its id and logger are fixed at once. */
export interface RequestScope {
  /** The caller's `x-request-id` when it is acceptable, else a new UUID; sent on every subgraph call and back. */
  requestId: string;
  /** The gateway's logger bound to the request id: every line of the request carries it. */
  log: Logger;
}

/** A request on a route, with its params and scope. */
export interface GatewayRequest extends RouteRequest, RequestScope {}

export function requestIdFrom(headers: IncomingHttpHeaders): string {
  const given = headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && ACCEPTED_REQUEST_ID.test(given) ? given : randomUUID();
}

export function openScope(log: Logger, headers: IncomingHttpHeaders): RequestScope {
  const requestId = requestIdFrom(headers);
  return { requestId, log: log.child({ requestId }) };
}

const scopes = new AsyncLocalStorage<RequestScope>();

/** Runs `work` as part of the request: code that is not handed the scope (Apollo's hooks, error formatting) finds it. */
export const inScope = <T>(scope: RequestScope, work: () => T): T => scopes.run(scope, work);

export const currentScope = (): RequestScope | undefined => scopes.getStore();

/**
 * The logger to hand to libraries (Apollo Server, the federation executor, error masking):
 * within a request it writes through that request's child logger, so their lines carry the
 * request id too; outside any request it is `base`.
 */
export function scopedLogger(base: Logger): Logger {
  return new Proxy(base, {
    get(target, property) {
      const current = scopes.getStore()?.log ?? target;
      const value: unknown = Reflect.get(current, property, current);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
}
