-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "chat";

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "nurse";

-- CreateEnum
CREATE TYPE "chat"."ChatRole" AS ENUM ('PATIENT', 'ASSISTANT', 'NURSE');

-- CreateEnum
CREATE TYPE "nurse"."QueueSource" AS ENUM ('CHAT_RED_FLAG', 'TRIAGE', 'ASSESSMENT', 'LAB_RESULT', 'MANUAL');

-- CreateEnum
CREATE TYPE "nurse"."Urgency" AS ENUM ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW');

-- CreateEnum
CREATE TYPE "nurse"."QueueStatus" AS ENUM ('WAITING', 'IN_REVIEW', 'APPROVED', 'OVERRIDDEN', 'ESCALATED', 'RESOLVED');

-- CreateEnum
CREATE TYPE "nurse"."NurseActionKind" AS ENUM ('CLAIM', 'RELEASE', 'APPROVE', 'OVERRIDE', 'ESCALATE', 'RESOLVE');

-- CreateTable
CREATE TABLE "chat"."ChatSession" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "startedById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ChatSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "chat"."ChatMessage" (
    "id" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "role" "chat"."ChatRole" NOT NULL,
    "authorId" TEXT,
    "text" TEXT NOT NULL,
    "redFlags" JSONB NOT NULL DEFAULT '[]',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ChatMessage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "chat"."ChatParticipant" (
    "sessionId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "joinedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ChatParticipant_pkey" PRIMARY KEY ("sessionId","userId")
);

-- CreateTable
CREATE TABLE "nurse"."QueueEntry" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "source" "nurse"."QueueSource" NOT NULL,
    "sourceEventId" TEXT,
    "sourceRef" TEXT,
    "urgency" "nurse"."Urgency" NOT NULL,
    "urgencyRank" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "redFlagCodes" TEXT[],
    "status" "nurse"."QueueStatus" NOT NULL DEFAULT 'WAITING',
    "assignedNurseId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "slaDueAt" TIMESTAMP(3) NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "QueueEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "nurse"."NurseAction" (
    "id" TEXT NOT NULL,
    "entryId" TEXT NOT NULL,
    "nurseId" TEXT NOT NULL,
    "action" "nurse"."NurseActionKind" NOT NULL,
    "reason" TEXT,
    "fromStatus" "nurse"."QueueStatus" NOT NULL,
    "toStatus" "nurse"."QueueStatus" NOT NULL,
    "fromUrgency" "nurse"."Urgency" NOT NULL,
    "toUrgency" "nurse"."Urgency" NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "NurseAction_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ChatSession_patientId_idx" ON "chat"."ChatSession"("patientId");

-- CreateIndex
CREATE INDEX "ChatSession_organizationId_createdAt_idx" ON "chat"."ChatSession"("organizationId", "createdAt");

-- CreateIndex
CREATE INDEX "ChatMessage_sessionId_createdAt_idx" ON "chat"."ChatMessage"("sessionId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "QueueEntry_sourceEventId_key" ON "nurse"."QueueEntry"("sourceEventId");

-- CreateIndex
CREATE INDEX "QueueEntry_organizationId_status_urgencyRank_createdAt_idx" ON "nurse"."QueueEntry"("organizationId", "status", "urgencyRank", "createdAt");

-- CreateIndex
CREATE INDEX "QueueEntry_patientId_idx" ON "nurse"."QueueEntry"("patientId");

-- CreateIndex
CREATE INDEX "NurseAction_entryId_at_idx" ON "nurse"."NurseAction"("entryId", "at");

-- CreateIndex
CREATE INDEX "NurseAction_nurseId_at_idx" ON "nurse"."NurseAction"("nurseId", "at");

-- AddForeignKey
ALTER TABLE "chat"."ChatMessage" ADD CONSTRAINT "ChatMessage_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "chat"."ChatSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "chat"."ChatParticipant" ADD CONSTRAINT "ChatParticipant_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "chat"."ChatSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "nurse"."NurseAction" ADD CONSTRAINT "NurseAction_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "nurse"."QueueEntry"("id") ON DELETE CASCADE ON UPDATE CASCADE;
