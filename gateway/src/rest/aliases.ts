import { pathParam, queryParam, type RestAlias } from './alias.js';

/**
 * The gateway's REST aliases, for partner platforms that integrate over plain HTTP. Each
 * runs a GraphQL operation as the caller, so the training subgraph's rules (a partner sees
 * only its own cohorts and their sessions) apply exactly as over /graphql. Adding one is a
 * row here; the analytics issue adds `GET /integrations/partner/cohorts/:id/analytics`.
 */
export const REST_ALIASES: readonly RestAlias[] = [
  {
    method: 'GET',
    path: '/integrations/partner/cases',
    operation: /* GraphQL */ `
      query PartnerCohortCases($cohortId: ID!) {
        cohortCases(cohortId: $cohortId) { caseId slug title versionNumber dueAt }
      }`,
    variables: { cohortId: queryParam('cohort_id', { required: true }) },
    response: { pick: 'cohortCases', as: 'cases' },
  },
  {
    method: 'GET',
    path: '/integrations/partner/sessions/:id',
    operation: /* GraphQL */ `
      query PartnerCaseSession($id: ID!) {
        caseSession(id: $id) {
          id status caseId caseVersion caseTitle startedAt endedAt durationSeconds totalScore
          subScores { section score }
          flaggedErrors { code severity message }
        }
      }`,
    variables: { id: pathParam('id') },
    response: { pick: 'caseSession', notFound: 'Case session' },
  },
];
