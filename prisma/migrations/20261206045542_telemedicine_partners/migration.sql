-- CreateTable
CREATE TABLE "telemedicine"."PartnerAppointment" (
    "id" TEXT NOT NULL,
    "partner" TEXT NOT NULL,
    "externalId" TEXT NOT NULL,
    "direction" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "clinicianId" TEXT NOT NULL,
    "consultationId" TEXT,
    "startsAt" TIMESTAMP(3) NOT NULL,
    "endsAt" TIMESTAMP(3) NOT NULL,
    "status" TEXT NOT NULL,
    "pushedVersion" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3),
    "lastError" TEXT,
    "syncedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PartnerAppointment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "telemedicine"."PartnerCursor" (
    "partner" TEXT NOT NULL,
    "cursor" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "PartnerCursor_pkey" PRIMARY KEY ("partner")
);

-- CreateIndex
CREATE INDEX "PartnerAppointment_clinicianId_startsAt_idx" ON "telemedicine"."PartnerAppointment"("clinicianId", "startsAt");

-- CreateIndex
CREATE UNIQUE INDEX "PartnerAppointment_partner_externalId_key" ON "telemedicine"."PartnerAppointment"("partner", "externalId");
