-- AlterTable
ALTER TABLE "training"."Partner" ADD COLUMN     "oidcAudience" TEXT;
