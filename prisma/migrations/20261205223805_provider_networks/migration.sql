-- AlterTable
ALTER TABLE "insurance"."Claim" ADD COLUMN     "outOfNetwork" BOOLEAN;

-- AlterTable
ALTER TABLE "insurance"."PayerEnrollment" ADD COLUMN     "location" TEXT;
