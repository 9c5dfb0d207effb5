import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { GraphQLClient } from 'graphql-request';
import { ORGS, PATIENTS } from '../../prisma/seed-data.js';
import { frame, startMllpListener } from '../../subgraphs/devices/mllp.js';
import { eventTopic } from '../../subgraphs/kit/outbox.js';
import { connectWs, subscribeWs } from '../support/graphql-ws.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { subscribed, until } from '../support/wait.js';

/**
 * Lab results end to end, as a lab interface sends them and staff read them: HL7 v2 over HTTP
 * (a device-integration API key) and over MLLP (100 results on one connection, ACKs matching,
 * each stored once; truncated frames, a message without MSH and wrong encoding characters
 * refused with ERR while the connection stays up; a listener stopped mid-stream never having
 * acknowledged what it had not stored), matching by MRN, reconciliation of an unmatched
 * result, the FHIR views, and a critical potassium reaching a nurse's queueUpdated
 * subscription with the patient's name.
 */
let t: TestPlatform;
let nurse: GraphQLClient;
let deviceKey = '';
let mllpPort = 0;

const NIST = readFileSync('test/fixtures/hl7v2/oru_r01_v251_nist_lri_cbc_nm_refrange.hl7', 'utf8');

/** A synthetic ORU^R01 (v2.5.1) for one patient's MRN with one OBX per result. */
function oru(controlId: string, mrn: string, results: Array<{ loinc: string; text: string; value: string; unit: string; range: string; flag: string }>, options: { sender?: string } = {}): string {
  return [
    `MSH|^~\\&|${options.sender ?? 'NORTHLAB'}|NORTH LAB|CAREGRAPH|DEVICES|20261205101500+0100||ORU^R01^ORU_R01|${controlId}|P|2.5.1`,
    `PID|1||${mrn}^^^MCN^MR||SYNTHETIC^PERSON||19860412|F`,
    `OBR|1|ORD-${controlId}|FIL-${controlId}|24320-4^Basic metabolic panel^LN|||20261205093000+0100|||||||||||||||20261205100000+0100|||F`,
    ...results.map((result, index) => `OBX|${index + 1}|NM|${result.loinc}^${result.text}^LN||${result.value}|${result.unit}^${result.unit}^UCUM|${result.range}|${result.flag}|||F|||20261205093000+0100`),
  ].join('\r');
}
const potassium = (controlId: string, mrn: string, value = '4.1', flag = 'N') => oru(controlId, mrn, [{ loinc: '2823-3', text: 'Potassium', value, unit: 'mmol/L', range: '3.5-5.1', flag }]);

async function postHl7(body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const response = await fetch(`${t.baseUrl}/hl7/v2`, { method: 'POST', headers: { 'content-type': 'application/hl7-v2', ...headers }, body });
  return { status: response.status, text: await response.text() };
}
const msa = (ack: string): string[] => (ack.split('\r').find((segment) => segment.startsWith('MSA|')) ?? '').split('|');
const err = (ack: string): string | undefined => ack.split('\r').find((segment) => segment.startsWith('ERR|'));

/** An MLLP connection that collects the ACK frames it gets back. */
class MllpClient {
  readonly acks: string[] = [];
  private buffer = '';
  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\x1c\r')) !== -1) {
        const start = this.buffer.indexOf('\x0b');
        this.acks.push(this.buffer.slice(start + 1, end));
        this.buffer = this.buffer.slice(end + 2);
      }
    });
  }

  static open(port: number): Promise<MllpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new MllpClient(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  async waitFor(count: number, what = `${count} ACKs`): Promise<string[]> {
    await until(async () => this.acks.length, (n) => n >= count, what, 30_000);
    return this.acks;
  }
}

