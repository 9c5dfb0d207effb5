-- CreateEnum
CREATE TYPE "insurance"."ClaimStatus" AS ENUM ('DRAFT', 'SUBMITTED', 'ACCEPTED', 'REJECTED', 'ADJUDICATED', 'PAID', 'CLOSED');

-- CreateEnum
CREATE TYPE "insurance"."ClaimAdjudication" AS ENUM ('APPROVED', 'PARTIALLY_APPROVED', 'DENIED');

-- CreateTable
CREATE TABLE "insurance"."Claim" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "coverageId" TEXT NOT NULL,
    "payerId" TEXT NOT NULL,
    "status" "insurance"."ClaimStatus" NOT NULL DEFAULT 'DRAFT',
    "adjudication" "insurance"."ClaimAdjudication",
    "currency" TEXT NOT NULL,
    "totalCharge" INTEGER NOT NULL,
    "approvedAmount" INTEGER,
    "paidAmount" INTEGER,
    "patientResponsibility" INTEGER,
    "diagnoses" TEXT[],
    "placeOfService" TEXT NOT NULL,
    "priorAuthorization" TEXT,
    "payerClaimNumber" TEXT,
    "lastSubmissionId" TEXT,
    "reasons" TEXT[],
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Claim_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "insurance"."ClaimLine" (
    "id" TEXT NOT NULL,
    "claimId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "procedureCode" TEXT NOT NULL,
    "modifiers" TEXT[],
    "charge" INTEGER NOT NULL,
    "units" INTEGER NOT NULL,
    "diagnosisPointers" INTEGER[],
    "serviceDate" DATE NOT NULL,
    "paidAmount" INTEGER,

    CONSTRAINT "ClaimLine_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "insurance"."ClaimTransition" (
    "id" TEXT NOT NULL,
    "claimId" TEXT NOT NULL,
    "from" "insurance"."ClaimStatus",
    "to" "insurance"."ClaimStatus" NOT NULL,
    "reason" TEXT,
    "actorId" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ClaimTransition_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "insurance"."ClaimSubmission" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "payerId" TEXT NOT NULL,
    "controlNumber" TEXT NOT NULL,
    "claimIds" TEXT[],
    "outcome" TEXT NOT NULL,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ClaimSubmission_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "insurance"."Remittance" (
    "id" TEXT NOT NULL,
    "payerId" TEXT NOT NULL,
    "traceNumber" TEXT NOT NULL,
    "paymentAmount" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "paymentDate" DATE NOT NULL,
    "unmatched" JSONB NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Remittance_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Claim_organizationId_status_idx" ON "insurance"."Claim"("organizationId", "status");

-- CreateIndex
CREATE INDEX "Claim_patientId_idx" ON "insurance"."Claim"("patientId");

-- CreateIndex
CREATE UNIQUE INDEX "ClaimLine_claimId_position_key" ON "insurance"."ClaimLine"("claimId", "position");

-- CreateIndex
CREATE INDEX "ClaimTransition_claimId_at_idx" ON "insurance"."ClaimTransition"("claimId", "at");

-- CreateIndex
CREATE UNIQUE INDEX "ClaimSubmission_payerId_controlNumber_key" ON "insurance"."ClaimSubmission"("payerId", "controlNumber");

-- CreateIndex
CREATE UNIQUE INDEX "Remittance_payerId_traceNumber_key" ON "insurance"."Remittance"("payerId", "traceNumber");

-- AddForeignKey
ALTER TABLE "insurance"."Claim" ADD CONSTRAINT "Claim_coverageId_fkey" FOREIGN KEY ("coverageId") REFERENCES "insurance"."Coverage"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "insurance"."ClaimLine" ADD CONSTRAINT "ClaimLine_claimId_fkey" FOREIGN KEY ("claimId") REFERENCES "insurance"."Claim"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "insurance"."ClaimTransition" ADD CONSTRAINT "ClaimTransition_claimId_fkey" FOREIGN KEY ("claimId") REFERENCES "insurance"."Claim"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
