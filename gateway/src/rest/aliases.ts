import { defaultPersistedOperations } from '../persisted/manifest.js';
import { pathParam, queryParam, type RestAlias } from './alias.js';

/** An operation's text from schema/persisted-queries.json (written from schema/operations/partner/). */
const persisted = (name: string): string => defaultPersistedOperations().require(name).body;

/**
 * The gateway's REST aliases, for partner platforms that integrate over plain HTTP. Each
 * runs a GraphQL operation as the caller, so the training subgraph's rules (a partner sees
 * only its own cohorts and their sessions) apply exactly as over /graphql. The operations are
 * manifest operations (schema/operations/partner/), run by id, so partners held to the
 * safelist can use them. Adding one is an operation there and a row here.
 */
export const REST_ALIASES: readonly RestAlias[] = [
  {
    method: 'GET',
    path: '/integrations/partner/cases',
    operation: persisted('PartnerCohortCases'),
    variables: { cohortId: queryParam('cohort_id', { required: true }) },
    response: { pick: 'cohortCases', as: 'cases' },
  },
  {
    method: 'GET',
    path: '/integrations/partner/sessions/:id',
    operation: persisted('PartnerCaseSession'),
    variables: { id: pathParam('id') },
    response: { pick: 'caseSession', notFound: 'Case session' },
  },
  {
    method: 'GET',
    path: '/integrations/partner/cohorts/:id/analytics',
    operation: persisted('PartnerCohortAnalytics'),
    variables: { cohortId: pathParam('id'), from: queryParam('from'), to: queryParam('to') },
    response: { pick: 'cohortAnalytics' },
  },
];