beforeAll(async () => {
  t = await startTestPlatform({ devices: { mllp: { port: 0, organizationId: ORGS.clinicNorth.id, maxFrameBytes: 64_000, idleTimeoutMs: 30_000 } } });
  nurse = await t.client('nurse');
  const admin = await t.client('admin');
  const { createApiKey } = await admin.request<{ createApiKey: { key: string } }>('mutation { createApiKey(input: {name: "North lab interface", role: DEVICE}) { key } }');
  deviceKey = createApiKey.key;
  const address = t.platform.subgraphs.find((subgraph) => subgraph.name === 'devices')?.listeners['mllp'] ?? '';
  mllpPort = Number(address.split(':').at(-1));
}, 120_000);
afterAll(async () => {
  await t?.close();
});

async function observationsOf(patientId: string, client: GraphQLClient = nurse): Promise<Array<{ id: string; code: string; value: string; valueNumber: string | null; unit: string | null; interpretation: string[]; critical: boolean; fhir: string }>> {
  const { patient } = await client.request<{ patient: { observations: Array<{ id: string; code: string; value: string; valueNumber: string | null; unit: string | null; interpretation: string[]; critical: boolean; fhir: string }> } }>(
    'query($id: ID!) { patient(id: $id) { observations(first: 200) { id code value valueNumber unit interpretation critical fhir } } }', { id: patientId });
  return patient.observations;
}

describe('HL7 v2 over HTTP', () => {
  it('a result posted with the device key is stored, matched by MRN and acknowledged AA; a repeat gets the same ACK and stores nothing', async () => {
    const body = NIST.replace('PATID1234^^^NIST MPI^MR', `${PATIENTS.bayoNorth.mrn}^^^MCN^MR`);
    const first = await postHl7(body, { 'x-api-key': deviceKey });
    expect(first.status).toBe(200);
    expect(msa(first.text)).toEqual(['MSA', 'AA', 'NIST-LRI-NG-002.00']);
    expect(first.text.split('\r')[0]).toMatch(/^MSH\|\^~\\&\|CAREGRAPH\|DEVICES\|NIST Test Lab APP\|NIST Lab Facility\|\d{14}\+0000\|\|ACK\^R01\^ACK\|[0-9a-f-]{36}\|T\|2\.5\.1$/);

    const results = await observationsOf(PATIENTS.bayoNorth.id);
    expect(results).toHaveLength(28);
    const hemoglobin = results.find((result) => result.code === '718-7');
    expect(hemoglobin).toMatchObject({ value: '12.5', valueNumber: '12.5', unit: 'g/mL', interpretation: ['L'], critical: false });
    expect(results.filter((result) => result.critical).map((result) => result.code).sort()).toEqual(['26449-9', '26464-8', '26474-7', '26499-4']);
    const fhir = JSON.parse(hemoglobin?.fhir ?? '{}') as { resourceType: string; status: string; subject: { reference: string }; valueQuantity: { value: number; unit: string; system: string }; interpretation: Array<{ coding: Array<{ code: string }> }>; referenceRange: Array<{ text: string }> };
    expect(fhir).toMatchObject({ resourceType: 'Observation', status: 'final', subject: { reference: `Patient/${PATIENTS.bayoNorth.id}` }, valueQuantity: { value: 12.5, unit: 'g/mL', system: 'http://unitsofmeasure.org' }, referenceRange: [{ text: '13 to 18' }] });

    const again = await postHl7(body, { 'x-api-key': deviceKey });
    expect(again).toEqual(first);
    expect(await observationsOf(PATIENTS.bayoNorth.id)).toHaveLength(28);
    expect(await t.platform.database.prisma.hl7Message.count({ where: { controlId: 'NIST-LRI-NG-002.00' } })).toBe(1);
  });

  it('a message in error (AE, 422), one not taken here (AR, 400), no key (401), a nurse’s token (403): ERR where it applies, nothing stored', async () => {
    const prisma = t.platform.database.prisma;
    const before = await prisma.observation.count();
    const noPatient = await postHl7(potassium('HTTP-AE-1', '').replace('PID|1||^^^MCN^MR', 'PID|1||'), { 'x-api-key': deviceKey });
    expect(noPatient.status).toBe(422);
    expect(msa(noPatient.text).slice(0, 3)).toEqual(['MSA', 'AE', 'HTTP-AE-1']);
    expect(err(noPatient.text)).toBe('ERR||PID^2^3|101^Required field missing^HL70357|E||||PID-3 (patient identifier list) is required');
    const adt = await postHl7(readFileSync('test/fixtures/hl7v2/adt_a01_v23.hl7', 'utf8'), { 'x-api-key': deviceKey });
    expect(adt.status).toBe(400);
    expect(msa(adt.text).slice(0, 3)).toEqual(['MSA', 'AR', '599102']);
    expect(err(adt.text)).toBe('ERR|MSH^1^9^200&Unsupported message type&HL70357');
    expect((await postHl7(potassium('HTTP-1', 'MCN-10001'), {})).status).toBe(401);
    expect((await postHl7(potassium('HTTP-2', 'MCN-10001'), { authorization: `Bearer ${await t.tokenFor('nurse')}` })).status).toBe(403);
    expect(await prisma.observation.count()).toBe(before);
  });
});

