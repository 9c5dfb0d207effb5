-- CreateEnum
CREATE TYPE "insurance"."PriorAuthorizationStatus" AS ENUM ('REQUESTED', 'APPROVED', 'DENIED', 'PENDED');

-- CreateTable
CREATE TABLE "insurance"."PayerTariff" (
    "id" TEXT NOT NULL,
    "payerId" TEXT NOT NULL,
    "procedureCode" TEXT NOT NULL,
    "maxAmount" INTEGER NOT NULL,
    "requiresAuthorization" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "PayerTariff_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "insurance"."PriorAuthorization" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "coverageId" TEXT NOT NULL,
    "payerId" TEXT NOT NULL,
    "status" "insurance"."PriorAuthorizationStatus" NOT NULL DEFAULT 'REQUESTED',
    "authCode" TEXT,
    "services" JSONB NOT NULL,
    "procedureCodes" TEXT[],
    "estimatedTotal" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "reasons" TEXT[],
    "approvedAt" TIMESTAMP(3),
    "expiresAt" TIMESTAMP(3),
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PriorAuthorization_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "PayerTariff_payerId_procedureCode_key" ON "insurance"."PayerTariff"("payerId", "procedureCode");

-- CreateIndex
CREATE INDEX "PriorAuthorization_patientId_idx" ON "insurance"."PriorAuthorization"("patientId");

-- CreateIndex
CREATE INDEX "PriorAuthorization_payerId_authCode_idx" ON "insurance"."PriorAuthorization"("payerId", "authCode");
