import type { PrismaClient } from '../../prisma/generated/client/client.js';
import { analyticsPolicies } from '../../subgraphs/analytics/policies.js';
import { scopedClient } from '../../subgraphs/kit/access.js';
import type { Identity } from '../../subgraphs/kit/identity.js';
import { Loaders } from '../../subgraphs/kit/loaders.js';

/** What a request gives the analytics services: `db` through analytics' policies, as the kit builds it. */
export const analyticsContext = (prisma: PrismaClient, identity: Identity) => ({
  identity,
  prisma,
  loaders: new Loaders(),
  db: scopedClient({ subgraph: 'analytics', prisma, identity, policies: analyticsPolicies }),
});
