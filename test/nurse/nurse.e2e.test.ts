import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { ORGS, PATIENTS, USERS } from '../../prisma/seed-data.js';
import { directoryConsumerName } from '../../subgraphs/kit/directory.js';
import { ChatEvents } from '../../subgraphs/kit/events/chat.js';
import { IdentityEvents } from '../../subgraphs/kit/events/identity.js';
import { recordEvent } from '../../subgraphs/kit/outbox.js';
import { redFlagConsumer } from '../../subgraphs/nurse/service.js';
import { connectWs, subscribeWs } from '../support/graphql-ws.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { subscribed, until } from '../support/wait.js';

/**
 * The nurse queue through the gateway: a red flag raised in chat (its outbox event) becomes a
 * critical entry once, a subscribed nurse sees it with the patient's name from identity,
 * acts on it, and a second nurse's stale action is a CONFLICT.
 */
let t: TestPlatform;
const sockets: Client[] = [];
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  for (const socket of sockets) await socket.dispose();
  await t?.close();
});

const as = async (user: keyof typeof USERS): Promise<Record<string, string>> => ({ authorization: `Bearer ${await t.tokenFor(user)}` });

async function raiseRedFlag(patientId: string, codes: Array<{ code: string; urgency: 'critical' | 'high' }>, organizationId: string = ORGS.clinicNorth.id): Promise<string> {
  const event = await t.platform.database.prisma.$transaction((tx) =>
    recordEvent(tx, ChatEvents.redFlagRaised, {
      aggregateId: 'session-under-test',
      organizationId,
      payload: { sessionId: 'session-under-test', messageId: 'message-under-test', patientId, organizationId, flags: codes },
    }),
  );
  return event.id;
}

/** How the red-flag consumer dealt with an event, once it has: its skip reason (null: processed). */
async function consumption(eventId: string): Promise<{ skippedReason: string | null }> {
  const prisma = t.platform.database.prisma;
  const row = await until(() => prisma.eventConsumption.findUnique({ where: { consumer_eventId: { consumer: redFlagConsumer.name, eventId } } }), (found) => found !== null, 'the red flag to be consumed');
  return { skippedReason: row?.skippedReason ?? null };
}

