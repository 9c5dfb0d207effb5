import { randomUUID } from 'node:crypto';
import { GraphQLClient } from 'graphql-request';
import { COHORTS, caseIdFor, ORGS, PATIENTS } from '../../prisma/seed-data.js';
import { cellText, parseCsv } from '../../gateway/src/persisted/rows.js';
import { PersistedOperations } from '../../gateway/src/persisted/manifest.js';
import { rebuildReadModels } from '../../subgraphs/analytics/projections.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { CreateApiKeyDocument, OrganizationMetricsDocument, PartnerCohortAnalyticsDocument } from '../generated/operations.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';
import { launchThrough, northwindLaunchToken } from '../training/support.js';

/**
 * The analytics subgraph end to end: learners work cases in a seeded cohort through the
 * gateway, and the cohort's figures (built from events only) match figures this test computes
 * itself from the sessions it created; a rebuild from the retained events gives the same
 * answer; partners, staff and BI keys read what they may, over GraphQL, REST and BI exports.
 */
let t: TestPlatform;
const cohortId = COHORTS.northwindA.id;
const operations = PersistedOperations.load();

interface Work {
  caseSlug: 'chest-pain-acs' | 'dka' | 'febrile-infant';
  learner?: string;
  investigations?: string[];
  diagnosis?: string;
  plan?: string;
  complete: boolean;
}

// Five learners, six sessions: good, unsafe, middling and weak work-ups, one left open, one learner twice.
const WORK: Work[] = [
  { caseSlug: 'chest-pain-acs', learner: 'repeat-learner', investigations: ['ECG', 'TROPONIN'], diagnosis: 'Acute coronary syndrome (inferior STEMI)', plan: 'Primary PCI, ticagrelor', complete: true },
  { caseSlug: 'chest-pain-acs', diagnosis: 'Gastritis', plan: 'Aspirin and discharge home', complete: true },
  { caseSlug: 'dka', investigations: ['GLUCOSE', 'KETONES', 'VBG'], diagnosis: 'Diabetic ketoacidosis', plan: 'IV fluids and a fixed rate insulin infusion', complete: true },
  { caseSlug: 'dka', investigations: ['GLUCOSE'], diagnosis: 'Gastroenteritis', plan: 'Stop glargine, oral fluids', complete: true },
  { caseSlug: 'febrile-infant', investigations: ['FBC'], complete: false },
  { caseSlug: 'chest-pain-acs', learner: 'repeat-learner', investigations: ['ECG'], diagnosis: 'Myocardial infarction', plan: 'Thrombolysis', complete: true },
];

const learnerSubjects = new Map<string, string>();
const createdSessions: string[] = [];

async function gql<T>(token: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const { json } = await postGraphQL(t.graphqlUrl, { query, variables }, { authorization: `Bearer ${token}` });
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  return json.data as T;
}

async function work(item: Work): Promise<string> {
  const sub = item.learner ? (learnerSubjects.get(item.learner) ?? `lms-${randomUUID()}`) : `lms-${randomUUID()}`;
  if (item.learner) learnerSubjects.set(item.learner, sub);
  const { accessToken, sessionId } = await launchThrough(t.graphqlUrl, await northwindLaunchToken({ sub, case_id: caseIdFor(item.caseSlug) }));
  for (const code of item.investigations ?? []) await gql(accessToken, 'mutation($s: ID!, $c: String!) { orderInvestigation(sessionId: $s, code: $c) { code } }', { s: sessionId, c: code });
  if (item.diagnosis) await gql(accessToken, 'mutation($s: ID!, $d: String!) { submitDiagnosis(sessionId: $s, diagnosis: $d) { id } }', { s: sessionId, d: item.diagnosis });
  if (item.plan) await gql(accessToken, 'mutation($s: ID!, $p: String!) { submitManagement(sessionId: $s, plan: $p) { id } }', { s: sessionId, p: item.plan });
  if (item.complete) await gql(accessToken, 'mutation($s: ID!) { completeSession(sessionId: $s) { id } }', { s: sessionId });
  return sessionId;
}

