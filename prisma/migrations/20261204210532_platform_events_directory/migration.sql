-- AlterTable
ALTER TABLE "identity"."User" ADD COLUMN     "deactivatedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "platform"."EventConsumption" ADD COLUMN     "skippedReason" TEXT;

-- AlterTable
ALTER TABLE "platform"."OutboxEvent" ADD COLUMN     "publishedAt" TIMESTAMP(3),
ADD COLUMN     "version" INTEGER NOT NULL DEFAULT 1;

-- CreateTable
CREATE TABLE "platform"."DirectoryEntry" (
    "domain" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "eventSeq" BIGINT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DirectoryEntry_pkey" PRIMARY KEY ("domain","kind","id")
);

-- CreateIndex
CREATE INDEX "OutboxEvent_publishedAt_seq_idx" ON "platform"."OutboxEvent"("publishedAt", "seq");

-- Events relayed before live publishing was tracked were published then: do not publish them again.
UPDATE "platform"."OutboxEvent" SET "publishedAt" = "relayedAt" WHERE "relayedAt" IS NOT NULL;
