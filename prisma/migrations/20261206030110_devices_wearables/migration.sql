-- CreateEnum
CREATE TYPE "devices"."WearableProvider" AS ENUM ('GOOGLE_HEALTH');

-- CreateEnum
CREATE TYPE "devices"."WearableConnectionStatus" AS ENUM ('PENDING', 'ACTIVE', 'REAUTHORIZE', 'DISCONNECTED');

-- AlterEnum
ALTER TYPE "nurse"."QueueSource" ADD VALUE 'DEVICE_READING';

-- AlterTable
ALTER TABLE "devices"."Observation" ADD COLUMN     "connectionId" TEXT,
ADD COLUMN     "effectiveEndAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "devices"."WearableConnection" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "provider" "devices"."WearableProvider" NOT NULL,
    "status" "devices"."WearableConnectionStatus" NOT NULL,
    "stateHash" TEXT,
    "stateExpiresAt" TIMESTAMP(3),
    "sealedVerifier" TEXT,
    "sealedAccessToken" TEXT,
    "sealedRefreshToken" TEXT,
    "sealingKeyId" TEXT,
    "accessExpiresAt" TIMESTAMP(3),
    "scopes" TEXT[],
    "providerUserId" TEXT,
    "cursors" JSONB NOT NULL DEFAULT '{}',
    "nextSyncAt" TIMESTAMP(3),
    "heldUntil" TIMESTAMP(3),
    "lastSyncAt" TIMESTAMP(3),
    "failures" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "connectedAt" TIMESTAMP(3),
    "disconnectedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "WearableConnection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "devices"."WearableSyncRequest" (
    "id" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "dataType" TEXT NOT NULL,
    "start" TIMESTAMP(3) NOT NULL,
    "end" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WearableSyncRequest_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "WearableConnection_stateHash_key" ON "devices"."WearableConnection"("stateHash");

-- CreateIndex
CREATE INDEX "WearableConnection_status_nextSyncAt_idx" ON "devices"."WearableConnection"("status", "nextSyncAt");

-- CreateIndex
CREATE INDEX "WearableConnection_provider_providerUserId_idx" ON "devices"."WearableConnection"("provider", "providerUserId");

-- CreateIndex
CREATE UNIQUE INDEX "WearableConnection_patientId_provider_key" ON "devices"."WearableConnection"("patientId", "provider");

-- CreateIndex
CREATE INDEX "WearableSyncRequest_connectionId_idx" ON "devices"."WearableSyncRequest"("connectionId");

-- CreateIndex
CREATE INDEX "Observation_connectionId_code_effectiveAt_idx" ON "devices"."Observation"("connectionId", "code", "effectiveAt");

-- AddForeignKey
ALTER TABLE "devices"."WearableSyncRequest" ADD CONSTRAINT "WearableSyncRequest_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "devices"."WearableConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;
