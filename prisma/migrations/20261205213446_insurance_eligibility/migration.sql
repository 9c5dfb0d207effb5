-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "insurance";

-- CreateEnum
CREATE TYPE "insurance"."PayerProtocol" AS ENUM ('FHIR', 'X12', 'REST');

-- CreateEnum
CREATE TYPE "insurance"."CoverageStatus" AS ENUM ('ACTIVE', 'CANCELLED', 'ENTERED_IN_ERROR');

-- CreateEnum
CREATE TYPE "insurance"."SubscriberRelationship" AS ENUM ('SELF', 'SPOUSE', 'CHILD', 'OTHER');

-- CreateTable
CREATE TABLE "insurance"."Payer" (
    "id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "country" TEXT NOT NULL,
    "protocol" "insurance"."PayerProtocol" NOT NULL,
    "currency" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Payer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "insurance"."PayerEnrollment" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "payerId" TEXT NOT NULL,
    "providerNumber" TEXT NOT NULL,
    "providerName" TEXT NOT NULL,

    CONSTRAINT "PayerEnrollment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "insurance"."Coverage" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "payerId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "plan" TEXT NOT NULL,
    "subscriberFirstName" TEXT NOT NULL,
    "subscriberLastName" TEXT NOT NULL,
    "subscriberBirthDate" DATE,
    "relationship" "insurance"."SubscriberRelationship" NOT NULL DEFAULT 'SELF',
    "periodStart" DATE NOT NULL,
    "periodEnd" DATE,
    "status" "insurance"."CoverageStatus" NOT NULL DEFAULT 'ACTIVE',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Coverage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "insurance"."EligibilityCheck" (
    "id" TEXT NOT NULL,
    "coverageId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "serviceType" TEXT NOT NULL,
    "protocol" "insurance"."PayerProtocol" NOT NULL,
    "inForce" BOOLEAN NOT NULL,
    "planName" TEXT,
    "currency" TEXT NOT NULL,
    "copay" INTEGER,
    "coinsurancePercent" TEXT,
    "deductibleRemaining" INTEGER,
    "benefits" JSONB NOT NULL,
    "rejection" TEXT,
    "askedById" TEXT NOT NULL,
    "checkedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EligibilityCheck_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Payer_code_key" ON "insurance"."Payer"("code");

-- CreateIndex
CREATE UNIQUE INDEX "PayerEnrollment_organizationId_payerId_key" ON "insurance"."PayerEnrollment"("organizationId", "payerId");

-- CreateIndex
CREATE INDEX "Coverage_patientId_idx" ON "insurance"."Coverage"("patientId");

-- CreateIndex
CREATE INDEX "Coverage_organizationId_idx" ON "insurance"."Coverage"("organizationId");

-- CreateIndex
CREATE UNIQUE INDEX "Coverage_payerId_memberId_patientId_key" ON "insurance"."Coverage"("payerId", "memberId", "patientId");

-- CreateIndex
CREATE INDEX "EligibilityCheck_coverageId_serviceType_checkedAt_idx" ON "insurance"."EligibilityCheck"("coverageId", "serviceType", "checkedAt");

-- AddForeignKey
ALTER TABLE "insurance"."PayerEnrollment" ADD CONSTRAINT "PayerEnrollment_payerId_fkey" FOREIGN KEY ("payerId") REFERENCES "insurance"."Payer"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "insurance"."Coverage" ADD CONSTRAINT "Coverage_payerId_fkey" FOREIGN KEY ("payerId") REFERENCES "insurance"."Payer"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "insurance"."EligibilityCheck" ADD CONSTRAINT "EligibilityCheck_coverageId_fkey" FOREIGN KEY ("coverageId") REFERENCES "insurance"."Coverage"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