describe('the nurse queue', () => {
  it('turns a chat red flag into one critical entry a subscribed nurse sees with the patient’s name, then resolves a race with CONFLICT', async () => {
    const socket = connectWs(t.graphqlUrl, await as('nurse'));
    sockets.push(socket);
    const updates = await subscribed(t.platform.deps.pubsub, 'events:nurse.queue.changed', () =>
      subscribeWs(socket, 'subscription { queueUpdated { kind entry { id urgency reason redFlagCodes status version patient { name mrn } } } }'));

    const eventId = await raiseRedFlag(PATIENTS.bayoNorth.id, [{ code: 'CHEST_PAIN', urgency: 'critical' }]);
    const added = (await updates.next()).data?.['queueUpdated'] as { kind: string; entry: { id: string; urgency: string; reason: string; version: number; patient: { name: string; mrn: string } } };
    expect(added.kind).toBe('ADDED');
    expect(added.entry).toMatchObject({ urgency: 'CRITICAL', reason: 'Red flag in chat: CHEST_PAIN', version: 1, patient: { name: 'Bayo Samplesson', mrn: 'MCN-10002' } });

    // Delivered again (the consumption record lost, say): still one entry.
    const prisma = t.platform.database.prisma;
    await prisma.eventConsumption.deleteMany({ where: { eventId } });
    await until(() => prisma.eventConsumption.count({ where: { eventId } }), (n) => n === 1, 'the event to be consumed again');
    expect(await prisma.queueEntry.count({ where: { sourceEventId: eventId } })).toBe(1);

    const ACT = 'mutation($id: ID!, $v: Int!) { actOnQueueEntry(id: $id, action: ESCALATE, reason: "needs a doctor now", expectedVersion: $v) { status version urgency } }';
    const escalated = await postGraphQL(t.graphqlUrl, { query: ACT, variables: { id: added.entry.id, v: 1 } }, await as('nurse'));
    expect(escalated.json.data).toEqual({ actOnQueueEntry: { status: 'ESCALATED', version: 2, urgency: 'CRITICAL' } });
    const changed = (await updates.next()).data?.['queueUpdated'] as { kind: string; entry: { status: string; version: number } };
    expect(changed).toMatchObject({ kind: 'CHANGED', entry: { status: 'ESCALATED', version: 2 } });

    const stale = await postGraphQL(t.graphqlUrl, { query: 'mutation($id: ID!) { actOnQueueEntry(id: $id, action: APPROVE, expectedVersion: 1) { status } }', variables: { id: added.entry.id } }, await as('clinician'));
    expect(errorCodes(stale.json)).toEqual(['CONFLICT']);
    const entry = await prisma.queueEntry.findUniqueOrThrow({ where: { id: added.entry.id } });
    expect(entry).toMatchObject({ status: 'ESCALATED', version: 2 });
    const actions = await prisma.nurseAction.findMany({ where: { entryId: added.entry.id } });
    expect(actions.map((a) => [a.action, a.nurseId, a.reason])).toEqual([['ESCALATE', USERS.nurse.id, 'needs a doctor now']]);
  });

  it('orders by urgency then waiting time, pages with a cursor, and filters', async () => {
    const create = async (urgency: string, reason: string): Promise<string> => {
      const { json } = await postGraphQL(t.graphqlUrl, { query: `mutation { createQueueEntry(input: {patientId: "${PATIENTS.amaraNorth.id}", urgency: ${urgency}, reason: "${reason}"}) { id } }` }, await as('clinician'));
      return (json.data?.['createQueueEntry'] as { id: string }).id;
    };
    const low = await create('LOW', 'routine review');
    const high1 = await create('HIGH', 'first high');
    const medium = await create('MEDIUM', 'medium one');
    const high2 = await create('HIGH', 'second high');
    const QUEUE = 'query($after: String, $filter: QueueFilter) { nurseQueue(first: 2, after: $after, filter: $filter) { edges { node { id urgency } } pageInfo { hasNextPage endCursor } } }';
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await postGraphQL(t.graphqlUrl, { query: QUEUE, variables: { after, filter: { urgency: ['HIGH', 'MEDIUM', 'LOW'] } } }, await as('nurse'));
      const connection = page.json.data?.['nurseQueue'] as { edges: Array<{ node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string } };
      ids.push(...connection.edges.map((e) => e.node.id));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(ids).toEqual([high1, high2, medium, low]);
    const redOnly = await postGraphQL(t.graphqlUrl, { query: '{ nurseQueue(filter: {hasRedFlags: true}) { edges { node { redFlagCodes } } } }' }, await as('nurse'));
    const edges = (redOnly.json.data?.['nurseQueue'] as { edges: Array<{ node: { redFlagCodes: string[] } }> }).edges;
    expect(edges.length).toBeGreaterThan(0);
    expect(edges.every((e) => e.node.redFlagCodes.length > 0)).toBe(true);
  });

  it('skips a malformed red flag, and one naming another organization’s patient, recording why and adding no entry', async () => {
    const prisma = t.platform.database.prisma;
    // Written around recordEvent, which would refuse it: no flags, no patient.
    const malformed = await prisma.$transaction((tx) =>
      tx.outboxEvent.create({
        data: { source: 'chat', type: ChatEvents.redFlagRaised.type, version: ChatEvents.redFlagRaised.version, aggregateId: 'session-under-test', organizationId: ORGS.clinicNorth.id, payload: { sessionId: 'session-under-test', messageId: 'message-under-test', organizationId: ORGS.clinicNorth.id, flags: [] } },
      }),
    );
    expect((await consumption(malformed.id)).skippedReason).toMatch(/patientId|flags/);
    expect(await prisma.queueEntry.count({ where: { sourceEventId: malformed.id } })).toBe(0);

    // A Clinic South patient (as identity announces one) in a red flag that says Clinic North.
    const patientId = randomUUID();
    const registered = await prisma.$transaction((tx) => recordEvent(tx, IdentityEvents.patientRegistered, { aggregateId: patientId, organizationId: ORGS.clinicSouth.id, payload: { patientId, organizationId: ORGS.clinicSouth.id } }));
    await until(() => prisma.eventConsumption.count({ where: { consumer: directoryConsumerName('nurse'), eventId: registered.id } }), (n) => n === 1, 'the nurse directory to learn of the patient');
    const crossTenant = await raiseRedFlag(patientId, [{ code: 'CHEST_PAIN', urgency: 'critical' }]);
    expect((await consumption(crossTenant)).skippedReason).toMatch(/another organization/);
    expect(await prisma.queueEntry.count({ where: { sourceEventId: crossTenant } })).toBe(0);

    // The same patient in their own organization's red flag is an entry as usual.
    const own = await raiseRedFlag(patientId, [{ code: 'CHEST_PAIN', urgency: 'critical' }], ORGS.clinicSouth.id);
    expect((await consumption(own)).skippedReason).toBeNull();
    expect(await prisma.queueEntry.findUniqueOrThrow({ where: { sourceEventId: own } })).toMatchObject({ organizationId: ORGS.clinicSouth.id, patientId, urgency: 'CRITICAL' });
  });

  it('shows the queue to the organization’s nurses and clinicians only', async () => {
    for (const user of ['patient', 'learner', 'billing', 'partner', 'bi', 'admin', 'pharmacist'] as const) {
      const { json } = await postGraphQL(t.graphqlUrl, { query: '{ nurseQueue { edges { node { id } } } }' }, await as(user));
      expect([user, errorCodes(json)]).toEqual([user, ['FORBIDDEN']]);
    }
    const anonymous = await postGraphQL(t.graphqlUrl, { query: '{ nurseQueue { edges { node { id } } } }' });
    expect(errorCodes(anonymous.json)).toEqual(['UNAUTHENTICATED']);
    const northEntry = await t.platform.database.prisma.queueEntry.findFirstOrThrow({ where: { organizationId: ORGS.clinicNorth.id } });
    const crossOrg = await postGraphQL(t.graphqlUrl, { query: `{ queueEntry(id: "${northEntry.id}") { id } }` }, await as('hospitalNurse'));
    expect(errorCodes(crossOrg.json)).toEqual(['FORBIDDEN']);
    const hospitalQueue = await postGraphQL(t.graphqlUrl, { query: '{ nurseQueue { edges { node { id } } } }' }, await as('hospitalNurse'));
    expect(hospitalQueue.json.data).toEqual({ nurseQueue: { edges: [] } });
    const otherOrgFilter = await postGraphQL(t.graphqlUrl, { query: `{ nurseQueue(filter: {organizationId: "${ORGS.clinicNorth.id}"}) { edges { node { id } } } }` }, await as('hospitalNurse'));
    expect(errorCodes(otherOrgFilter.json)).toEqual(['FORBIDDEN']);
  });

  it('joins the queue onto the patient, and reports the dashboard', async () => {
    const joined = await postGraphQL(t.graphqlUrl, { query: `{ patient(id: "${PATIENTS.bayoNorth.id}") { name queueEntries { urgency status } } }` }, await as('nurse'));
    expect(joined.json.data).toEqual({ patient: { name: 'Bayo Samplesson', queueEntries: [{ urgency: 'CRITICAL', status: 'ESCALATED' }] } });

    const board = await postGraphQL(t.graphqlUrl, { query: `{ nurseDashboard(organizationId: "${ORGS.clinicNorth.id}") { byUrgency { urgency count } byStatus { status count } medianWaitSeconds p90WaitSeconds slaBreaches actionsPerNurse { nurse { id } actions } } }` }, await as('admin'));
    expect(board.json.errors).toBeUndefined();
    const data = board.json.data?.['nurseDashboard'] as { byUrgency: Array<{ urgency: string; count: number }>; byStatus: Array<{ status: string; count: number }>; medianWaitSeconds: number; actionsPerNurse: Array<{ nurse: { id: string }; actions: number }> };
    const entries = await t.platform.database.prisma.queueEntry.findMany({ where: { organizationId: ORGS.clinicNorth.id } });
    for (const urgency of ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW']) {
      expect(data.byUrgency.find((u) => u.urgency === urgency)?.count).toBe(entries.filter((e) => e.urgency === urgency).length);
    }
    expect(data.byStatus.find((s) => s.status === 'ESCALATED')?.count).toBe(1);
    expect(data.actionsPerNurse).toEqual([{ nurse: { id: USERS.nurse.id }, actions: 1 }]);
    expect(data.medianWaitSeconds).toBeGreaterThanOrEqual(0);
    const patientBoard = await postGraphQL(t.graphqlUrl, { query: `{ nurseDashboard(organizationId: "${ORGS.clinicNorth.id}") { slaBreaches } }` }, await as('patient'));
    expect(errorCodes(patientBoard.json)).toEqual(['FORBIDDEN']);
  });

  // Last: its action would count in the dashboard above.
  it('two nurses claiming the same entry at once: one gets it, the other a CONFLICT, one action recorded', async () => {
    const created = await postGraphQL(t.graphqlUrl, { query: `mutation { createQueueEntry(input: {patientId: "${PATIENTS.chidiNorth.id}", urgency: MEDIUM, reason: "race check"}) { id } }` }, await as('nurse'));
    const id = (created.json.data?.['createQueueEntry'] as { id: string }).id;
    const claim = async (user: 'nurse' | 'clinician') => postGraphQL(t.graphqlUrl, { query: `mutation { claimQueueEntry(id: "${id}") { status version } }` }, await as(user));
    const results = await Promise.all([claim('nurse'), claim('clinician')]);
    const outcomes = results.map((r) => (r.json.data?.['claimQueueEntry'] ? 'OK' : errorCodes(r.json)[0])).sort();
    expect(outcomes).toEqual(['CONFLICT', 'OK']);
    const prisma = t.platform.database.prisma;
    expect(await prisma.queueEntry.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'IN_REVIEW', version: 2 });
    expect(await prisma.nurseAction.count({ where: { entryId: id } })).toBe(1);
  });
});
