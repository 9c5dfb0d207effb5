-- AlterTable
ALTER TABLE "insurance"."ClaimTransition" ADD COLUMN     "seq" SERIAL NOT NULL;
