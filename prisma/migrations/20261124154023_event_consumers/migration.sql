-- CreateTable
CREATE TABLE "platform"."EventConsumption" (
    "consumer" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "processedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EventConsumption_pkey" PRIMARY KEY ("consumer","eventId")
);

-- CreateTable
CREATE TABLE "platform"."EventConsumerCursor" (
    "consumer" TEXT NOT NULL,
    "lowWater" BIGINT NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "EventConsumerCursor_pkey" PRIMARY KEY ("consumer")
);
