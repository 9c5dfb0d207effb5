-- AlterTable
ALTER TABLE "telemedicine"."Consultation" ADD COLUMN     "diagnoses" JSONB,
ADD COLUMN     "reportNotes" TEXT,
ADD COLUMN     "reportedAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "telemedicine"."Prescription" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "consultationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "prescriberId" TEXT NOT NULL,
    "medication" TEXT NOT NULL,
    "dose" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "refills" INTEGER NOT NULL,
    "instructions" TEXT,
    "token" TEXT NOT NULL,
    "issuedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "revokedAt" TIMESTAMP(3),
    "revokedReason" TEXT,

    CONSTRAINT "Prescription_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "telemedicine"."RecordShare" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "createdById" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "revokedAt" TIMESTAMP(3),
    "accessCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RecordShare_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Prescription_consultationId_idx" ON "telemedicine"."Prescription"("consultationId");

-- CreateIndex
CREATE INDEX "Prescription_patientId_issuedAt_idx" ON "telemedicine"."Prescription"("patientId", "issuedAt");

-- CreateIndex
CREATE UNIQUE INDEX "RecordShare_tokenHash_key" ON "telemedicine"."RecordShare"("tokenHash");

-- CreateIndex
CREATE INDEX "RecordShare_patientId_idx" ON "telemedicine"."RecordShare"("patientId");
