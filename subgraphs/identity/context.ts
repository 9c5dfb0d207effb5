import type { SubgraphContext } from '../kit/context.js';

/**
 * What identity's services use of a request's context: `db` (the access-checked data path) for
 * everything they read and write; `prisma` only to tell a row that exists elsewhere (FORBIDDEN)
 * from one that does not (NOT_FOUND) when loading by id (kit `visibleRows`).
 */
export type Ctx = Pick<SubgraphContext, 'db' | 'prisma' | 'identity' | 'loaders' | 'directory' | 'log' | 'identifierKey'>;