beforeAll(async () => {
  t = await startTestPlatform();
  for (const item of WORK) createdSessions.push(await work(item));
}, 120_000);
afterAll(async () => {
  await t?.close();
});

// ---------------------------------------------------------------- the test's own arithmetic

interface SessionView {
  id: string;
  learnerId: string;
  caseId: string;
  status: 'ACTIVE' | 'COMPLETED';
  startedAt: string;
  totalScore: number | null;
  subScores: Array<{ section: string; score: number | null }>;
  flaggedErrors: Array<{ code: string; severity: 'SAFETY' | 'CRITICAL' | 'MINOR' }>;
}

const to2 = (x: number): number => Number(x.toFixed(2));
const avg = (xs: number[]): number | null => (xs.length ? to2(xs.reduce((a, b) => a + b, 0) / xs.length) : null);

/** The cohort's figures, computed here from the training subgraph's own view of the sessions. */
function expectedFigures(sessions: SessionView[], enrolled: number) {
  const done = sessions.filter((s) => s.status === 'COMPLETED');
  const totals = done.map((s) => s.totalScore as number).sort((a, b) => a - b);
  const mid = totals.length / 2;
  const median = totals.length === 0 ? null : totals.length % 2 ? (totals[Math.floor(mid)] as number) : to2(((totals[mid - 1] as number) + (totals[mid] as number)) / 2);
  const learnersCompleted = new Set(done.map((s) => s.learnerId)).size;
  const distribution = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90].map((min) => ({
    min, max: min === 90 ? 100 : min + 9, sessions: totals.filter((x) => x >= min && (min === 90 ? x <= 100 : x < min + 10)).length,
  }));
  const caseIds = [...new Set(sessions.map((s) => s.caseId))];
  const cases = caseIds.map((caseId) => ({
    caseId,
    attempts: sessions.filter((s) => s.caseId === caseId).length,
    completed: done.filter((s) => s.caseId === caseId).length,
    meanTotalScore: avg(done.filter((s) => s.caseId === caseId).map((s) => s.totalScore as number)),
  })).sort((a, b) => b.attempts - a.attempts || a.caseId.localeCompare(b.caseId));
  const sections = [...new Set(done.flatMap((s) => s.subScores.map((x) => x.section)))];
  const subScores = sections.map((section) => {
    const scores = done.flatMap((s) => s.subScores.filter((x) => x.section === section && x.score !== null).map((x) => x.score as number));
    return { section, meanScore: avg(scores), sessions: scores.length };
  });
  const rank = { SAFETY: 0, CRITICAL: 1, MINOR: 2 };
  const codes = new Map<string, { severity: 'SAFETY' | 'CRITICAL' | 'MINOR'; sessions: number }>();
  for (const s of done) for (const f of s.flaggedErrors) codes.set(f.code, { severity: f.severity, sessions: (codes.get(f.code)?.sessions ?? 0) + 1 });
  const flaggedErrors = [...codes].map(([code, v]) => ({ code, severity: v.severity, sessions: v.sessions, rate: Number((v.sessions / done.length).toFixed(4)) }))
    .sort((a, b) => rank[a.severity] - rank[b.severity] || b.sessions - a.sessions || a.code.localeCompare(b.code));
  return {
    enrolled,
    started: new Set(sessions.map((s) => s.learnerId)).size,
    completed: learnersCompleted,
    completionRate: enrolled ? Number((learnersCompleted / enrolled).toFixed(4)) : null,
    sessionsStarted: sessions.length,
    sessionsCompleted: done.length,
    meanTotalScore: avg(totals),
    medianTotalScore: median,
    scoreDistribution: distribution,
    cases,
    subScores,
    flaggedErrors: flaggedErrors.slice(0, 10),
  };
}

