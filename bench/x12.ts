/**
 * `npm run bench:x12`: the X12 module's speed on payer-sized files. Parses a generated 835 with
 * 5,000 claims (each with two service lines and adjustments) and generates an 837P batch of
 * 500 claims, several rounds each; prints segments per second (median round) and the peak
 * resident memory and heap growth while parsing. Every generated file is parsed back and
 * checked (valid envelopes, every claim read) before anything is timed.
 */
import { build835, build837P, type ClaimBatch, type ProfessionalClaim, type Remittance } from '../subgraphs/insurance/x12/build.js';
import { generateInterchange, type TransactionSpec } from '../subgraphs/insurance/x12/generate.js';
import { parseX12, transactionsOf } from '../subgraphs/insurance/x12/parse.js';
import { decimalFromMinor } from '../subgraphs/insurance/x12/views.js';

const ROUNDS = Number(process.env['ROUNDS'] ?? 5);
const REMITTANCE_CLAIMS = Number(process.env['REMITTANCE_CLAIMS'] ?? 5_000);
const BATCH_CLAIMS = Number(process.env['BATCH_CLAIMS'] ?? 500);

const interchange = (functionalId: string, version: string, transaction: TransactionSpec): string => generateInterchange({
  sender: { qualifier: 'ZZ', id: 'BENCHSENDER' }, receiver: { qualifier: 'ZZ', id: 'BENCHRECEIVER' }, date: '261205', time: '1200', controlNumber: '1', usage: 'T', acknowledgmentRequested: false, lineBreaks: true,
  groups: [{ functionalId, senderCode: 'BENCHSENDER', receiverCode: 'BENCHRECEIVER', date: '20261205', time: '1200', controlNumber: '1', version, transactions: [transaction] }],
});

function remittance(claims: number): Remittance {
  const list: Remittance['claims'] = [];
  let total = 0n;
  for (let index = 0; index < claims; index++) {
    const charge = 15_000n + BigInt(index % 97) * 100n;
    const paid = charge - 2_500n;
    total += paid;
    list.push({
      patientControlNumber: `PCN${index}`, status: '1', charge: decimalFromMinor(charge), paid: decimalFromMinor(paid), patientResponsibility: '25', payerClaimControlNumber: `PAYER${index}`,
      patient: { lastName: 'SYNTHETIC', firstName: `PATIENT${index % 50}`, memberId: `M${100000 + index}` },
      adjustments: [{ group: 'PR', reason: '2', amount: '25' }],
      services: [
        { procedureCode: '99213', charge: decimalFromMinor(charge - 5_000n), paid: decimalFromMinor(charge - 7_500n), units: '1', serviceDate: '20261101', adjustments: [{ group: 'CO', reason: '45', amount: '25' }] },
        { procedureCode: '85025', charge: '50', paid: '50', units: '1', serviceDate: '20261101', adjustments: [] },
      ],
    });
  }
  return { controlNumber: '0001', paymentAmount: decimalFromMinor(total), paymentDate: '20261205', traceNumber: 'TRACE1', payer: { name: 'SYNTHETIC PAYER', id: '99999', idQualifier: 'PI' }, payee: { name: 'SYNTHETIC CLINIC', id: '1234567893', idQualifier: 'XX' }, claims: list };
}

function claimBatch(claims: number): ClaimBatch<ProfessionalClaim> {
  return {
    controlNumber: '0001', reference: 'BATCH1', createdDate: '20261205', createdTime: '1200',
    submitter: { name: 'CAREGRAPH', id: 'CAREGRAPH', idQualifier: '46', contactName: 'BILLING', contactEmail: 'billing@example.org' },
    receiver: { name: 'SYNTHETIC PAYER', id: '99999', idQualifier: '46' },
    billingProvider: { name: 'SYNTHETIC CLINIC', id: '1234567893', idQualifier: 'XX', taxId: '123456789', address: { line: '1 CLINIC ROAD', city: 'LAGOS', state: 'LA', postalCode: '100001' } },
    claims: Array.from({ length: claims }, (_, index) => ({
      claimId: `CLM${index}`, totalCharge: '200', placeOfService: '11', frequency: '1',
      subscriber: { lastName: 'SYNTHETIC', firstName: `PATIENT${index % 50}`, memberId: `M${100000 + index}`, birthDate: '19800101', gender: 'F' },
      payer: { name: 'SYNTHETIC PAYER', id: '99999', idQualifier: 'PI' },
      diagnoses: ['J06.9', 'R50.9'],
      lines: [
        { procedureCode: '99213', charge: '150', units: '1', diagnosisPointers: [1, 2], serviceDate: '20261101' },
        { procedureCode: '85025', charge: '50', units: '1', diagnosisPointers: [1], serviceDate: '20261101' },
      ],
    })),
  };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const mib = (bytes: number): string => `${(bytes / 1_048_576).toFixed(0)} MiB`;

// Generated and checked once, outside the timing.
const file835 = interchange('HP', '005010X221A1', build835(remittance(REMITTANCE_CLAIMS)));
const checked = parseX12(file835);
const remittanceView = transactionsOf(checked)[0]?.view;
if (!checked.valid || remittanceView?.kind !== 'remittance' || remittanceView.claims.length !== REMITTANCE_CLAIMS) {
  throw new Error(`the generated 835 does not parse back: ${JSON.stringify(checked.issues.slice(0, 3))}`);
}
const batch = claimBatch(BATCH_CLAIMS);
const file837 = interchange('HC', '005010X222A1', build837P(batch));
const claimsView = transactionsOf(parseX12(file837))[0]?.view;
if (claimsView?.kind !== 'claims' || claimsView.claims.length !== BATCH_CLAIMS) throw new Error('the generated 837 does not parse back');
const segments835 = checked.segmentCount;
const segments837 = parseX12(file837).segmentCount;

// Peak memory of one parse, from a settled heap.
(globalThis as { gc?: () => void }).gc?.();
const heapBefore = process.memoryUsage().heapUsed;
let peakRss = process.memoryUsage().rss;
let peakHeap = heapBefore;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  peakHeap = Math.max(peakHeap, usage.heapUsed);
}, 1);
const kept = parseX12(file835);
const usage = process.memoryUsage();
peakRss = Math.max(peakRss, usage.rss);
peakHeap = Math.max(peakHeap, usage.heapUsed);
clearInterval(sampler);

const parseRates: number[] = [];
const generateRates: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  let started = process.hrtime.bigint();
  parseX12(file835);
  parseRates.push(segments835 / (Number(process.hrtime.bigint() - started) / 1e9));
  started = process.hrtime.bigint();
  interchange('HC', '005010X222A1', build837P(batch));
  generateRates.push(segments837 / (Number(process.hrtime.bigint() - started) / 1e9));
}

process.stdout.write(`X12 5010 (median of ${ROUNDS} rounds)\n`);
process.stdout.write(`  parse an 835 with ${REMITTANCE_CLAIMS.toLocaleString('en')} claims: ${segments835.toLocaleString('en')} segments, ${(file835.length / 1_048_576).toFixed(1)} MiB → ${Math.round(median(parseRates)).toLocaleString('en')} segments/s\n`);
process.stdout.write(`  generate an 837P batch of ${BATCH_CLAIMS} claims: ${segments837.toLocaleString('en')} segments → ${Math.round(median(generateRates)).toLocaleString('en')} segments/s\n`);
process.stdout.write(`  peak while parsing the 835: RSS ${mib(peakRss)}, heap +${mib(peakHeap - heapBefore)} (the parsed document held: ${kept.segmentCount} segments)\n`);
