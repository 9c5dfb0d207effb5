-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "training";

-- CreateEnum
CREATE TYPE "training"."CaseVersionStatus" AS ENUM ('DRAFT', 'PUBLISHED');

-- CreateEnum
CREATE TYPE "training"."CaseSessionStatus" AS ENUM ('ACTIVE', 'COMPLETED');

-- CreateEnum
CREATE TYPE "training"."TurnRole" AS ENUM ('LEARNER', 'PATIENT');

-- CreateTable
CREATE TABLE "training"."Partner" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "launchIssuer" TEXT NOT NULL,
    "launchSecret" TEXT,
    "jwksUri" TEXT,
    "webhookEndpointId" TEXT,
    "principalId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Partner_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training"."Case" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Case_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training"."CaseVersion" (
    "id" TEXT NOT NULL,
    "caseId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "status" "training"."CaseVersionStatus" NOT NULL DEFAULT 'DRAFT',
    "content" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "publishedAt" TIMESTAMP(3),

    CONSTRAINT "CaseVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training"."CaseSet" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CaseSet_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training"."CaseSetItem" (
    "caseSetId" TEXT NOT NULL,
    "caseId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,

    CONSTRAINT "CaseSetItem_pkey" PRIMARY KEY ("caseSetId","caseId")
);

-- CreateTable
CREATE TABLE "training"."Cohort" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "partnerId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Cohort_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training"."Learner" (
    "id" TEXT NOT NULL,
    "partnerId" TEXT NOT NULL,
    "externalSubject" TEXT NOT NULL,
    "displayName" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Learner_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training"."Enrollment" (
    "id" TEXT NOT NULL,
    "cohortId" TEXT NOT NULL,
    "learnerId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Enrollment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training"."CohortAssignment" (
    "id" TEXT NOT NULL,
    "cohortId" TEXT NOT NULL,
    "caseId" TEXT,
    "caseSetId" TEXT,
    "dueAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CohortAssignment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training"."LaunchNonce" (
    "jti" TEXT NOT NULL,
    "partnerId" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LaunchNonce_pkey" PRIMARY KEY ("jti")
);

-- CreateTable
CREATE TABLE "training"."CaseSession" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "partnerId" TEXT NOT NULL,
    "cohortId" TEXT NOT NULL,
    "learnerId" TEXT NOT NULL,
    "caseVersionId" TEXT NOT NULL,
    "status" "training"."CaseSessionStatus" NOT NULL DEFAULT 'ACTIVE',
    "diagnosis" TEXT,
    "managementPlan" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMP(3),
    "score" JSONB,
    "totalScore" INTEGER,

    CONSTRAINT "CaseSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training"."SessionTurn" (
    "id" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "role" "training"."TurnRole" NOT NULL,
    "text" TEXT NOT NULL,
    "revealedFactIds" TEXT[],
    "examinedFindingIds" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SessionTurn_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training"."InvestigationOrder" (
    "id" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "orderedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "InvestigationOrder_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Partner_launchIssuer_key" ON "training"."Partner"("launchIssuer");

-- CreateIndex
CREATE INDEX "Partner_organizationId_idx" ON "training"."Partner"("organizationId");

-- CreateIndex
CREATE UNIQUE INDEX "Case_organizationId_slug_key" ON "training"."Case"("organizationId", "slug");

-- CreateIndex
CREATE UNIQUE INDEX "CaseVersion_caseId_number_key" ON "training"."CaseVersion"("caseId", "number");

-- CreateIndex
CREATE INDEX "Cohort_partnerId_idx" ON "training"."Cohort"("partnerId");

-- CreateIndex
CREATE INDEX "Cohort_organizationId_idx" ON "training"."Cohort"("organizationId");

-- CreateIndex
CREATE UNIQUE INDEX "Learner_partnerId_externalSubject_key" ON "training"."Learner"("partnerId", "externalSubject");

-- CreateIndex
CREATE UNIQUE INDEX "Enrollment_cohortId_learnerId_key" ON "training"."Enrollment"("cohortId", "learnerId");

-- CreateIndex
CREATE INDEX "CohortAssignment_cohortId_idx" ON "training"."CohortAssignment"("cohortId");

-- CreateIndex
CREATE INDEX "LaunchNonce_expiresAt_idx" ON "training"."LaunchNonce"("expiresAt");

-- CreateIndex
CREATE INDEX "CaseSession_cohortId_idx" ON "training"."CaseSession"("cohortId");

-- CreateIndex
CREATE INDEX "CaseSession_learnerId_idx" ON "training"."CaseSession"("learnerId");

-- CreateIndex
CREATE UNIQUE INDEX "SessionTurn_sessionId_seq_key" ON "training"."SessionTurn"("sessionId", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "InvestigationOrder_sessionId_code_key" ON "training"."InvestigationOrder"("sessionId", "code");

-- AddForeignKey
ALTER TABLE "training"."CaseVersion" ADD CONSTRAINT "CaseVersion_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "training"."Case"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."CaseSetItem" ADD CONSTRAINT "CaseSetItem_caseSetId_fkey" FOREIGN KEY ("caseSetId") REFERENCES "training"."CaseSet"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."CaseSetItem" ADD CONSTRAINT "CaseSetItem_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "training"."Case"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."Cohort" ADD CONSTRAINT "Cohort_partnerId_fkey" FOREIGN KEY ("partnerId") REFERENCES "training"."Partner"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."Learner" ADD CONSTRAINT "Learner_partnerId_fkey" FOREIGN KEY ("partnerId") REFERENCES "training"."Partner"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."Enrollment" ADD CONSTRAINT "Enrollment_cohortId_fkey" FOREIGN KEY ("cohortId") REFERENCES "training"."Cohort"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."Enrollment" ADD CONSTRAINT "Enrollment_learnerId_fkey" FOREIGN KEY ("learnerId") REFERENCES "training"."Learner"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."CohortAssignment" ADD CONSTRAINT "CohortAssignment_cohortId_fkey" FOREIGN KEY ("cohortId") REFERENCES "training"."Cohort"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."CohortAssignment" ADD CONSTRAINT "CohortAssignment_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "training"."Case"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."CohortAssignment" ADD CONSTRAINT "CohortAssignment_caseSetId_fkey" FOREIGN KEY ("caseSetId") REFERENCES "training"."CaseSet"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."CaseSession" ADD CONSTRAINT "CaseSession_cohortId_fkey" FOREIGN KEY ("cohortId") REFERENCES "training"."Cohort"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."CaseSession" ADD CONSTRAINT "CaseSession_learnerId_fkey" FOREIGN KEY ("learnerId") REFERENCES "training"."Learner"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."CaseSession" ADD CONSTRAINT "CaseSession_caseVersionId_fkey" FOREIGN KEY ("caseVersionId") REFERENCES "training"."CaseVersion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."SessionTurn" ADD CONSTRAINT "SessionTurn_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "training"."CaseSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "training"."InvestigationOrder" ADD CONSTRAINT "InvestigationOrder_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "training"."CaseSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;
