-- Data only: a flagged error of severity safety now lowers the safety sub-score by 25 points
-- (never below 0; from 100 when the case has no safety items), as scoring.ts safetySubScore
-- does. Sessions scored before keep their total and errors; their stored safety sub-score is
-- recomputed so that rescoreSession still returns exactly what is stored, and the analytics
-- projection's copy follows.

CREATE FUNCTION "training"."penalised_safety_subscores"(sub_scores JSONB, flagged_errors JSONB) RETURNS JSONB
LANGUAGE SQL IMMUTABLE AS $$
  SELECT COALESCE(jsonb_agg(
    CASE
      WHEN sub->>'section' = 'safety' AND errors.n > 0
        THEN jsonb_set(sub, '{score}', to_jsonb(GREATEST(0, COALESCE((sub->>'score')::INT, 100) - 25 * errors.n)))
      ELSE sub
    END ORDER BY position), '[]'::JSONB)
  FROM jsonb_array_elements(sub_scores) WITH ORDINALITY AS elements(sub, position),
       (SELECT COUNT(*)::INT AS n FROM jsonb_array_elements(flagged_errors) AS e(error) WHERE e.error->>'severity' = 'safety') AS errors
$$;

UPDATE "training"."CaseSession"
SET "score" = jsonb_set("score", '{subScores}', "training"."penalised_safety_subscores"("score"->'subScores', "score"->'flaggedErrors'))
WHERE "score" IS NOT NULL
  AND EXISTS (SELECT 1 FROM jsonb_array_elements("score"->'flaggedErrors') AS e(error) WHERE e.error->>'severity' = 'safety');

UPDATE "analytics"."AnalyticsTrainingSession"
SET "subScores" = "training"."penalised_safety_subscores"("subScores", "flaggedErrors")
WHERE EXISTS (SELECT 1 FROM jsonb_array_elements("flaggedErrors") AS e(error) WHERE e.error->>'severity' = 'safety');

DROP FUNCTION "training"."penalised_safety_subscores"(JSONB, JSONB);
