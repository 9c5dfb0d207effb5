-- AlterTable
ALTER TABLE "telemedicine"."Consultation" ADD COLUMN     "recordingConsentAt" TIMESTAMP(3),
ADD COLUMN     "recordingRequestedAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "telemedicine"."ConsultationParticipant" (
    "id" TEXT NOT NULL,
    "consultationId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "addedById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ConsultationParticipant_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ConsultationParticipant_consultationId_userId_key" ON "telemedicine"."ConsultationParticipant"("consultationId", "userId");

-- AddForeignKey
ALTER TABLE "telemedicine"."ConsultationParticipant" ADD CONSTRAINT "ConsultationParticipant_consultationId_fkey" FOREIGN KEY ("consultationId") REFERENCES "telemedicine"."Consultation"("id") ON DELETE CASCADE ON UPDATE CASCADE;
