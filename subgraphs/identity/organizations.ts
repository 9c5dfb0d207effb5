import type { Organization } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import type { Ctx } from './context.js';

/** Organizations by id, batched (DataLoader rejects with the row's error): one the caller may not see is FORBIDDEN, an unknown one NOT_FOUND. */
export async function loadOrganization(ctx: Ctx, id: string): Promise<Organization> {
  return loadVisible<Organization>(ctx, 'Organization', id);
}
