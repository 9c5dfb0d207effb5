-- The audit trail moves to the platform schema, where every subgraph records into it.
-- Moved, not recreated: existing audit entries are kept.
ALTER TABLE "identity"."AuditEvent" SET SCHEMA "platform";

-- Entries so far were all written by the identity subgraph.
ALTER TABLE "platform"."AuditEvent" ADD COLUMN "source" TEXT NOT NULL DEFAULT 'identity';
ALTER TABLE "platform"."AuditEvent" ALTER COLUMN "source" DROP DEFAULT;
