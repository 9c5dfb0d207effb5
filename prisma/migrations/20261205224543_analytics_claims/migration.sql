-- CreateTable
CREATE TABLE "analytics"."AnalyticsClaim" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "payerId" TEXT NOT NULL,
    "submittedAt" TIMESTAMP(3),
    "adjudication" TEXT,
    "adjudicatedAt" TIMESTAMP(3),
    "paidAt" TIMESTAMP(3),
    "paidAmount" INTEGER,
    "currency" TEXT NOT NULL,

    CONSTRAINT "AnalyticsClaim_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AnalyticsClaim_organizationId_submittedAt_idx" ON "analytics"."AnalyticsClaim"("organizationId", "submittedAt");
