import { ORGS, PATIENTS, USERS } from '../../prisma/seed-data.js';
import { URGENCY_RANK } from '../../subgraphs/nurse/service.js';
import { entitiesQuery, runAgainstSubgraph, runThroughGateway, type Caller, type MatrixCase } from '../support/authz-matrix.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Every role against every root field of the chat and nurse subgraphs and their entity
 * lookups, including another organization's and another patient's records, and every
 * mutation that names another organization's record: refused, with nothing written.
 */
let t: TestPlatform;
let northEntry = '';
let hospitalEntry = '';
let amaraChat = '';
let bayoChat = '';
let hospitalChat = '';

beforeAll(async () => {
  t = await startTestPlatform();
  const prisma = t.platform.database.prisma;
  const entry = (organizationId: string, patientId: string) =>
    prisma.queueEntry.create({ data: { organizationId, patientId, source: 'MANUAL', urgency: 'HIGH', urgencyRank: URGENCY_RANK.HIGH, reason: 'matrix', slaDueAt: new Date(Date.now() + 900_000) } });
  northEntry = (await entry(ORGS.clinicNorth.id, PATIENTS.bayoNorth.id)).id;
  hospitalEntry = (await entry(ORGS.hospital.id, PATIENTS.fayeHospital.id)).id;
  const chat = (organizationId: string, patientId: string) => prisma.chatSession.create({ data: { organizationId, patientId, startedById: USERS.nurse.id } });
  amaraChat = (await chat(ORGS.clinicNorth.id, PATIENTS.amaraNorth.id)).id;
  bayoChat = (await chat(ORGS.clinicNorth.id, PATIENTS.bayoNorth.id)).id;
  hospitalChat = (await chat(ORGS.hospital.id, PATIENTS.fayeHospital.id)).id;
});
afterAll(async () => {
  await t?.close();
});

const QUEUE: Caller[] = ['NURSE', 'CLINICIAN'];
const UNKNOWN = '00000000-0000-4000-8000-00000000f00d';

const ROOT: MatrixCase[] = [
  { name: 'Query.nurseQueue', query: () => '{ nurseQueue { edges { node { id } } } }', allowed: QUEUE },
  { name: 'Query.queueEntry (own organization)', query: () => `{ queueEntry(id: "${northEntry}") { id } }`, allowed: QUEUE },
  { name: 'Query.queueEntry (another organization)', query: () => `{ queueEntry(id: "${hospitalEntry}") { id } }`, allowed: [] },
  { name: 'Query.nurseDashboard', query: () => `{ nurseDashboard(organizationId: "${ORGS.clinicNorth.id}") { slaBreaches } }`, allowed: [...QUEUE, 'ADMIN'] },
  { name: 'Mutation.createQueueEntry', query: () => `mutation { createQueueEntry(input: {patientId: "${PATIENTS.bayoNorth.id}", urgency: LOW, reason: "matrix check"}) { id } }`, allowed: QUEUE },
  { name: 'Mutation.claimQueueEntry (unknown)', query: () => `mutation { claimQueueEntry(id: "${UNKNOWN}") { id } }`, allowed: QUEUE, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.releaseQueueEntry (unknown)', query: () => `mutation { releaseQueueEntry(id: "${UNKNOWN}") { id } }`, allowed: QUEUE, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.actOnQueueEntry (unknown)', query: () => `mutation { actOnQueueEntry(id: "${UNKNOWN}", action: APPROVE, expectedVersion: 1) { id } }`, allowed: QUEUE, allowedCode: 'NOT_FOUND' },
  { name: 'Query.chatSession (own chat / organization)', query: () => `{ chatSession(id: "${amaraChat}") { id } }`, allowed: ['PATIENT', ...QUEUE] },
  { name: 'Query.chatSession (another patient)', query: () => `{ chatSession(id: "${bayoChat}") { id } }`, allowed: QUEUE },
  { name: 'Query.chatSession (another organization)', query: () => `{ chatSession(id: "${hospitalChat}") { id } }`, allowed: [] },
  { name: 'Query.chatHistory (own chat / organization)', query: () => `{ chatHistory(sessionId: "${amaraChat}") { id } }`, allowed: ['PATIENT', ...QUEUE] },
  // Staff may start chats, but for a patient: without patientId theirs is a BAD_USER_INPUT.
  { name: 'Mutation.startChat (for oneself)', query: () => 'mutation { startChat { id } }', allowed: ['PATIENT', ...QUEUE], outcomes: { NURSE: 'BAD_USER_INPUT', CLINICIAN: 'BAD_USER_INPUT' } },
  // A patient naming another patient is refused by the service (FORBIDDEN), like everyone outside the staff.
  { name: 'Mutation.startChat (for a patient)', query: () => `mutation { startChat(patientId: "${PATIENTS.bayoNorth.id}") { id } }`, allowed: QUEUE },
  { name: 'Mutation.joinChat', query: () => `mutation { joinChat(sessionId: "${bayoChat}") { id } }`, allowed: QUEUE },
];