const SESSIONS = `query($c: ID!) { caseSessions(cohortId: $c) { id learnerId caseId status startedAt totalScore subScores { section score } flaggedErrors { code severity } } }`;

type Figures = Record<string, unknown>;

async function cohortFigures(client: GraphQLClient, variables: { from?: string; to?: string } = {}): Promise<Figures> {
  const { cohortAnalytics } = await client.request(PartnerCohortAnalyticsDocument, { cohortId, ...variables });
  return cohortAnalytics as unknown as Figures;
}

describe('cohort analytics', () => {
  let admin: GraphQLClient;
  let settled: Figures;
  beforeAll(async () => {
    admin = await t.client('admin');
    settled = await until(() => cohortFigures(admin), (f) => f['sessionsCompleted'] === WORK.filter((w) => w.complete).length && f['sessionsStarted'] === WORK.length, 'the analytics projection to catch up');
  });

  it('match the figures computed here from the sessions the test created', async () => {
    const { caseSessions } = await gql<{ caseSessions: SessionView[] }>(await t.tokenFor('admin'), SESSIONS, { c: cohortId });
    expect(caseSessions.map((s) => s.id).sort()).toEqual([...createdSessions].sort());
    // The work-ups differ enough for the figures to mean something.
    expect(new Set(caseSessions.map((s) => s.totalScore)).size).toBeGreaterThanOrEqual(4);
    expect(caseSessions.some((s) => s.flaggedErrors.some((f) => f.severity === 'SAFETY'))).toBe(true);

    const expected = expectedFigures(caseSessions, learnerSubjects.size + WORK.filter((w) => !w.learner).length);
    expect(expected.enrolled).toBe(5);
    expect(expected.completed).toBe(4);
    const { cohortId: id, from, to, ...figures } = settled as Record<string, unknown>;
    expect({ id, from, to }).toEqual({ id: cohortId, from: null, to: null });
    expect(figures).toEqual(expected);
    // Safety errors lead the list, whatever their counts.
    expect((figures['flaggedErrors'] as Array<{ severity: string }>)[0]?.severity).toBe('SAFETY');
  });

  it('rebuilt from the retained events, gives identical figures', async () => {
    const result = await rebuildReadModels(t.platform.database.prisma, createLogger('rebuild-test'));
    expect(result.byArea.training).toBeGreaterThanOrEqual(WORK.length * 2);
    expect(await cohortFigures(admin)).toEqual(settled);
    // The live consumers carry on after the replay: nothing is applied twice.
    const more = await work({ caseSlug: 'dka', complete: false });
    createdSessions.push(more);
    const after = await until(() => cohortFigures(admin), (f) => f['sessionsStarted'] === WORK.length + 1, 'the new session');
    expect(after['enrolled']).toBe((settled['enrolled'] as number) + 1);
    expect(after['sessionsCompleted']).toBe(settled['sessionsCompleted']);
  });

  it('takes a date range: sessions by when they started, enrolment by the end of the range', async () => {
    const future = await cohortFigures(admin, { from: new Date(Date.now() + 86_400_000).toISOString() });
    expect(future).toMatchObject({ sessionsStarted: 0, sessionsCompleted: 0, started: 0, meanTotalScore: null, medianTotalScore: null, cases: [], flaggedErrors: [] });
    expect(future['enrolled']).toBeGreaterThan(0);
    const before = await cohortFigures(admin, { to: '2020-01-01T00:00:00Z' });
    expect(before).toMatchObject({ enrolled: 0, completionRate: null, sessionsStarted: 0 });
    const backwards = await postGraphQL(t.graphqlUrl, { query: operations.require('PartnerCohortAnalytics').body, variables: { cohortId, from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } }, { authorization: `Bearer ${await t.tokenFor('admin')}` });
    expect(errorCodes(backwards.json)).toEqual(['BAD_USER_INPUT']);
  });

  it('joins training’s cohort through the gateway, both ways', async () => {
    const { cohort } = await gql<{ cohort: { name: string; analytics: { enrolled: number } } }>(await t.tokenFor('clinician'), `{ cohort(id: "${cohortId}") { name analytics { enrolled } } }`);
    expect(cohort).toEqual({ name: COHORTS.northwindA.name, analytics: { enrolled: expect.any(Number) } });
    const { cohortAnalytics } = await gql<{ cohortAnalytics: { cohort: { name: string } } }>(await t.tokenFor('partner'), `{ cohortAnalytics(cohortId: "${cohortId}") { cohort { name } } }`);
    expect(cohortAnalytics.cohort.name).toBe(COHORTS.northwindA.name);
  });
});

