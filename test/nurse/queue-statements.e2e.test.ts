import { randomUUID } from 'node:crypto';
import { ORGS, USERS } from '../../prisma/seed-data.js';
import { URGENCY_RANK } from '../../subgraphs/nurse/service.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * No N+1 across the supergraph: the nurse queue with 10 and with 500 entries, each with its
 * patient (identity) and the patient's chats with their last message (chat), costs the same
 * number of SQL statements. Counted are the statements that touch domain data and the audit
 * trail (background relays poll the outbox meanwhile; those are not the request's).
 */
let t: TestPlatform;
const ENTRIES = 500;

beforeAll(async () => {
  t = await startTestPlatform({ countStatements: true });
  const prisma = t.platform.database.prisma;
  const patients = Array.from({ length: ENTRIES }, (_, i) => ({
    id: randomUUID(), organizationId: ORGS.clinicNorth.id, mrn: `NPLUS-${String(i).padStart(4, '0')}`, givenName: 'Load', familyName: `Tester${i}`, birthDate: new Date('1970-01-01T00:00:00Z'),
  }));
  await prisma.patient.createMany({ data: patients });
  const sessions = patients.map((p) => ({ id: randomUUID(), organizationId: ORGS.clinicNorth.id, patientId: p.id, startedById: USERS.nurse.id }));
  await prisma.chatSession.createMany({ data: sessions });
  await prisma.chatMessage.createMany({
    data: sessions.flatMap((s, i) => [
      { sessionId: s.id, role: 'PATIENT' as const, text: `first message ${i}`, createdAt: new Date(Date.now() - 60_000) },
      { sessionId: s.id, role: 'ASSISTANT' as const, text: `last message ${i}`, createdAt: new Date(Date.now() - 30_000) },
    ]),
  });
  await prisma.queueEntry.createMany({
    data: patients.map((p, i) => ({ organizationId: ORGS.clinicNorth.id, patientId: p.id, source: 'MANUAL' as const, urgency: 'LOW' as const, urgencyRank: URGENCY_RANK.LOW, reason: `load ${i}`, createdAt: new Date(Date.now() - (ENTRIES - i) * 1000), slaDueAt: new Date(Date.now() + 3600_000) })),
  });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const QUERY = 'query($n: Int!) { nurseQueue(first: $n, filter: {urgency: [LOW]}) { edges { node { id reason patient { name chatSessions { lastMessage { text } } } } } } }';
const requestStatements = (all: string[]): string[] => all.filter((sql) => /"(identity|chat|nurse)"\.|"AuditEvent"/.test(sql));

async function measure(n: number): Promise<{ statements: number; nodes: Array<{ patient: { name: string; chatSessions: Array<{ lastMessage: { text: string } | null }> } }> }> {
  const headers = { authorization: `Bearer ${await t.tokenFor('nurse')}` };
  await postGraphQL(t.graphqlUrl, { query: QUERY, variables: { n } }, headers); // warm caches and plans
  const before = t.platform.database.statements.length;
  const { json } = await postGraphQL(t.graphqlUrl, { query: QUERY, variables: { n } }, headers);
  const statements = requestStatements(t.platform.database.statements.slice(before)).length;
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  const nodes = (json.data?.['nurseQueue'] as { edges: Array<{ node: never }> }).edges.map((e) => e.node);
  return { statements, nodes };
}

it('costs the same number of SQL statements for 10 and for 500 entries', async () => {
  const small = await measure(10);
  const large = await measure(ENTRIES);
  expect(small.nodes).toHaveLength(10);
  expect(large.nodes).toHaveLength(ENTRIES);
  // Every entry really came with its patient and the last message of the patient's chat.
  expect(large.nodes.every((node) => node.patient.name.startsWith('Load Tester'))).toBe(true);
  expect(large.nodes.every((node) => node.patient.chatSessions[0]?.lastMessage?.text.startsWith('last message'))).toBe(true);
  expect(small.statements).toBeGreaterThan(0);
  expect(large.statements).toBe(small.statements);
});