describe('HL7 v2 over MLLP', () => {
  it('one connection sends 100 results and gets 100 ACKs whose MSA-2 match, in order; each stored once', async () => {
    const client = await MllpClient.open(mllpPort);
    const ids = Array.from({ length: 100 }, (_, index) => `MLLP-${String(index).padStart(3, '0')}`);
    // All at once, cut into uneven pieces: frames span reads and reads hold several frames.
    const stream = Buffer.concat(ids.map((id, index) => frame(potassium(id, index % 2 ? 'MCN-10001' : 'MCN-10002', `4.${index % 10}`))));
    for (let offset = 0; offset < stream.length; offset += 997) client.send(stream.subarray(offset, offset + 997));
    const acks = await client.waitFor(100);
    expect(acks.map((ack) => msa(ack).slice(1, 3))).toEqual(ids.map((id) => ['AA', id]));
    expect(await t.platform.database.prisma.hl7Message.count({ where: { controlId: { in: ids } } })).toBe(100);
    expect(await t.platform.database.prisma.observation.count({ where: { fillerOrderId: { in: ids.map((id) => `FIL-${id}`) } } })).toBe(100);
    // Sent again on the same connection: acknowledged the same, stored once.
    client.send(frame(potassium(ids[0] as string, 'MCN-10002', '4.0')));
    const [repeat] = (await client.waitFor(101)).slice(100);
    expect(repeat).toBe(acks[0]);
    expect(await t.platform.database.prisma.hl7Message.count({ where: { controlId: ids[0] } })).toBe(1);
    client.socket.destroy();
  });

  it('a truncated frame, a message without MSH and wrong encoding characters: AR with ERR each, nothing stored, the connection still serving', async () => {
    const prisma = t.platform.database.prisma;
    const before = { messages: await prisma.hl7Message.count(), observations: await prisma.observation.count() };
    const client = await MllpClient.open(mllpPort);
    // A frame cut short: its start block, part of a message, then the next frame's start block.
    client.send(Buffer.concat([Buffer.from([0x0b]), Buffer.from(potassium('CUT-1', 'MCN-10001').slice(0, 60)), frame('PID|1||MCN-10001^^^MCN^MR\rOBX|1|NM|2823-3||4.0')]));
    client.send(frame(potassium('BAD-ENC-1', 'MCN-10001').replace('MSH|^~\\&|', 'MSH|^^\\&|')));
    const acks = await client.waitFor(3);
    expect(acks.map((ack) => msa(ack)[1])).toEqual(['AR', 'AR', 'AR']);
    expect(err(acks[0] as string)).toContain('|100^Segment sequence error^HL70357|E');
    expect(acks[0]).toContain('truncated frame');
    expect(err(acks[1] as string)).toBe('ERR||PID^1|100^Segment sequence error^HL70357|E||||a message starts with MSH (or a batch with FHS/BHS), not "PID"');
    expect(err(acks[2] as string)).toMatch(/^ERR\|\|MSH\^1\^2\|102\^Data type error\^HL70357\|E/);
    expect({ messages: await prisma.hl7Message.count(), observations: await prisma.observation.count() }).toEqual(before);
    client.send(frame(potassium('AFTER-BAD-1', 'MCN-10001')));
    expect(msa((await client.waitFor(4))[3] as string).slice(1, 3)).toEqual(['AA', 'AFTER-BAD-1']);
    client.socket.destroy();
  });

  it('a frame over the size limit is refused and discarded; the next one is read', async () => {
    const client = await MllpClient.open(mllpPort);
    client.send(frame(potassium('HUGE-1', 'MCN-10001') + `\rNTE|1||${'x'.repeat(70_000)}`));
    client.send(frame(potassium('AFTER-HUGE-1', 'MCN-10001')));
    const acks = await client.waitFor(2);
    expect(acks[0]).toContain('frame over 64000 bytes');
    expect(msa(acks[1] as string).slice(1, 3)).toEqual(['AA', 'AFTER-HUGE-1']);
    expect(await t.platform.database.prisma.hl7Message.count({ where: { controlId: 'HUGE-1' } })).toBe(0);
    client.socket.destroy();
  });

  it('a listener stopped mid-stream never acknowledged a message it had not stored', async () => {
    const listener = await startMllpListener(t.platform.deps, { port: 0, organizationId: ORGS.clinicNorth.id });
    const client = await MllpClient.open(listener.port);
    const ids = Array.from({ length: 2_000 }, (_, index) => `KILL-${index}`);
    // A lab sending steadily, a few messages a millisecond, while the listener is stopped.
    let sent = 0;
    const sender = setInterval(() => {
      for (let burst = 0; burst < 5 && sent < ids.length; burst++) client.send(frame(potassium(ids[sent++] as string, 'MCN-10001')));
    }, 1);
    await client.waitFor(50, 'the first ACKs');
    await listener.close();
    clearInterval(sender);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const acknowledged = client.acks.map((ack) => msa(ack)[2] as string);
    expect(acknowledged.length).toBeGreaterThanOrEqual(50);
    expect(acknowledged.length).toBeLessThan(ids.length);
    const stored = await t.platform.database.prisma.hl7Message.findMany({ where: { controlId: { in: ids } }, select: { controlId: true } });
    const storedIds = new Set(stored.map((row) => row.controlId));
    expect(acknowledged.every((id) => storedIds.has(id))).toBe(true);
    // Everything acknowledged was stored, and nothing stored twice.
    expect(stored.length).toBe(storedIds.size);
    client.socket.destroy();
  });
});

