import type { Prisma, PrismaClient } from '../../prisma/generated/client/client.js';
import { isAuthenticated, type Identity } from './identity.js';

/**
 * The PHI audit trail: who read or changed which record, when and why. Never the values.
 * Every subgraph records through this one function into platform.AuditEvent.
 */
export interface AuditEntry {
  source: string;
  action: string;
  entityType: string;
  entityIds: readonly string[];
  reason?: string;
}

export async function audit(db: PrismaClient | Prisma.TransactionClient, identity: Identity, entry: AuditEntry): Promise<void> {
  if (entry.entityIds.length === 0) return;
  const actor = isAuthenticated(identity)
    ? { actorId: identity.subject, actorKind: identity.kind, actorRole: identity.role, organizationId: identity.organizationId }
    : { actorId: null, actorKind: identity.kind, actorRole: null, organizationId: null };
  await db.auditEvent.createMany({
    data: entry.entityIds.map((entityId) => ({
      ...actor,
      source: entry.source,
      action: entry.action,
      entityType: entry.entityType,
      entityId,
      reason: entry.reason ?? null,
    })),
  });
}
