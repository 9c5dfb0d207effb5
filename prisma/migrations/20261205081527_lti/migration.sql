-- CreateTable
CREATE TABLE "training"."LtiPlatform" (
    "id" TEXT NOT NULL,
    "partnerId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "deploymentIds" TEXT[],
    "authLoginUrl" TEXT NOT NULL,
    "accessTokenUrl" TEXT NOT NULL,
    "jwksUrl" TEXT NOT NULL,
    "toolPrivateJwk" JSONB NOT NULL,
    "toolKeyId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LtiPlatform_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "training"."LtiLogin" (
    "state" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "platformId" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LtiLogin_pkey" PRIMARY KEY ("state")
);

-- CreateTable
CREATE TABLE "training"."LtiContext" (
    "platformId" TEXT NOT NULL,
    "contextId" TEXT NOT NULL,
    "cohortId" TEXT NOT NULL,

    CONSTRAINT "LtiContext_pkey" PRIMARY KEY ("platformId","contextId")
);

-- CreateTable
CREATE TABLE "training"."LtiScoreTarget" (
    "sessionId" TEXT NOT NULL,
    "platformId" TEXT NOT NULL,
    "lineItemUrl" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "scoreGiven" INTEGER,
    "completedAt" TIMESTAMP(3),
    "nextAttemptAt" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "postedAt" TIMESTAMP(3),

    CONSTRAINT "LtiScoreTarget_pkey" PRIMARY KEY ("sessionId")
);

-- CreateIndex
CREATE UNIQUE INDEX "LtiPlatform_toolKeyId_key" ON "training"."LtiPlatform"("toolKeyId");

-- CreateIndex
CREATE INDEX "LtiPlatform_partnerId_idx" ON "training"."LtiPlatform"("partnerId");

-- CreateIndex
CREATE UNIQUE INDEX "LtiPlatform_issuer_clientId_key" ON "training"."LtiPlatform"("issuer", "clientId");

-- CreateIndex
CREATE UNIQUE INDEX "LtiLogin_nonce_key" ON "training"."LtiLogin"("nonce");

-- CreateIndex
CREATE INDEX "LtiLogin_expiresAt_idx" ON "training"."LtiLogin"("expiresAt");

-- CreateIndex
CREATE INDEX "LtiScoreTarget_nextAttemptAt_idx" ON "training"."LtiScoreTarget"("nextAttemptAt");