describe('partners over REST', () => {
  const url = (id: string, query = ''): string => `${t.baseUrl}/integrations/partner/cohorts/${id}/analytics${query}`;

  it('answers the partner’s own cohort as GraphQL does, and no one else’s', async () => {
    const headers = { authorization: `Bearer ${await t.tokenFor('partner')}` };
    const rest = await fetch(url(cohortId), { headers });
    expect(rest.status).toBe(200);
    expect(rest.headers.get('cache-control')).toBe('no-store');
    const { cohortAnalytics } = await (await t.client('partner')).request(PartnerCohortAnalyticsDocument, { cohortId });
    expect(await rest.json()).toEqual(cohortAnalytics);

    const ranged = (await (await fetch(url(cohortId, '?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z'), { headers })).json()) as { sessionsStarted: number; from: string };
    expect(ranged).toMatchObject({ sessionsStarted: 0, from: '2020-01-01T00:00:00.000Z' });

    const otherPartner = await fetch(url(cohortId), { headers: { authorization: `Bearer ${await t.tokenFor('otherPartner')}` } });
    expect(otherPartner.status).toBe(403);
    expect((await fetch(url(COHORTS.southbank.id), { headers })).status).toBe(403);
    expect((await fetch(url('00000000-0000-4000-8000-00000000beef'), { headers })).status).toBe(404);
    expect((await fetch(url(cohortId, '?from=yesterday'), { headers })).status).toBe(400);
    expect((await fetch(url(cohortId))).status).toBe(401);
  });
});

async function createKey(admin: 'admin' | 'hospitalAdmin'): Promise<string> {
  const client = await t.client(admin);
  const { createApiKey } = await client.request(CreateApiKeyDocument, { input: { name: `analytics-bi-${randomUUID()}`, role: 'BI' } });
  return createApiKey.key;
}
const byId = (name: string, variables: Record<string, unknown>) => ({ operationName: name, variables, extensions: { persistedQuery: { version: 1, sha256Hash: operations.require(name).id } } });
const post = async (body: Record<string, unknown>, key: string) => {
  const response = await fetch(t.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify(body) });
  return { status: response.status, cache: response.headers.get('caregraph-cache'), json: (await response.json()) as { data?: Record<string, unknown>; errors?: Array<{ extensions?: Record<string, unknown> }> } };
};

