-- AlterTable
ALTER TABLE "identity"."ApiKey" ADD COLUMN     "partnerId" TEXT;

-- AlterTable
ALTER TABLE "training"."Cohort" ADD COLUMN     "archivedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "training"."Partner" ADD COLUMN     "learnerAppUrl" TEXT,
ADD COLUMN     "oidcIssuer" TEXT,
ADD COLUMN     "oidcJwksUri" TEXT,
ADD COLUMN     "previousLaunchSecret" TEXT,
ADD COLUMN     "previousLaunchSecretExpiresAt" TIMESTAMP(3),
ADD COLUMN     "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateIndex
CREATE UNIQUE INDEX "Partner_oidcIssuer_oidcAudience_key" ON "training"."Partner"("oidcIssuer", "oidcAudience");
