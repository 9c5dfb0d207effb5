-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "analytics";

-- CreateTable
CREATE TABLE "analytics"."AnalyticsPartner" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "principalId" TEXT,

    CONSTRAINT "AnalyticsPartner_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "analytics"."AnalyticsCohort" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "partnerId" TEXT NOT NULL,
    "purgedThroughSeq" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "AnalyticsCohort_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "analytics"."AnalyticsEnrollment" (
    "cohortId" TEXT NOT NULL,
    "learnerId" TEXT NOT NULL,
    "enrolledAt" TIMESTAMP(3) NOT NULL,
    "eventSeq" BIGINT NOT NULL,

    CONSTRAINT "AnalyticsEnrollment_pkey" PRIMARY KEY ("cohortId","learnerId")
);

-- CreateTable
CREATE TABLE "analytics"."AnalyticsTrainingSession" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "partnerId" TEXT,
    "cohortId" TEXT NOT NULL,
    "learnerId" TEXT NOT NULL,
    "caseId" TEXT,
    "caseVersion" INTEGER,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "completedAt" TIMESTAMP(3),
    "durationSeconds" INTEGER,
    "totalScore" INTEGER,
    "subScores" JSONB NOT NULL DEFAULT '[]',
    "flaggedErrors" JSONB NOT NULL DEFAULT '[]',
    "eventSeq" BIGINT NOT NULL,

    CONSTRAINT "AnalyticsTrainingSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "analytics"."AnalyticsQueueEntry" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "initialUrgency" TEXT NOT NULL,
    "urgency" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "slaDueAt" TIMESTAMP(3) NOT NULL,
    "firstActionAt" TIMESTAMP(3),
    "closedAt" TIMESTAMP(3),
    "escalated" BOOLEAN NOT NULL DEFAULT false,
    "version" INTEGER NOT NULL,

    CONSTRAINT "AnalyticsQueueEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "analytics"."AnalyticsMoneyMovement" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AnalyticsMoneyMovement_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AnalyticsPartner_principalId_idx" ON "analytics"."AnalyticsPartner"("principalId");

-- CreateIndex
CREATE INDEX "AnalyticsCohort_organizationId_idx" ON "analytics"."AnalyticsCohort"("organizationId");

-- CreateIndex
CREATE INDEX "AnalyticsCohort_partnerId_idx" ON "analytics"."AnalyticsCohort"("partnerId");

-- CreateIndex
CREATE INDEX "AnalyticsTrainingSession_cohortId_startedAt_idx" ON "analytics"."AnalyticsTrainingSession"("cohortId", "startedAt");

-- CreateIndex
CREATE INDEX "AnalyticsTrainingSession_organizationId_startedAt_idx" ON "analytics"."AnalyticsTrainingSession"("organizationId", "startedAt");

-- CreateIndex
CREATE INDEX "AnalyticsQueueEntry_organizationId_createdAt_idx" ON "analytics"."AnalyticsQueueEntry"("organizationId", "createdAt");

-- CreateIndex
CREATE INDEX "AnalyticsMoneyMovement_organizationId_at_idx" ON "analytics"."AnalyticsMoneyMovement"("organizationId", "at");