describe('BI access', () => {
  it('runs the cohort figures by id (text refused), and the CSV parses back to the same rows', async () => {
    const key = await createKey('admin');
    const variables = { organizationId: ORGS.clinicNorth.id };
    const { status, json } = await post(byId('BiCohortFigures', variables), key);
    expect(status).toBe(200);
    expect(json.errors).toBeUndefined();
    const rows = json.data?.['organizationCohortAnalytics'] as Array<{ cohortId: string; cohort: { name: string }; sessionsStarted: number }>;
    expect(rows.map((r) => r.cohortId).sort()).toEqual([COHORTS.northwindA.id, COHORTS.southbank.id].sort());
    expect(rows.find((r) => r.cohortId === cohortId)?.sessionsStarted).toBeGreaterThanOrEqual(WORK.length);
    expect(rows.find((r) => r.cohortId === COHORTS.southbank.id)?.cohort.name).toBe(COHORTS.southbank.name);

    const asText = await post({ query: operations.require('BiCohortFigures').body, variables }, key);
    expect(asText.status).toBe(403);
    expect(errorCodes(asText.json)).toEqual(['OPERATION_NOT_ALLOWED']);

    const exported = (await (await fetch(`${t.baseUrl}/bi/BiCohortFigures.json?organizationId=${ORGS.clinicNorth.id}`, { headers: { 'x-api-key': key } })).json()) as Array<Record<string, unknown>>;
    const csv = await fetch(`${t.baseUrl}/bi/BiCohortFigures.csv?organizationId=${ORGS.clinicNorth.id}`, { headers: { 'x-api-key': key } });
    expect(csv.status).toBe(200);
    const [header, ...records] = parseCsv(await csv.text());
    expect(header?.slice(0, 4)).toEqual(['cohortId', 'cohort.name', 'enrolled', 'started']);
    expect(records).toEqual(exported.map((row) => (header ?? []).map((column) => cellText(row[column]))));
    expect(exported.map((row) => row['cohortId'])).toEqual(rows.map((r) => r.cohortId));
  });

  it('sees its own organization only', async () => {
    const hospitalKey = await createKey('hospitalAdmin');
    const foreign = await post(byId('BiCohortFigures', { organizationId: ORGS.clinicNorth.id }), hospitalKey);
    expect(errorCodes(foreign.json)).toEqual(['FORBIDDEN']);
    const own = await post(byId('BiCohortFigures', { organizationId: ORGS.hospital.id }), hospitalKey);
    expect(own.json.data?.['organizationCohortAnalytics']).toEqual([]);
  });
});

