-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "devices";

-- CreateEnum
CREATE TYPE "devices"."ObservationSource" AS ENUM ('LAB', 'DEVICE');

-- CreateEnum
CREATE TYPE "devices"."ObservationStatus" AS ENUM ('REGISTERED', 'PRELIMINARY', 'FINAL', 'AMENDED', 'CORRECTED', 'CANCELLED', 'ENTERED_IN_ERROR');

-- CreateTable
CREATE TABLE "devices"."Hl7Message" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "controlId" TEXT NOT NULL,
    "transport" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "ackCode" TEXT NOT NULL,
    "ack" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Hl7Message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "devices"."PatientIdentifier" (
    "patientId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "mrnDigest" TEXT NOT NULL,
    "eventSeq" BIGINT NOT NULL,

    CONSTRAINT "PatientIdentifier_pkey" PRIMARY KEY ("patientId")
);

-- CreateTable
CREATE TABLE "devices"."Observation" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "patientId" TEXT,
    "source" "devices"."ObservationSource" NOT NULL,
    "messageId" TEXT,
    "sourceKey" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "codeSystem" TEXT NOT NULL,
    "display" TEXT NOT NULL,
    "valueType" TEXT NOT NULL,
    "valueText" TEXT NOT NULL,
    "valueNumber" DECIMAL(20,6),
    "comparator" TEXT,
    "unit" TEXT,
    "unitSystem" TEXT,
    "referenceRange" TEXT,
    "interpretation" TEXT[],
    "status" "devices"."ObservationStatus" NOT NULL,
    "effectiveAt" TIMESTAMP(3),
    "placerOrderId" TEXT,
    "fillerOrderId" TEXT,
    "orderCode" TEXT,
    "sourcePatientId" TEXT NOT NULL,
    "sourcePatientName" TEXT NOT NULL,
    "critical" BOOLEAN NOT NULL DEFAULT false,
    "notes" TEXT[],
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "assignedById" TEXT,

    CONSTRAINT "Observation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Hl7Message_organizationId_sender_controlId_key" ON "devices"."Hl7Message"("organizationId", "sender", "controlId");

-- CreateIndex
CREATE INDEX "PatientIdentifier_organizationId_mrnDigest_idx" ON "devices"."PatientIdentifier"("organizationId", "mrnDigest");

-- CreateIndex
CREATE UNIQUE INDEX "Observation_sourceKey_key" ON "devices"."Observation"("sourceKey");

-- CreateIndex
CREATE INDEX "Observation_patientId_effectiveAt_idx" ON "devices"."Observation"("patientId", "effectiveAt");

-- CreateIndex
CREATE INDEX "Observation_organizationId_patientId_idx" ON "devices"."Observation"("organizationId", "patientId");
