-- CreateEnum
CREATE TYPE "identity"."NotificationChannel" AS ENUM ('SMS', 'WHATSAPP', 'EMAIL');

-- CreateEnum
CREATE TYPE "identity"."NotificationStatus" AS ENUM ('SCHEDULED', 'SENDING', 'QUEUED', 'SENT', 'DELIVERED', 'UNDELIVERED', 'FAILED', 'CANCELLED', 'SUPPRESSED');

-- CreateTable
CREATE TABLE "identity"."NotificationTemplate" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "channel" "identity"."NotificationChannel" NOT NULL,
    "subject" TEXT,
    "body" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "NotificationTemplate_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "identity"."Notification" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "channel" "identity"."NotificationChannel" NOT NULL,
    "sourceEventId" TEXT NOT NULL,
    "reference" TEXT,
    "variables" JSONB NOT NULL,
    "sendAt" TIMESTAMP(3) NOT NULL,
    "status" "identity"."NotificationStatus" NOT NULL DEFAULT 'SCHEDULED',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "heldUntil" TIMESTAMP(3),
    "providerId" TEXT,
    "lastError" TEXT,
    "sentAt" TIMESTAMP(3),
    "deliveredAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Notification_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "identity"."NotificationOptOut" (
    "channel" "identity"."NotificationChannel" NOT NULL,
    "addressDigest" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "NotificationOptOut_pkey" PRIMARY KEY ("channel","addressDigest")
);

-- CreateIndex
CREATE UNIQUE INDEX "NotificationTemplate_organizationId_kind_channel_key" ON "identity"."NotificationTemplate"("organizationId", "kind", "channel");

-- CreateIndex
CREATE UNIQUE INDEX "Notification_providerId_key" ON "identity"."Notification"("providerId");

-- CreateIndex
CREATE INDEX "Notification_status_sendAt_idx" ON "identity"."Notification"("status", "sendAt");

-- CreateIndex
CREATE INDEX "Notification_patientId_createdAt_idx" ON "identity"."Notification"("patientId", "createdAt");

-- CreateIndex
CREATE INDEX "Notification_reference_idx" ON "identity"."Notification"("reference");

-- CreateIndex
CREATE UNIQUE INDEX "Notification_sourceEventId_kind_channel_key" ON "identity"."Notification"("sourceEventId", "kind", "channel");