describe('organization metrics', () => {
  it('counts the nurse queue and training activity from their events', async () => {
    const nurse = await t.tokenFor('nurse');
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const created: string[] = [];
    for (const urgency of ['HIGH', 'LOW', 'CRITICAL']) {
      const { createQueueEntry } = await gql<{ createQueueEntry: { id: string } }>(nurse, 'mutation($i: ManualQueueEntryInput!) { createQueueEntry(input: $i) { id } }', {
        i: { patientId: PATIENTS.bayoNorth.id, urgency, reason: 'analytics test entry' },
      });
      created.push(createQueueEntry.id);
    }
    const [high, , critical] = created as [string, string, string];
    const claimed = await gql<{ claimQueueEntry: { version: number } }>(nurse, 'mutation($id: ID!) { claimQueueEntry(id: $id) { version } }', { id: high });
    await gql(nurse, 'mutation($id: ID!, $v: Int!) { actOnQueueEntry(id: $id, action: APPROVE, expectedVersion: $v) { id } }', { id: high, v: claimed.claimQueueEntry.version });
    await gql(nurse, 'mutation($id: ID!) { actOnQueueEntry(id: $id, action: ESCALATE, reason: "worse", expectedVersion: 1) { id } }', { id: critical });

    const to = new Date(Date.now() + 3_600_000).toISOString();
    const admin = await t.client('admin');
    const metrics = await until(
      async () => (await admin.request(OrganizationMetricsDocument, { organizationId: ORGS.clinicNorth.id, from, to })).organizationMetrics,
      (m) => m.nurseQueue.entries === 3 && m.nurseQueue.pickedUp === 2 && m.nurseQueue.closed === 1,
      'the queue figures',
    );
    // Waits from the nurse subgraph's own record of each entry and its first action.
    const entries = await Promise.all(created.map((id) => gql<{ queueEntry: { createdAt: string; actions: Array<{ at: string }> } }>(nurse, `{ queueEntry(id: "${id}") { createdAt actions { at } } }`)));
    const waits = entries.flatMap(({ queueEntry: e }) => (e.actions[0] ? [Math.round((Date.parse(e.actions[0].at) - Date.parse(e.createdAt)) / 1000)] : [])).sort((a, b) => a - b);
    expect(metrics.nurseQueue).toMatchObject({
      entries: 3, pickedUp: 2, closed: 1, escalated: 1, stillOpen: 2,
      byUrgency: [{ urgency: 'CRITICAL', entries: 1 }, { urgency: 'HIGH', entries: 1 }, { urgency: 'LOW', entries: 1 }],
      bySource: [{ source: 'MANUAL', entries: 3 }],
      medianWaitSeconds: Math.round(((waits[0] as number) + (waits[1] as number)) / 2),
      p90WaitSeconds: waits[1],
      slaBreaches: 0,
      slaBreachRate: 0,
    });
    const { caseSessions } = await gql<{ caseSessions: SessionView[] }>(await t.tokenFor('admin'), SESSIONS, { c: cohortId });
    const done = caseSessions.filter((s) => s.status === 'COMPLETED');
    expect(metrics.training).toEqual({
      sessionsStarted: caseSessions.length,
      sessionsCompleted: done.length,
      activeLearners: new Set(caseSessions.map((s) => s.learnerId)).size,
      meanTotalScore: avg(done.map((s) => s.totalScore as number)),
      sessionsWithSafetyErrors: done.filter((s) => s.flaggedErrors.some((f) => f.severity === 'SAFETY')).length,
    });
    expect(metrics.billing).toEqual({ paymentsSucceeded: 0, collected: [], refundsIssued: 0, refunded: [], net: [] });
  });

  it('is for the organization’s admins and BI only, over a bounded window', async () => {
    const query = operations.require('OrganizationMetrics').body;
    const variables = { organizationId: ORGS.clinicNorth.id, from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' };
    const as = async (user: 'nurse' | 'hospitalAdmin' | 'admin', vars = variables) => errorCodes((await postGraphQL(t.graphqlUrl, { query, variables: vars }, { authorization: `Bearer ${await t.tokenFor(user)}` })).json);
    expect(await as('nurse')).toEqual(['FORBIDDEN']);
    expect(await as('hospitalAdmin')).toEqual(['FORBIDDEN']);
    expect(await as('admin')).toEqual([]);
    expect(await as('admin', { ...variables, to: '2028-01-01T00:00:00Z' })).toEqual(['BAD_USER_INPUT']);
  });
});

describe('cached BI figures', () => {
  it('gets cached organization metrics until analytics announces that the figures changed', async () => {
    const key = await createKey('admin');
    const variables = { organizationId: ORGS.clinicNorth.id, from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };
    const entriesOf = (json: { data?: Record<string, unknown> }): number => (json.data?.['organizationMetrics'] as { nurseQueue: { entries: number } }).nurseQueue.entries;
    // Events of the tests before this one may still be on their way (each one drops the entry):
    // ask twice until the second answer comes from the cache.
    const [first, second] = await until(
      async () => [await post(byId('BiOrganizationMetrics', variables), key), await post(byId('BiOrganizationMetrics', variables), key)] as const,
      ([, again]) => again.cache === 'hit',
      'a cached answer once earlier events have settled',
    );
    expect(first.json.errors).toBeUndefined();
    expect(second.cache).toBe('hit');
    expect(second.json).toEqual(first.json);

    // A nurse's new queue entry → nurse.queue.changed → the analytics projection → analytics.figures.updated → the gateway drops the entry.
    await gql(await t.tokenFor('nurse'), 'mutation($i: ManualQueueEntryInput!) { createQueueEntry(input: $i) { id } }', { i: { patientId: PATIENTS.amaraNorth.id, urgency: 'MEDIUM', reason: 'cache invalidation check' } });
    const fresh = await until(() => post(byId('BiOrganizationMetrics', variables), key), (r) => r.cache === 'miss' && entriesOf(r.json) === entriesOf(first.json) + 1, 'the cached metrics to be invalidated');
    expect(fresh.json.errors).toBeUndefined();
  });
});
