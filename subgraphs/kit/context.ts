import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../prisma/generated/client/client.js';
import type { BackgroundTasks } from './background.js';
import type { StripeSettings } from './config.js';
import type { Identity, RoleName } from './identity.js';
import { Loaders } from './loaders.js';
import type { Logger } from './logger.js';
import type { PubSub } from './pubsub.js';
import type { RateLimiter } from './rate-limit.js';
import type { LlmConfig } from './responder.js';

/** Claims of a platform session token (what the gateway verifies on every request). */
export interface SessionTokenClaims {
  userId: string;
  role: RoleName;
  organizationId: string | null;
  patientId?: string | null;
  cohortIds?: string[];
}

/** Shared by every subgraph for the life of the process. */
export interface SubgraphDeps {
  prisma: PrismaClient;
  pubsub: PubSub;
  log: Logger;
  /** Mints platform session tokens (for learners a partner launches); absent without a signing key. */
  issueToken?: (claims: SessionTokenClaims, ttlSeconds?: number) => Promise<string>;
  /** An OpenAI-compatible model server; the embedded responders are used without one. */
  llm?: LlmConfig;
  /** The public base URL of the platform (the gateway's), for deep links. */
  publicUrl?: string;
  /** Shared rate limits (Redis when configured). */
  rateLimiter?: RateLimiter;
  /** Work started by a request and finished after it (streamed replies); drained at shutdown. */
  background?: BackgroundTasks;
  /** Stripe for billing; absent, billing reads STRIPE_* from the environment. */
  stripe?: StripeSettings;
}

/** What every resolver receives: the verified identity and the request's own loaders. */
export interface SubgraphContext extends SubgraphDeps {
  identity: Identity;
  loaders: Loaders;
  requestId: string;
}

export function createContext(deps: SubgraphDeps, identity: Identity, requestId: string = randomUUID()): SubgraphContext {
  return {
    ...deps,
    identity,
    loaders: new Loaders(),
    requestId,
    log: deps.log.child({ requestId }),
  };
}

/** Runs `task` after the response, tracked when the process tracks background work. */
export function runInBackground(deps: Pick<SubgraphDeps, 'background' | 'log'>, name: string, task: () => Promise<void>): void {
  if (deps.background) return deps.background.run(name, task);
  void task().catch((error: unknown) => deps.log.error({ err: error, task: name }, 'background task failed'));
}
