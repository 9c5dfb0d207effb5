import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../prisma/generated/client/client.js';
import { scopedClient, type AccessPolicies } from './access.js';
import type { BackgroundTasks } from './background.js';
import type { TtlCache } from './cache.js';
import type { DevicesSettings, InsuranceSettings, MessagingSettings, StripeSettings, TelemedicineSettings } from './config.js';
import { Directory } from './directory.js';
import type { Identity, RoleName } from './identity.js';
import { Loaders } from './loaders.js';
import type { Logger } from './logger.js';
import type { PubSub } from './pubsub.js';
import type { RateLimiter } from './rate-limit.js';
import type { Sealer } from './sealing.js';
import type { DocumentSigner } from './tokens.js';
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
  /** Payers for insurance; absent, insurance reads INSURANCE_PAYERS from the environment. */
  insurance?: InsuranceSettings;
  /** Short-lived shared answers (Redis when configured). */
  cache?: TtlCache;
  /** Lab listeners for devices; absent, devices reads DEVICES_MLLP_* from the environment. */
  devices?: DevicesSettings;
  /** SMS, WhatsApp and email to patients; absent, identity reads TWILIO_* / SMTP_URL from the environment. */
  messaging?: MessagingSettings;
  /** Twilio for telemedicine; absent, telemedicine reads TWILIO_* from the environment. */
  telemedicine?: TelemedicineSettings;
  /** Keys patient identifier digests (kit/identifiers.ts); derived from the platform's internal secret. */
  identifierKey?: string;
  /** Signs and checks documents outsiders verify (e-prescriptions); absent without a signing key. */
  documents?: DocumentSigner;
  /** Seals secrets held for users at outside services (wearable tokens): kit/sealing.ts. */
  sealer?: Sealer;
}

/** What every resolver receives: the verified identity, the request's own loaders and its access-checked data path. */
export interface SubgraphContext extends SubgraphDeps {
  identity: Identity;
  loaders: Loaders;
  requestId: string;
  /** The database through the subgraph's access policies (kit/access.ts): what services read and write with. */
  db: PrismaClient;
  /** Which organization the patients this subgraph refers to belong to (kit/directory.ts). */
  directory: Directory;
}

/** Which subgraph a context is for: its name (audit source, directory) and its access policies. */
export interface ContextOwner {
  name: string;
  /** Every model the subgraph reads or writes has one; a model without a policy is refused. */
  policies: AccessPolicies;
}

export function createContext(deps: SubgraphDeps, owner: ContextOwner, identity: Identity, requestId: string = randomUUID()): SubgraphContext {
  return {
    ...deps,
    identity,
    loaders: new Loaders(),
    requestId,
    log: deps.log.child({ requestId }),
    db: scopedClient({ subgraph: owner.name, prisma: deps.prisma, identity, policies: owner.policies }),
    directory: new Directory({ prisma: deps.prisma, log: deps.log, domain: owner.name }),
  };
}

/** The platform's public base URL (the gateway's), without a trailing slash: where links and callbacks point. */
export function publicBaseUrl(deps: Pick<SubgraphDeps, 'publicUrl'>): string {
  return (deps.publicUrl ?? 'http://127.0.0.1:4000').replace(/\/$/, '');
}

/** Runs `task` after the response, tracked when the process tracks background work. */
export function runInBackground(deps: Pick<SubgraphDeps, 'background' | 'log'>, name: string, task: () => Promise<void>): void {
  if (deps.background) return deps.background.run(name, task);
  void task().catch((error: unknown) => deps.log.error({ err: error, task: name }, 'background task failed'));
}