describe('critical results and reconciliation', () => {
  it('a critical potassium over MLLP reaches a nurse’s queueUpdated subscription through the gateway, with the patient’s name', async () => {
    const socket = connectWs(t.graphqlUrl, { authorization: `Bearer ${await t.tokenFor('nurse')}` });
    const stream = await subscribed(t.platform.deps.pubsub, eventTopic('nurse.queue.changed'), () => subscribeWs(socket, 'subscription { queueUpdated { kind entry { source urgency reason patient { id name } } } }'));
    const client = await MllpClient.open(mllpPort);
    client.send(frame(potassium('CRIT-K-1', 'MCN-10001', '6.9', 'HH')));
    expect(msa((await client.waitFor(1))[0] as string).slice(1, 3)).toEqual(['AA', 'CRIT-K-1']);
    let event = await stream.next(15_000);
    while ((event.data?.['queueUpdated'] as { entry: { source: string } } | undefined)?.entry.source !== 'LAB_RESULT') event = await stream.next(15_000);
    expect(event.data?.['queueUpdated']).toEqual({
      kind: 'ADDED',
      entry: { source: 'LAB_RESULT', urgency: 'CRITICAL', reason: 'Critical result: Potassium (HH)', patient: { id: PATIENTS.amaraNorth.id, name: 'Amara Testwell' } },
    });
    stream.unsubscribe();
    client.socket.destroy();
    await socket.dispose();
  });

  it('observationAdded: the patient’s own results arrive as they are stored; another patient’s stream is refused', async () => {
    const socket = connectWs(t.graphqlUrl, { authorization: `Bearer ${await t.tokenFor('patient')}` });
    const QUERY = 'subscription($id: ID!) { observationAdded(patientId: $id) { code value unit patient { id } } }';
    const own = await subscribed(t.platform.deps.pubsub, eventTopic('devices.observation.added'), () => subscribeWs(socket, QUERY, { id: PATIENTS.amaraNorth.id }));
    const other = subscribeWs(socket, QUERY, { id: PATIENTS.bayoNorth.id });
    expect((await other.next()).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const client = await MllpClient.open(mllpPort);
    client.send(frame(potassium('STREAM-BAYO-1', 'MCN-10002', '4.3')));
    client.send(frame(potassium('STREAM-AMARA-1', 'MCN-10001', '4.7')));
    await client.waitFor(2);
    // Bayo's result, stored first, never reaches Amara's stream: the first event is her own.
    expect((await own.next(15_000)).data?.['observationAdded']).toEqual({ code: '2823-3', value: '4.7', unit: 'mmol/L', patient: { id: PATIENTS.amaraNorth.id } });
    own.unsubscribe();
    client.socket.destroy();
    await socket.dispose();
  });

  it('a result for an unknown MRN waits unmatched; a nurse assigns it, and it is the patient’s, announced once', async () => {
    const client = await MllpClient.open(mllpPort);
    client.send(frame(oru('UNMATCHED-1', 'MCN-UNKNOWN-9', [{ loinc: '2823-3', text: 'Potassium', value: '4.4', unit: 'mmol/L', range: '3.5-5.1', flag: 'N' }, { loinc: '2951-2', text: 'Sodium', value: '139', unit: 'mmol/L', range: '135-145', flag: 'N' }])));
    expect(msa((await client.waitFor(1))[0] as string)[1]).toBe('AA');
    client.socket.destroy();
    const { unmatchedResults } = await nurse.request<{ unmatchedResults: Array<{ id: string; code: string; patient: null; sourcePatient: { identifier: string; name: string } }> }>('{ unmatchedResults { id code patient { id } sourcePatient { identifier name } } }');
    const waiting = unmatchedResults.filter((result) => result.sourcePatient.identifier === 'MCN-UNKNOWN-9');
    expect(waiting.map((result) => [result.code, result.sourcePatient.name]).sort()).toEqual([['2823-3', 'PERSON SYNTHETIC'], ['2951-2', 'PERSON SYNTHETIC']]);
    // The patient cannot see it; another organization's patient cannot be given it.
    const foreign = await postGraphQL(t.graphqlUrl, { query: `mutation { assignResult(observationId: "${waiting[0]?.id}", patientId: "${PATIENTS.fayeHospital.id}") { id } }` }, { authorization: `Bearer ${await t.tokenFor('nurse')}` });
    expect(foreign.json.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const { assignResult } = await nurse.request<{ assignResult: Array<{ id: string; patient: { id: string } }> }>(`mutation { assignResult(observationId: "${waiting[0]?.id}", patientId: "${PATIENTS.amaraNorth.id}") { id patient { id } } }`);
    expect(assignResult.map((result) => result.patient.id)).toEqual([PATIENTS.amaraNorth.id, PATIENTS.amaraNorth.id]);
    const again = await postGraphQL(t.graphqlUrl, { query: `mutation { assignResult(observationId: "${waiting[0]?.id}", patientId: "${PATIENTS.amaraNorth.id}") { id } }` }, { authorization: `Bearer ${await t.tokenFor('nurse')}` });
    expect(again.json.errors?.[0]?.extensions?.['code']).toBe('CONFLICT');
    const events = await t.platform.database.prisma.outboxEvent.count({ where: { type: 'devices.observation.added', aggregateId: { in: waiting.map((result) => result.id) } } });
    expect(events).toBe(2);
    // The patient reads their own results, the assigned one among them.
    const own = await observationsOf(PATIENTS.amaraNorth.id, await t.client('patient'));
    expect(own.some((result) => result.id === waiting[0]?.id)).toBe(true);
  });
});
