-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "telemedicine";

-- CreateEnum
CREATE TYPE "telemedicine"."ConsultationStatus" AS ENUM ('SCHEDULED', 'WAITING', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', 'NO_SHOW');

-- CreateEnum
CREATE TYPE "telemedicine"."TriageUrgency" AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');

-- AlterTable
ALTER TABLE "billing"."Invoice" ADD COLUMN     "sourceId" TEXT,
ADD COLUMN     "sourceType" TEXT;

-- CreateTable
CREATE TABLE "telemedicine"."ClinicianSchedule" (
    "clinicianId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "timeZone" TEXT NOT NULL,
    "windows" JSONB NOT NULL,
    "feeAmount" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ClinicianSchedule_pkey" PRIMARY KEY ("clinicianId")
);

-- CreateTable
CREATE TABLE "telemedicine"."Consultation" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "clinicianId" TEXT NOT NULL,
    "bookedById" TEXT NOT NULL,
    "startsAt" TIMESTAMP(3) NOT NULL,
    "endsAt" TIMESTAMP(3) NOT NULL,
    "status" "telemedicine"."ConsultationStatus" NOT NULL DEFAULT 'SCHEDULED',
    "reason" TEXT NOT NULL,
    "triageUrgency" "telemedicine"."TriageUrgency" NOT NULL,
    "triageConfidence" INTEGER NOT NULL,
    "triage" JSONB NOT NULL,
    "feeAmount" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "feePaidAt" TIMESTAMP(3),
    "roomSid" TEXT,
    "startedAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),
    "durationSeconds" INTEGER,
    "cancelledAt" TIMESTAMP(3),
    "cancelReason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Consultation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "telemedicine"."VideoCallback" (
    "key" TEXT NOT NULL,
    "consultationId" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "VideoCallback_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "ClinicianSchedule_organizationId_idx" ON "telemedicine"."ClinicianSchedule"("organizationId");

-- CreateIndex
CREATE UNIQUE INDEX "Consultation_roomSid_key" ON "telemedicine"."Consultation"("roomSid");

-- CreateIndex
CREATE INDEX "Consultation_clinicianId_startsAt_idx" ON "telemedicine"."Consultation"("clinicianId", "startsAt");

-- CreateIndex
CREATE INDEX "Consultation_patientId_startsAt_idx" ON "telemedicine"."Consultation"("patientId", "startsAt");

-- CreateIndex
CREATE INDEX "Consultation_organizationId_startsAt_idx" ON "telemedicine"."Consultation"("organizationId", "startsAt");

-- CreateIndex
CREATE UNIQUE INDEX "Invoice_sourceType_sourceId_key" ON "billing"."Invoice"("sourceType", "sourceId");
