-- CreateEnum
CREATE TYPE "insurance"."ClaimKind" AS ENUM ('PROFESSIONAL', 'INSTITUTIONAL');

-- CreateEnum
CREATE TYPE "insurance"."AppealStatus" AS ENUM ('PREPARED', 'SENT', 'UPHELD', 'OVERTURNED');

-- AlterEnum
ALTER TYPE "insurance"."ClaimStatus" ADD VALUE 'APPEALED';

-- AlterTable
ALTER TABLE "insurance"."Claim" ADD COLUMN     "documentIds" TEXT[],
ADD COLUMN     "institutional" JSONB,
ADD COLUMN     "kind" "insurance"."ClaimKind" NOT NULL DEFAULT 'PROFESSIONAL',
ADD COLUMN     "replacesClaimId" TEXT,
ALTER COLUMN "placeOfService" DROP NOT NULL;

-- AlterTable
ALTER TABLE "insurance"."ClaimLine" ADD COLUMN     "revenueCode" TEXT;

-- AlterTable
ALTER TABLE "insurance"."PriorAuthorization" ADD COLUMN     "documentIds" TEXT[];

-- CreateTable
CREATE TABLE "insurance"."ClaimAppeal" (
    "id" TEXT NOT NULL,
    "claimId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "documentIds" TEXT[],
    "status" "insurance"."AppealStatus" NOT NULL,
    "payerReference" TEXT,
    "approvedAmount" INTEGER,
    "decisionNote" TEXT,
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedAt" TIMESTAMP(3),

    CONSTRAINT "ClaimAppeal_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "insurance"."SupportingDocument" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "contentType" TEXT NOT NULL,
    "content" BYTEA,
    "url" TEXT,
    "size" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "documentReference" JSONB,
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SupportingDocument_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ClaimAppeal_claimId_idx" ON "insurance"."ClaimAppeal"("claimId");

-- CreateIndex
CREATE INDEX "SupportingDocument_patientId_idx" ON "insurance"."SupportingDocument"("patientId");

-- CreateIndex
CREATE UNIQUE INDEX "Claim_replacesClaimId_key" ON "insurance"."Claim"("replacesClaimId");

-- AddForeignKey
ALTER TABLE "insurance"."Claim" ADD CONSTRAINT "Claim_replacesClaimId_fkey" FOREIGN KEY ("replacesClaimId") REFERENCES "insurance"."Claim"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "insurance"."ClaimAppeal" ADD CONSTRAINT "ClaimAppeal_claimId_fkey" FOREIGN KEY ("claimId") REFERENCES "insurance"."Claim"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
