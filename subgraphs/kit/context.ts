import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../prisma/generated/client/client.js';
import type { Identity } from './identity.js';
import { Loaders } from './loaders.js';
import type { Logger } from './logger.js';
import type { PubSub } from './pubsub.js';

/** Shared by every subgraph for the life of the process. */
export interface SubgraphDeps {
  prisma: PrismaClient;
  pubsub: PubSub;
  log: Logger;
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
