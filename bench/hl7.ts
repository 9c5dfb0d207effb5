/**
 * `npm run bench:hl7`: lab results per second, acknowledged over MLLP and stored in PostgreSQL
 * (a scratch database on DATABASE_URL, default the local server), with 1 and with 10
 * connections; and the parse-only speed of the HL7 module on the same messages. Each message
 * is a synthetic ORU^R01 with 8 OBX for a seeded patient (matched by MRN). Every ACK is checked
 * (AA, its MSA-2 the message's control id) and every message counted in the database before a
 * round counts. Rounds alternate 1 and 10 connections; the median round of each is printed.
 */
import { connect } from 'node:net';
import { generatePlatformKeys } from '../subgraphs/kit/keys.js';
import { createScratchPostgresDatabase } from '../subgraphs/kit/database.js';
import { createLogger } from '../subgraphs/kit/logger.js';
import { openRuntime, seedSubgraphs } from '../subgraphs/kit/runtime.js';
import { EventConsumerRunner } from '../subgraphs/kit/events/consumers.js';
import { SUBGRAPHS } from '../subgraphs/index.js';
import { frame, startMllpListener } from '../subgraphs/devices/mllp.js';
import { patientIdentifierConsumer } from '../subgraphs/devices/patients.js';
import { readOru } from '../subgraphs/devices/hl7/oru.js';
import { parseHl7, type Hl7Message } from '../subgraphs/devices/hl7/parse.js';
import { ORGS, PATIENTS } from '../prisma/seed-data.js';

const MESSAGES = Number(process.env['MESSAGES'] ?? 2_000);
const ROUNDS = Number(process.env['ROUNDS'] ?? 3);
const PARSE_MESSAGES = Number(process.env['PARSE_MESSAGES'] ?? 50_000);

const ANALYTES = [
  ['2823-3', 'Potassium', '4.1', 'mmol/L', '3.5-5.1'], ['2951-2', 'Sodium', '139', 'mmol/L', '135-145'], ['2075-0', 'Chloride', '101', 'mmol/L', '98-107'],
  ['2028-9', 'CO2', '24', 'mmol/L', '22-29'], ['3094-0', 'Urea nitrogen', '14', 'mg/dL', '7-20'], ['2160-0', 'Creatinine', '0.9', 'mg/dL', '0.6-1.2'],
  ['2345-7', 'Glucose', '92', 'mg/dL', '70-99'], ['17861-6', 'Calcium', '9.4', 'mg/dL', '8.6-10.3'],
] as const;

function message(controlId: string, mrn: string): string {
  return [
    `MSH|^~\\&|BENCHLAB|NORTH LAB|CAREGRAPH|DEVICES|20261205101500+0100||ORU^R01^ORU_R01|${controlId}|P|2.5.1`,
    `PID|1||${mrn}^^^MCN^MR||SYNTHETIC^PERSON||19860412|F`,
    `OBR|1|P-${controlId}|F-${controlId}|24320-4^Basic metabolic panel^LN|||20261205093000+0100|||||||||||||||20261205100000+0100|||F`,
    ...ANALYTES.map(([code, text, value, unit, range], index) => `OBX|${index + 1}|NM|${code}^${text}^LN||${value}|${unit}^${unit}^UCUM|${range}|N|||F|||20261205093000+0100`),
  ].join('\r');
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Sends `messages` over `connections` sockets (each its share, all written at once) and waits for every ACK; checks each. */
async function sendAll(port: number, messages: string[], connections: number): Promise<number> {
  const shares = Array.from({ length: connections }, (_, index) => messages.filter((_, position) => position % connections === index));
  const started = performance.now();
  await Promise.all(shares.map((share) => new Promise<void>((resolve, reject) => {
    const expected = share.map((text) => /\|ORU\^R01\^ORU_R01\|([^|]+)\|/.exec(text)?.[1] ?? '');
    let buffer = '';
    let received = 0;
    const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.concat(share.map(frame))));
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\x1c\r')) !== -1) {
        const ack = buffer.slice(buffer.indexOf('\x0b') + 1, end);
        buffer = buffer.slice(end + 2);
        const msa = ack.split('\r').find((segment) => segment.startsWith('MSA|'))?.split('|') ?? [];
        if (msa[1] !== 'AA' || msa[2] !== expected[received]) {
          reject(new Error(`ACK ${received} is ${msa.join('|')}, expected AA for ${expected[received]}`));
          return;
        }
        received += 1;
        if (received === share.length) {
          socket.end();
          resolve();
        }
      }
    });
  })));
  return performance.now() - started;
}