/** Mutations naming a record of another organization (or none at all): refused by everyone, and nothing may be written. */
const CROSS_ORGANIZATION: MatrixCase[] = [
  // A patient naming any patient but themself is refused as before; staff by the directory.
  { name: 'Mutation.startChat (another organization’s patient)', query: () => `mutation { startChat(patientId: "${PATIENTS.fayeHospital.id}") { id } }`, allowed: [] },
  { name: 'Mutation.startChat (unknown patient)', query: () => `mutation { startChat(patientId: "${UNKNOWN}") { id } }`, allowed: QUEUE, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.createQueueEntry (another organization’s patient)', query: () => `mutation { createQueueEntry(input: {patientId: "${PATIENTS.fayeHospital.id}", urgency: LOW, reason: "matrix check"}) { id } }`, allowed: [] },
  { name: 'Mutation.createQueueEntry (unknown patient)', query: () => `mutation { createQueueEntry(input: {patientId: "${UNKNOWN}", urgency: LOW, reason: "matrix check"}) { id } }`, allowed: QUEUE, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.claimQueueEntry (another organization)', query: () => `mutation { claimQueueEntry(id: "${hospitalEntry}") { id } }`, allowed: [] },
  { name: 'Mutation.releaseQueueEntry (another organization)', query: () => `mutation { releaseQueueEntry(id: "${hospitalEntry}") { id } }`, allowed: [] },
  { name: 'Mutation.actOnQueueEntry (another organization)', query: () => `mutation { actOnQueueEntry(id: "${hospitalEntry}", action: ESCALATE, reason: "matrix", expectedVersion: 1) { id } }`, allowed: [] },
  { name: 'Mutation.joinChat (another organization)', query: () => `mutation { joinChat(sessionId: "${hospitalChat}") { id } }`, allowed: [] },
  { name: 'Mutation.sendChatMessage (another organization)', query: () => `mutation { sendChatMessage(sessionId: "${hospitalChat}", text: "matrix") { message { id } } }`, allowed: [] },
];

/** Everything the cross-organization mutations could have written. */
async function writtenRows(): Promise<Record<string, unknown>> {
  const prisma = t.platform.database.prisma;
  return {
    chatSessions: await prisma.chatSession.count(),
    chatMessages: await prisma.chatMessage.count(),
    chatParticipants: await prisma.chatParticipant.count(),
    queueEntries: await prisma.queueEntry.count(),
    nurseActions: await prisma.nurseAction.count(),
    hospitalEntry: await prisma.queueEntry.findUniqueOrThrow({ where: { id: hospitalEntry }, select: { status: true, version: true, assignedNurseId: true } }),
    events: await prisma.outboxEvent.count({ where: { source: { in: ['chat', 'nurse'] } } }),
  };
}

const NURSE_ENTITIES: MatrixCase[] = [
  { name: '_entities QueueEntry (own organization)', query: () => entitiesQuery('QueueEntry', northEntry, 'reason'), allowed: QUEUE },
  { name: '_entities QueueEntry (another organization)', query: () => entitiesQuery('QueueEntry', hospitalEntry, 'reason'), allowed: [] },
  { name: '_entities Patient.queueEntries', query: () => entitiesQuery('Patient', PATIENTS.bayoNorth.id, 'queueEntries { id }'), allowed: QUEUE },
];
const CHAT_ENTITIES: MatrixCase[] = [
  { name: '_entities ChatSession (own chat / organization)', query: () => entitiesQuery('ChatSession', amaraChat, 'organizationId'), allowed: ['PATIENT', ...QUEUE] },
  { name: '_entities ChatSession (another organization)', query: () => entitiesQuery('ChatSession', hospitalChat, 'organizationId'), allowed: [] },
  { name: '_entities Patient.chatSessions (own record / organization)', query: () => entitiesQuery('Patient', PATIENTS.amaraNorth.id, 'chatSessions { id }'), allowed: ['PATIENT', ...QUEUE] },
  { name: '_entities Patient.chatSessions (another patient)', query: () => entitiesQuery('Patient', PATIENTS.bayoNorth.id, 'chatSessions { id }'), allowed: QUEUE },
];

describe('chat and nurse authorization matrix', () => {
  it('root fields through the gateway', async () => {
    expect(await runThroughGateway(t, ROOT)).toEqual([]);
  });
  it('mutations naming another organization’s records: refused, nothing written', async () => {
    const before = await writtenRows();
    expect(await runThroughGateway(t, CROSS_ORGANIZATION)).toEqual([]);
    expect(await writtenRows()).toEqual(before);
  });
  it('nurse entity lookups', async () => {
    expect(await runAgainstSubgraph(t, 'nurse', NURSE_ENTITIES)).toEqual([]);
  });
  it('chat entity lookups', async () => {
    expect(await runAgainstSubgraph(t, 'chat', CHAT_ENTITIES)).toEqual([]);
  });
});
