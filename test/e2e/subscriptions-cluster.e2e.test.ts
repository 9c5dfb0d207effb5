import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { identitySubgraph } from '../../subgraphs/identity/index.js';
import { PATIENTS } from '../../prisma/seed-data.js';
import { startCluster, type Cluster, type InstanceCounters } from '../support/cluster.js';
import { postGraphQL } from '../support/platform.js';
import { visitsSubgraph } from '../support/visits-subgraph.js';

/**
 * Many instances (issue 5, item 4): two identity and two visits instances over one database,
 * each instance with its own pubsub, and two gateways — A in front of instance 1 of each
 * subgraph, B in front of instance 2. Redis carries events between instances when REDIS_URL is
 * set; without it the instances share one in-memory pubsub (see test/support/cluster.ts).
 */
let cluster: Cluster;
const clients: Client[] = [];

beforeAll(async () => {
  cluster = await startCluster({ subgraphs: [identitySubgraph, visitsSubgraph], instances: 2 });
}, 120_000);
afterEach(async () => {
  for (const client of clients.splice(0)) await client.dispose();
});
afterAll(async () => {
  await cluster?.close();
});

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;

async function connect(gateway: 0 | 1): Promise<Client> {
  const url = `${cluster.gateways[gateway]?.url.replace(/^http/, 'ws')}/graphql`;
  const token = await cluster.tokenFor('nurse');
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
  clients.push(client);
  return client;
}

/** A subscription's events as a queue the test awaits. */
function subscribe(client: Client, query: string) {
  const events: Result[] = [];
  const waiters: Array<(event: Result) => void> = [];
  const failures: unknown[] = [];
  const unsubscribe = client.subscribe<Record<string, unknown>, unknown>(
    { query },
    {
      next: (event) => {
        const waiter = waiters.shift();
        if (waiter) waiter(event);
        else events.push(event);
      },
      error: (error) => failures.push(error),
      complete: () => undefined,
    },
  );
  return {
    unsubscribe,
    failures,
    next(): Promise<Result> {
      const event = events.shift();
      if (event) return Promise.resolve(event);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no event within 10 s (stream errors: ${JSON.stringify(failures)})`)), 10_000);
        waiters.push((e) => {
          clearTimeout(timer);
          resolve(e);
        });
      });
    },
  };
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every instance's counters, keyed `visits#1`, so one assertion shows the whole picture. */
function snapshot(): Record<string, InstanceCounters> {
  return Object.fromEntries(cluster.instances.map((s) => [`${s.subgraph}#${s.index}`, { ...s.counters }]));
}

/** What each instance did since `before`. */
function since(before: Record<string, InstanceCounters>): Record<string, InstanceCounters> {
  const now = snapshot();
  return Object.fromEntries(
    Object.entries(now).map(([key, counters]) => {
      const base = before[key] as InstanceCounters;
      return [key, {
        entityFetches: counters.entityFetches - base.entityFetches,
        subscriptionsOpened: counters.subscriptionsOpened - base.subscriptionsOpened,
        eventsDelivered: counters.eventsDelivered - base.eventsDelivered,
        mutations: counters.mutations - base.mutations,
      }];
    }),
  );
}

const none: InstanceCounters = { entityFetches: 0, subscriptionsOpened: 0, eventsDelivered: 0, mutations: 0 };

/** Records a visit over HTTP through one gateway; the reply's patient comes from that gateway's identity instance. */
async function recordVisit(gateway: 0 | 1, patientId: string, reason: string): Promise<void> {
  const token = await cluster.tokenFor('nurse');
  const { status, json } = await postGraphQL(
    `${cluster.gateways[gateway]?.url}/graphql`,
    { query: 'mutation($p: ID!, $r: String!) { recordVisit(patientId: $p, reason: $r) { id patient { mrn } } }', variables: { p: patientId, r: reason } },
    { authorization: `Bearer ${token}` },
  );
  expect(status).toBe(200);
  expect(json.errors).toBeUndefined();
}

const VISIT_RECORDED = 'subscription { visitRecorded { reason patient { name mrn } } }';

describe('subscriptions across instances', () => {
  it('delivers to a client on gateway A an event caused through gateway B, resolving Patient per event on A’s side', async () => {
    const before = snapshot();
    const sub = subscribe(await connect(0), VISIT_RECORDED);
    await eventually(() => cluster.instance('visits', 1).counters.subscriptionsOpened === before['visits#1']!.subscriptionsOpened + 1, 'the upstream subscription on visits#1');

    await recordVisit(1, PATIENTS.amaraNorth.id, 'Cross-instance 1');
    expect(await sub.next()).toEqual({ data: { visitRecorded: { reason: 'Cross-instance 1', patient: { name: 'Amara Testwell', mrn: 'MCN-10001' } } } });
    await recordVisit(1, PATIENTS.bayoNorth.id, 'Cross-instance 2');
    expect(await sub.next()).toEqual({ data: { visitRecorded: { reason: 'Cross-instance 2', patient: { name: 'Bayo Samplesson', mrn: 'MCN-10002' } } } });

    // The mutations ran on instance 2 (behind B), whose identity instance resolved their replies;
    // the subscription lived on instance 1 (behind A), which delivered both events, and A fetched
    // each event's Patient from identity#1 — one entity fetch per event.
    expect(since(before)).toEqual({
      'identity#1': { ...none, entityFetches: 2 },
      'visits#1': { ...none, subscriptionsOpened: 1, eventsDelivered: 2 },
      'identity#2': { ...none, entityFetches: 2 },
      'visits#2': { ...none, mutations: 2 },
    });
    expect(sub.failures).toEqual([]);
    sub.unsubscribe();
  });

  it('delivers one event to subscribers on both gateways, each through its own instances', async () => {
    const before = snapshot();
    const onA = subscribe(await connect(0), VISIT_RECORDED);
    const onB = subscribe(await connect(1), VISIT_RECORDED);
    await eventually(
      () => cluster.instance('visits', 1).counters.subscriptionsOpened === before['visits#1']!.subscriptionsOpened + 1
        && cluster.instance('visits', 2).counters.subscriptionsOpened === before['visits#2']!.subscriptionsOpened + 1,
      'an upstream subscription on each visits instance',
    );

    await recordVisit(0, PATIENTS.chidiNorth.id, 'Seen by both');
    const expected = { data: { visitRecorded: { reason: 'Seen by both', patient: { name: 'Chidi Placeholder', mrn: 'MCN-10003' } } } };
    expect(await onA.next()).toEqual(expected);
    expect(await onB.next()).toEqual(expected);

    expect(since(before)).toEqual({
      // identity#1: the mutation's reply (via A) and A's per-event fetch; identity#2: B's per-event fetch.
      'identity#1': { ...none, entityFetches: 2 },
      'visits#1': { ...none, subscriptionsOpened: 1, eventsDelivered: 1, mutations: 1 },
      'identity#2': { ...none, entityFetches: 1 },
      'visits#2': { ...none, subscriptionsOpened: 1, eventsDelivered: 1 },
    });
    onA.unsubscribe();
    onB.unsubscribe();
  });
});