async function main(): Promise<void> {
  const log = createLogger('bench-hl7', 'warn');
  const scratch = await createScratchPostgresDatabase(process.env['DATABASE_URL'] || 'postgresql://postgres@127.0.0.1:5432/postgres');
  const keys = await generatePlatformKeys();
  const runtime = await openRuntime({ databaseUrl: scratch.url, keys, log, redisUrl: process.env['REDIS_URL'] || undefined, redisPrefix: `bench-hl7:${Date.now()}:` });
  try {
    await seedSubgraphs(SUBGRAPHS, runtime.deps);
    // The MRN digests identity announced, as the devices subgraph would have consumed them.
    await new EventConsumerRunner({ prisma: runtime.deps.prisma, log, consumers: [patientIdentifierConsumer] }).consumeOnce(patientIdentifierConsumer);
    const listener = await startMllpListener(runtime.deps, { port: 0, organizationId: ORGS.clinicNorth.id });
    const mrns = [PATIENTS.amaraNorth.mrn, PATIENTS.bayoNorth.mrn];
    const results: Record<number, number[]> = { 1: [], 10: [] };
    let sequence = 0;
    // One warm-up round, not counted.
    await sendAll(listener.port, Array.from({ length: 200 }, () => message(`WARM-${sequence++}`, mrns[0] as string)), 10);
    for (let round = 0; round < ROUNDS; round++) {
      for (const connections of [1, 10]) {
        const batch = Array.from({ length: MESSAGES }, (_, index) => message(`B-${sequence++}`, mrns[index % 2] as string));
        const ms = await sendAll(listener.port, batch, connections);
        results[connections]?.push((MESSAGES / ms) * 1000);
      }
    }
    const stored = await runtime.deps.prisma.hl7Message.count({ where: { controlId: { startsWith: 'B-' } } });
    const observations = await runtime.deps.prisma.observation.count({ where: { fillerOrderId: { startsWith: 'F-B-' } } });
    if (stored !== ROUNDS * 2 * MESSAGES || observations !== stored * ANALYTES.length) throw new Error(`stored ${stored} messages and ${observations} observations, expected ${ROUNDS * 2 * MESSAGES} and ${ROUNDS * 2 * MESSAGES * ANALYTES.length}`);
    await listener.close();

    // Parse only: the module reading the same messages (syntax, escapes, the ORU^R01 view).
    const texts = Array.from({ length: 1_000 }, (_, index) => message(`P-${index}`, mrns[index % 2] as string));
    const parseRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      for (let index = 0; index < PARSE_MESSAGES; index++) {
        const parsed = parseHl7(texts[index % texts.length] as string).messages[0] as Hl7Message;
        if (readOru(parsed).issues.length) throw new Error('a benchmark message did not read');
      }
      parseRates.push((PARSE_MESSAGES / (performance.now() - started)) * 1000);
    }
    const rate = (value: number) => Math.round(value).toLocaleString('en-US');
    console.log(`HL7 v2 ORU^R01 (${ANALYTES.length} OBX each), median of ${ROUNDS} rounds of ${MESSAGES} messages, PostgreSQL`);
    console.log(`  acknowledged over MLLP, 1 connection:   ${rate(median(results[1] ?? []))} messages/s`);
    console.log(`  acknowledged over MLLP, 10 connections: ${rate(median(results[10] ?? []))} messages/s`);
    console.log(`  parse only (syntax + ORU^R01 view):     ${rate(median(parseRates))} messages/s`);
    console.log(`  stored: ${stored} messages, ${observations} observations (each once)`);
  } finally {
    await runtime.close();
    await scratch.drop();
  }
}

await main();
