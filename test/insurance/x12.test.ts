import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { build270, build835, build837I, build837P } from '../../subgraphs/insurance/x12/build.js';
import { generateInterchange, hierarchical, regenerate, writeSegment, X12GenerationError, type TransactionSpec } from '../../subgraphs/insurance/x12/generate.js';
import { parseX12, transactionsOf, type X12Document } from '../../subgraphs/insurance/x12/parse.js';
import type { ClaimsView, EligibilityView, RemittanceView, StatusView, TransactionView } from '../../subgraphs/insurance/x12/views.js';
import { decimalFromMinor, minorUnits } from '../../subgraphs/insurance/x12/views.js';
import type { Delimiters, Segment } from '../../subgraphs/insurance/x12/syntax.js';

/**
 * The X12 5010 module against every public sample in test/fixtures/x12 (sources and quirks in
 * its SOURCES.md): delimiters, envelopes and their checks, loops, and the normalized views,
 * asserted by named values; then generation, round trips and malformed input.
 */
const FIXTURES = new URL('../fixtures/x12/', import.meta.url);
const text = (file: string): string => readFileSync(new URL(file, FIXTURES), 'latin1');
const parsed = (file: string): X12Document => parseX12(text(file));
const only = <K extends TransactionView['kind']>(document: X12Document, kind: K): Extract<TransactionView, { kind: K }> => {
  const views = transactionsOf(document).map((transaction) => transaction.view);
  expect(views).toHaveLength(1);
  const view = views[0] as TransactionView;
  expect(view.kind).toBe(kind);
  return view as Extract<TransactionView, { kind: K }>;
};
/** A segment's values whatever the delimiters: repetitions of components, trailing empty elements dropped. */
const values = (segment: Segment, delimiters: Delimiters): string[][][] => {
  const elements = segment.elements.map((value) => (delimiters.repetition ? value.split(delimiters.repetition) : [value]).map((repetition) => repetition.split(delimiters.component)));
  while (elements.length > 1 && elements[elements.length - 1]?.every((repetition) => repetition.every((part) => part === ''))) elements.pop();
  return elements;
};
const codes = (document: X12Document, severity: 'error' | 'warning') => document.issues.filter((issue) => issue.severity === severity).map((issue) => issue.code);

describe('every fixture parses', () => {
  const files = readdirSync(FIXTURES).filter((file) => !file.endsWith('.md'));
  it('there are the eleven samples', () => expect(files).toHaveLength(11));

  it.each(files)('%s: one interchange, its transactions read, and a round trip gives the same views', (file) => {
    const document = parsed(file);
    expect(document.interchanges).toHaveLength(1);
    expect(transactionsOf(document).length).toBeGreaterThan(0);
    for (const transaction of transactionsOf(document)) expect(transaction.view.kind).not.toBe('unknown');
    // Written again (counts recomputed), with the default delimiters and line breaks: same transactions.
    const again = parseX12(regenerate(document, { delimiters: { element: '*', component: ':', repetition: '^', segment: '~' }, lineBreaks: true }));
    expect(codes(again, 'error')).toEqual(codes(document, 'error').filter((code) => !['COUNT_MISMATCH', 'CONTROL_NUMBER_MISMATCH'].includes(code)));
    expect(transactionsOf(again).map((t) => t.view)).toEqual(transactionsOf(document).map((t) => t.view));
    expect(transactionsOf(again).map((t) => t.body.map((s) => values(s, again.delimiters)))).toEqual(transactionsOf(document).map((t) => t.body.map((s) => values(s, document.delimiters))));
  });
});

describe('270 eligibility inquiry (X279, single line)', () => {
  const document = parsed('270_5010_x279_subscriber_inquiry.edi');
  it('is valid and reads the subscriber and the service type asked about', () => {
    expect(document.issues).toEqual([]);
    expect(document.delimiters).toEqual({ element: '*', component: ':', repetition: '>', segment: '~' });
    const view = only(document, 'eligibility') as EligibilityView;
    expect(view.direction).toBe('inquiry');
    expect(view.informationSource).toMatchObject({ name: 'ABC COMPANY', id: '842610001' });
    expect(view.receiver).toMatchObject({ name: 'BONE AND JOINT CLINIC', idQualifier: 'SV', id: '2000035' });
    expect(view.subscriber).toMatchObject({ name: 'SMITH', firstName: 'ROBERT', idQualifier: 'MI', id: '11122333301', birthDate: '19430519' });
    expect(view.serviceTypes).toEqual(['30']);
    expect(view.traces).toEqual(['93175-012547']);
  });
});

describe('271 eligibility response (pipe elements, } repetitions, CRLF)', () => {
  const document = parsed('271_5010_eb_loops_pipe_delims_crlf.txt');
  const view = only(document, 'eligibility') as EligibilityView;
  it('reads the non-default delimiters', () => {
    expect(document.delimiters).toEqual({ element: '|', component: '^', repetition: '}', segment: '~' });
  });
  it('reports its quirk: SE01 says 74, the set holds 73 segments, at SE element 01', () => {
    expect(document.valid).toBe(false);
    expect(document.issues).toEqual([expect.objectContaining({ code: 'COUNT_MISMATCH', segmentId: 'SE', element: 1, message: 'SE01 says 74 segments from ST to SE; there are 73' })]);
    expect(document.issues[0]?.position?.line).toBe(75);
  });
  it('reads the EB benefits with their repetitions, amounts, messages and the LS/LE entity', () => {
    expect(view.subscriber).toMatchObject({ name: 'SMITH', firstName: 'JOHN', id: '1234567899', gender: 'M' });
    expect(view.benefits).toHaveLength(19);
    expect(new Set(view.benefits.map((benefit) => benefit.code))).toEqual(new Set(['1', 'A', 'B', 'F', 'G', 'I', 'L', 'W']));
    const active = view.benefits.find((benefit) => benefit.code === '1' && benefit.serviceTypes.length > 1);
    expect(active?.serviceTypes).toEqual(['1', '33', '47', '48', '50', '86', '98', 'UC', 'AL', 'MH', '88']);
    const outOfPocket = view.benefits.find((benefit) => benefit.code === 'G');
    expect(outOfPocket).toMatchObject({ coverageLevel: 'IND', amount: '2100', inNetwork: 'Y' });
    expect(view.benefits.find((benefit) => benefit.code === 'W')?.relatedEntities).toEqual([{ entity: 'PR', name: 'Mala Compania' }]);
    expect(view.benefits.flatMap((benefit) => benefit.messages)).toContain('PLAN REQUIRES PRECERT');
    expect(view.benefits.flatMap((benefit) => benefit.messages)).toHaveLength(27);
  });
});

describe('837P professional claims', () => {
  it('two claims with split HI composites, ISA11 U, a wrong SE01 and a reused HL id: all reported by position', () => {
    const document = parsed('837p_5010_two_claims.txt');
    expect(codes(document, 'error').sort()).toEqual(['COUNT_MISMATCH', 'DUPLICATE_HL_ID', 'UNKNOWN_HL_PARENT']);
    expect(codes(document, 'warning')).toEqual(expect.arrayContaining(['NO_REPETITION_SEPARATOR', 'SPLIT_COMPOSITE']));
    expect(document.issues.find((issue) => issue.code === 'DUPLICATE_HL_ID')).toMatchObject({ segmentId: 'HL', element: 1, position: { segment: 27, line: 27 } });
    expect(document.issues.find((issue) => issue.code === 'COUNT_MISMATCH')?.message).toBe('SE01 says 25 segments from ST to SE; there are 34');
    const view = only(document, 'claims') as ClaimsView;
    expect(view.variant).toBe('professional');
    expect(view.billingProvider).toMatchObject({ name: 'MEDICAL GROUP', id: '1234567890', taxId: '123456789' });
    expect(view.claims.map((claim) => claim.claimId)).toHaveLength(2);
    const [first] = view.claims;
    expect(first).toMatchObject({ claimId: 'A37YH556', totalCharge: '500', facilityCode: '11', frequency: '1' });
    expect(first?.subscriber).toMatchObject({ name: 'DOE', firstName: 'JOHN', id: '123456' });
    expect(first?.diagnoses).toEqual([{ qualifier: 'BK', code: '8901' }, { qualifier: 'BF', code: '87200' }, { qualifier: 'BF', code: '5559' }]);
    expect(first?.lines).toEqual([expect.objectContaining({ lineNumber: '1', procedure: { qualifier: 'HC', code: '99211', modifiers: ['25'] }, charge: '12.25', unit: 'UN', quantity: '1', serviceDate: '20050314-20050325' })]);
    expect(view.claims[1]?.subscriber).toMatchObject({ name: 'DOE', firstName: 'DAVID' });
  });

  it('the same claims with ~ as element separator, ^ components and _ terminators read the same', () => {
    const standard = only(parsed('837p_5010_two_claims.txt'), 'claims');
    const alternative = parsed('837p_5010_two_claims_alt_delims.txt');
    expect(alternative.delimiters).toEqual({ element: '~', component: '^', repetition: undefined, segment: '_' });
    expect(only(alternative, 'claims')).toEqual(standard);
  });

  it('newline-terminated, indented, ISA12 00402: a patient level under the subscriber, a drug line', () => {
    const document = parsed('837p_5010_newline_terminated_indented.edi');
    expect(document.delimiters.segment).toBe('\n');
    expect(codes(document, 'error')).toEqual([]);
    expect(codes(document, 'warning')).toEqual(['VERSION_MISMATCH']);
    const view = only(document, 'claims') as ClaimsView;
    expect(view.claims).toHaveLength(1);
    expect(view.claims[0]).toMatchObject({ claimId: '945405', totalCharge: '5332.54', facilityCode: '12' });
    expect(view.claims[0]?.subscriber).toMatchObject({ name: 'CUSTOMER', firstName: 'KAREN', id: 'YYX123456789' });
    expect(view.claims[0]?.patient).toMatchObject({ name: 'CUSTOMER', firstName: 'COLE' });
    expect(view.claims[0]?.payer).toMatchObject({ name: 'PPO BLUE', id: '54771' });
    const loops = transactionsOf(document)[0]?.loops;
    const line = loops?.loops.find((loop) => loop.id === '2000C')?.loops.find((loop) => loop.id === '2300')?.loops.find((loop) => loop.id === '2400');
    expect(line?.loops.map((loop) => loop.id)).toContain('2410');
  });
});

describe('837I institutional claims', () => {
  it('X223 two claims: revenue codes, procedures and diagnoses per claim, attending provider loop', () => {
    const document = parsed('837i_5010_x223_two_claims.edi');
    expect(document.issues).toEqual([]);
    const view = only(document, 'claims') as ClaimsView;
    expect(view.variant).toBe('institutional');
    expect(view.claims.map((claim) => [claim.claimId, claim.totalCharge, claim.lines.length])).toEqual([['756048Q', '89.95', 2], ['756049Q', '50', 1]]);
    expect(view.claims[0]?.diagnoses).toEqual([{ qualifier: 'BK', code: '3669' }, { qualifier: 'BF', code: '4019' }, { qualifier: 'BF', code: '79431' }]);
    expect(view.claims[0]?.lines[0]).toMatchObject({ revenueCode: '0305', procedure: { qualifier: 'HC', code: '85025', modifiers: [] }, charge: '13.39', unit: 'UN', quantity: '1' });
    const claimLoop = transactionsOf(document)[0]?.loops.loops.find((loop) => loop.id === '2000B')?.loops.find((loop) => loop.id === '2300');
    expect(claimLoop?.loops.map((loop) => loop.id)).toEqual(['2310A', '2400', '2400']);
  });

  it('messy whitespace (blank before line breaks, two segments on a line): read, and SE01 25 against 48 reported', () => {
    const document = parsed('837i_5010_messy_whitespace.txt');
    expect(codes(document, 'error')).toEqual(['COUNT_MISMATCH']);
    expect(document.issues.find((issue) => issue.code === 'COUNT_MISMATCH')?.message).toBe('SE01 says 25 segments from ST to SE; there are 48');
    const view = only(document, 'claims') as ClaimsView;
    expect(view.claims).toHaveLength(1);
    expect(view.claims[0]).toMatchObject({ claimId: 'A37YH556', totalCharge: '500', diagnoses: [{ qualifier: 'BK', code: '1739' }] });
    const segments = transactionsOf(document)[0]?.body.map((segment) => segment.id) ?? [];
    expect(segments.filter((id) => id === 'SBR')).toHaveLength(3);
    expect(segments).toContain('N4');
  });
});

describe('835 remittance', () => {
  it('eMedNY: payment, three claims, service lines, CAS adjustments and LQ remarks', () => {
    const document = parsed('835_5010_emedny_sample.txt');
    expect(document.issues).toEqual([]);
    const view = only(document, 'remittance') as RemittanceView;
    expect(view.payment).toMatchObject({ handling: 'I', amount: '45.75', method: 'ACH', date: '20100101', traceNumber: '10100000000' });
    expect(view.payer?.name).toBe('NYSDOH');
    expect(view.payee).toMatchObject({ name: 'MAJOR MEDICAL PROVIDER', id: '9999999995' });
    expect(view.claims.map((claim) => [claim.status, claim.charge, claim.paid])).toEqual([['1', '34.25', '34.25'], ['2', '34', '0'], ['2', '34.25', '11.5']]);
    expect(view.claims[0]?.services.map((service) => service.procedure?.code)).toEqual(['V2020', 'V2700', 'V2103', 'S0580']);
    expect(view.claims[0]?.services[0]?.procedure?.modifiers).toEqual(['RB']);
    const adjustments = view.claims.flatMap((claim) => [...claim.adjustments, ...claim.services.flatMap((service) => service.adjustments)]);
    expect(adjustments.map((adjustment) => `${adjustment.group}-${adjustment.reason}`).sort()).toEqual(['CO-251', 'CO-251', 'CO-29', 'CO-29']);
    expect(view.claims.flatMap((claim) => claim.services.flatMap((service) => service.remarks))).toEqual(['HE:N206', 'HE:N206']);
    // Paid across claims equals the payment: the sum is exact in minor units.
    expect(view.claims.reduce((sum, claim) => sum + minorUnits(claim.paid), 0n)).toBe(minorUnits(view.payment.amount));
  });

  it('dental: | as the component separator, predetermination status 25, PR/CO/OA adjustments', () => {
    const document = parsed('835_5010_dental_pipe_component_crlf.txt');
    expect(document.delimiters.component).toBe('|');
    expect(document.issues).toEqual([]);
    const view = only(document, 'remittance') as RemittanceView;
    expect(view.payment.amount).toBe('1790');
    expect(view.claims.map((claim) => [claim.patientControlNumber, claim.status, claim.paid])).toEqual([['PRECERTIFICATION', '25', '0'], ['EDI PAID', '1', '1790'], ['EDI DENIED', '1', '0']]);
    expect(view.claims[0]?.services).toHaveLength(7);
    expect(view.claims[0]?.services[0]?.procedure).toEqual({ qualifier: 'AD', code: 'D1110', modifiers: [] });
    expect(view.claims[0]?.adjustments).toEqual([{ group: 'OA', reason: '101', amount: '122', quantity: undefined }]);
    expect(new Set(view.claims.flatMap((claim) => claim.services.flatMap((service) => service.adjustments.map((adjustment) => adjustment.group))))).toEqual(new Set(['CO', 'PR']));
    expect(view.claims[1]?.patientResponsibility).toBe('2000');
  });
});

describe('277 claim status and 277CA acknowledgment', () => {
  it('277 X212: eight claim statuses A1:704 with free text, and the IEA02 mismatch reported', () => {
    const document = parsed('277_5010_x212_claim_status.txt');
    expect(document.issues).toEqual([expect.objectContaining({ code: 'CONTROL_NUMBER_MISMATCH', segmentId: 'IEA', element: 2, message: 'IEA02 "842928883" does not match ISA13 "000000001"' })]);
    const view = only(document, 'status') as StatusView;
    expect(view.direction).toBe('response');
    expect(view.levels).toHaveLength(32);
    const statuses = view.levels.flatMap((level) => level.statuses);
    expect(statuses).toHaveLength(8);
    for (const status of statuses) expect(status).toMatchObject({ category: 'A1', code: '704', action: 'WQ', message: 'PAYER ACKNOWLEDGED RECEIPT OF THE CLAIM' });
    expect(statuses[0]?.amount).toBe('600');
    expect(view.levels.find((level) => level.statuses.length > 0)?.references).toEqual([{ qualifier: 'EJ', value: '12345' }, { qualifier: 'D9', value: '12345' }]);
  });

  it('277CA X214: accepted at the receiver, rejected (A7:562:85) at the patient, with the patient control number', () => {
    const document = parsed('277ca_5010_x214_rejected.txt');
    expect(document.issues).toEqual([]);
    const view = only(document, 'status') as StatusView;
    expect(view.direction).toBe('acknowledgment');
    expect(view.levels.map((level) => level.levelCode)).toEqual(['20', '21', '19', 'PT']);
    const patient = view.levels[3];
    expect(patient?.statuses).toEqual([expect.objectContaining({ category: 'A7', code: '562', entity: '85', amount: '199.14' })]);
    expect(patient?.traces).toEqual(['3920394930203']);
    expect(patient?.references).toContainEqual({ qualifier: '1K', value: '1107000000001120' });
    expect(view.levels[1]?.statuses[0]).toMatchObject({ category: 'A1', code: '20' });
  });
});

describe('malformed input: a precise, positioned error, never a throw', () => {
  const good = text('835_5010_emedny_sample.txt');

  it('truncated in the middle of a segment: the unterminated segment and every unclosed envelope', () => {
    const document = parseX12(good.slice(0, good.indexOf('SVC*HC:V2700') + 8));
    expect(document.valid).toBe(false);
    expect(codes(document, 'error')).toEqual(['UNTERMINATED_SEGMENT', 'MISSING_SE', 'MISSING_GE', 'MISSING_IEA']);
    expect(document.issues[0]).toMatchObject({ segmentId: 'SVC', position: { segment: 25 } });
  });

  it('a wrong GE01 count and a wrong ST/SE control number', () => {
    const document = parseX12(good.replace('GE*1*6000600', 'GE*2*6000600').replace('SE*65*1740', 'SE*65*1741'));
    expect(document.issues).toEqual([
      expect.objectContaining({ code: 'CONTROL_NUMBER_MISMATCH', segmentId: 'SE', element: 2 }),
      expect.objectContaining({ code: 'COUNT_MISMATCH', segmentId: 'GE', element: 1, message: 'GE01 says 2 transaction sets; there are 1' }),
    ]);
  });

  it('bad delimiters: an alphanumeric element separator, or a component separator equal to the terminator', () => {
    expect(parseX12(`ISAX${good.slice(4)}`).issues).toEqual([expect.objectContaining({ code: 'BAD_DELIMITERS', segmentId: 'ISA' })]);
    const clash = good.replace('*T*:~', '*T*~~');
    expect(codes(parseX12(clash), 'error')).toEqual(['BAD_DELIMITERS']);
  });

  it('no ISA, or an ISA cut short', () => {
    expect(codes(parseX12('GS*HP*A*B~'), 'error')).toEqual(['NO_ISA']);
    expect(codes(parseX12('ISA*00*  *00*'), 'error')).toEqual(['ISA_TOO_SHORT']);
    expect(codes(parseX12(''), 'error')).toEqual(['NO_ISA']);
  });

  it('a bad amount names the segment and element', () => {
    const document = parseX12(good.replace('CLP*PATIENT ACCOUNT NUMBER*1*34.25', 'CLP*PATIENT ACCOUNT NUMBER*1*34,25'));
    expect(document.issues).toEqual([expect.objectContaining({ code: 'BAD_DECIMAL', segmentId: 'CLP', element: 3, message: 'CLP03 "34,25" is not a decimal number' })]);
  });

  it('a segment outside any transaction set', () => {
    const document = parseX12(good.replace('GE*1*6000600~', 'GE*1*6000600~NTE*X~'));
    expect(document.issues).toEqual([expect.objectContaining({ code: 'UNEXPECTED_SEGMENT', segmentId: 'NTE' })]);
  });
});

describe('generation', () => {
  const interchange = (body: Parameters<typeof hierarchical>[0]) => generateInterchange({
    sender: { qualifier: 'ZZ', id: 'CAREGRAPH' }, receiver: { qualifier: 'ZZ', id: 'PAYER' }, date: '261205', time: '1200', controlNumber: '42', usage: 'T', acknowledgmentRequested: true,
    groups: [{ functionalId: 'HS', senderCode: 'CAREGRAPH', receiverCode: 'PAYER', date: '20261205', time: '1200', controlNumber: '7', version: '005010X279A1', transactions: [
      { type: '270', controlNumber: '0001', implementation: '005010X279A1', body: [['BHT', '0022', '13', 'REF1', '20261205', '1200'], ...hierarchical(body)] },
    ] }],
  });

  it('derives SE01, GE01, IEA01 and HL numbering from what it wrote, with a fixed-width ISA', () => {
    const written = interchange([{ levelCode: '20', segments: [['NM1', 'PR', '2', 'PAYER']], children: [{ levelCode: '21', segments: [['NM1', '1P', '2', 'CLINIC']], children: [
      { levelCode: '22', segments: [['NM1', 'IL', '1', 'DOE', 'JANE', '', '', '', 'MI', 'M1'], ['EQ', { repeated: ['30', '1'] }]] },
      { levelCode: '22', segments: [['NM1', 'IL', '1', 'ROE', 'RAY', '', '', '', 'MI', 'M2'], ['EQ', '30']] },
    ] }] }]);
    expect(written.indexOf('~')).toBe(105);
    expect(written).toContain('HL*1**20*1~');
    expect(written).toContain('HL*2*1*21*1~');
    expect(written).toContain('HL*3*2*22*0~');
    expect(written).toContain('HL*4*2*22*0~');
    expect(written).toContain('EQ*30^1~');
    expect(written).toContain('SE*13*0001~GE*1*7~IEA*1*000000042~');
    const document = parseX12(written);
    expect(document.issues).toEqual([]);
    const view = only(document, 'eligibility') as EligibilityView;
    expect(view.serviceTypes).toEqual(['30', '1', '30']);
  });

  it('refuses a value holding a delimiter rather than writing it ambiguously', () => {
    expect(() => writeSegment(['NM1', 'IL', '1', 'DOE*SMITH'], { element: '*', component: ':', repetition: '^', segment: '~' })).toThrow(X12GenerationError);
    expect(() => writeSegment(['NM1', 'IL', '1', 'A~B'], { element: '*', component: ':', repetition: '^', segment: '~' })).toThrow(/NM103 "A~B" contains the delimiter "~"/);
  });

  it('drops trailing empty elements and components', () => {
    expect(writeSegment(['CLM', 'C1', '100', '', '', ['11', 'B', '1'], '', ''], { element: '*', component: ':', repetition: '^', segment: '~' })).toBe('CLM*C1*100***11:B:1');
    expect(writeSegment(['SV1', ['HC', '99213', '', ''], '80'], { element: '*', component: ':', repetition: '^', segment: '~' })).toBe('SV1*HC:99213*80');
  });
});

describe('amounts are exact', () => {
  it('converts to and from minor units without floats', () => {
    expect(minorUnits('34.25')).toBe(3425n);
    expect(minorUnits('1790')).toBe(179000n);
    expect(minorUnits('.5')).toBe(50n);
    expect(minorUnits('-12.3')).toBe(-1230n);
    expect(minorUnits('0.10')).toBe(10n);
    expect(minorUnits('90071992547409.93')).toBe(9007199254740993n);
    expect(() => minorUnits('1.234')).toThrow(RangeError);
    expect(() => minorUnits('1,00')).toThrow(RangeError);
    expect(decimalFromMinor(3425n)).toBe('34.25');
    expect(decimalFromMinor(179000n)).toBe('1790');
    expect(decimalFromMinor(50n)).toBe('0.5');
    expect(decimalFromMinor(-1230n)).toBe('-12.3');
  });
});

describe('npm run -s x12', () => {
  const run = (file: string): { status: number; json: Record<string, unknown> } => {
    try {
      return { status: 0, json: JSON.parse(execFileSync('npx', ['tsx', 'scripts/x12.ts', file], { encoding: 'utf8' })) as Record<string, unknown> };
    } catch (error) {
      const failed = error as { status: number; stdout: string };
      return { status: failed.status, json: JSON.parse(failed.stdout) as Record<string, unknown> };
    }
  };

  it('prints a valid interchange as JSON and exits 0', () => {
    const { status, json } = run('test/fixtures/x12/835_5010_emedny_sample.txt');
    expect(status).toBe(0);
    expect(json['valid']).toBe(true);
    expect(JSON.stringify(json)).toContain('"patientControlNumber":"PATIENT ACCOUNT NUMBER"');
  });

  it('prints the positioned errors and exits 1 when the file is invalid', () => {
    const { status, json } = run('test/fixtures/x12/271_5010_eb_loops_pipe_delims_crlf.txt');
    expect(status).toBe(1);
    expect(json).toEqual({ valid: false, errors: [expect.objectContaining({ code: 'COUNT_MISMATCH', segmentId: 'SE', element: 1, position: { segment: 75, line: 75, column: 1 } })], warnings: [] });
  });
});

describe('builders: what CareGraph sends reads back as what it meant', () => {
  const envelope = (functionalId: string, version: string, transaction: TransactionSpec) => generateInterchange({
    sender: { qualifier: 'ZZ', id: 'CAREGRAPH' }, receiver: { qualifier: 'ZZ', id: 'PAYER' }, date: '261205', time: '1200', controlNumber: '9', usage: 'T', acknowledgmentRequested: true,
    groups: [{ functionalId, senderCode: 'CAREGRAPH', receiverCode: 'PAYER', date: '20261205', time: '1200', controlNumber: '9', version, transactions: [transaction] }],
  });

  it('an 837P of two claims: claim ids, totals, ICD-10 diagnoses without the dot, lines with pointers, prior authorization', () => {
    const written = envelope('HC', '005010X222A1', build837P({
      controlNumber: '0001', reference: 'B1', createdDate: '20261205', createdTime: '1200',
      submitter: { name: 'CAREGRAPH', id: 'CG1', idQualifier: '46', contactName: 'BILLING', contactEmail: 'billing@example.org' },
      receiver: { name: 'PAYER', id: 'P1', idQualifier: '46' },
      billingProvider: { name: 'CLINIC', id: '1234567893', idQualifier: 'XX', taxId: '123456789', address: { line: '1 ROAD', city: 'LAGOS', state: 'LA', postalCode: '100001' } },
      claims: [
        { claimId: 'C-1', totalCharge: '200.50', placeOfService: '11', frequency: '1', subscriber: { lastName: 'ADE', firstName: 'BOLA', memberId: 'M1', birthDate: '19800101', gender: 'F' }, payer: { name: 'PAYER', id: 'P1', idQualifier: 'PI' }, diagnoses: ['J06.9', 'R50.9'], priorAuthorization: 'AUTH-7',
          lines: [{ procedureCode: '99213', modifiers: ['25'], charge: '150.50', units: '1', diagnosisPointers: [1, 2], serviceDate: '20261101' }, { procedureCode: '85025', charge: '50', units: '1', diagnosisPointers: [1], serviceDate: '20261101' }] },
        { claimId: 'C-2', totalCharge: '80', placeOfService: '02', frequency: '1', subscriber: { lastName: 'OKO', firstName: 'CHI', memberId: 'M2' }, payer: { name: 'PAYER', id: 'P1', idQualifier: 'PI' }, diagnoses: ['I10'],
          lines: [{ procedureCode: '99442', charge: '80', units: '1', diagnosisPointers: [1], serviceDate: '20261102' }] },
      ],
    }));
    const document = parseX12(written);
    expect(document.issues).toEqual([]);
    const view = only(document, 'claims') as ClaimsView;
    expect(view.billingProvider).toMatchObject({ name: 'CLINIC', id: '1234567893', taxId: '123456789' });
    expect(view.claims.map((claim) => [claim.claimId, claim.totalCharge, claim.facilityCode, claim.subscriber?.id, claim.priorAuthorization])).toEqual([['C-1', '200.50', '11', 'M1', 'AUTH-7'], ['C-2', '80', '02', 'M2', undefined]]);
    expect(view.claims[0]?.diagnoses).toEqual([{ qualifier: 'ABK', code: 'J069' }, { qualifier: 'ABF', code: 'R509' }]);
    expect(view.claims[0]?.lines.map((line) => [line.procedure?.code, line.procedure?.modifiers, line.charge, line.diagnosisPointers])).toEqual([['99213', ['25'], '150.50', ['1', '2']], ['85025', [], '50', ['1']]]);
    // Each claim's lines add up to its total, in minor units.
    for (const claim of view.claims) expect(claim.lines.reduce((sum, line) => sum + minorUnits(line.charge), 0n)).toBe(minorUnits(claim.totalCharge));
  });

  it('an 837I: facility type, statement period, admission, attending provider, revenue-coded lines, a replacement with its attachments; it regenerates byte for byte', () => {
    const written = envelope('HC', '005010X223A2', build837I({
      controlNumber: '0001', reference: 'B2', createdDate: '20261205', createdTime: '1200',
      submitter: { name: 'CAREGRAPH', id: 'CG1', idQualifier: '46', contactName: 'BILLING', contactEmail: 'billing@example.org' },
      receiver: { name: 'PAYER', id: 'P1', idQualifier: '46' },
      billingProvider: { name: 'HOSPITAL', id: '1234567893', idQualifier: 'XX', taxId: '123456789', address: { line: '1 ROAD', city: 'LAGOS', state: 'LA', postalCode: '100001' } },
      claims: [{
        claimId: 'I-1', totalCharge: '1050', facilityType: '11', frequency: '7', originalReference: 'PCN-9', attachments: ['DOC-1', 'DOC-2'],
        statementFrom: '20261101', statementTo: '20261103', admission: { at: '202611010830', type: '1', source: '7' }, dischargeStatus: '01',
        attending: { lastName: 'SYNTHETIC', firstName: 'DOC', npi: '1234567893' },
        subscriber: { lastName: 'ADE', firstName: 'BOLA', memberId: 'M1' }, payer: { name: 'PAYER', id: 'P1', idQualifier: 'PI' }, diagnoses: ['J18.9', 'R50.9'],
        lines: [{ revenueCode: '0120', procedureCode: '99223', charge: '900', units: '2', serviceDate: '20261101' }, { revenueCode: '0324', procedureCode: '71046', modifiers: ['26'], charge: '150', units: '1', serviceDate: '20261103' }],
      }],
    }));
    const document = parseX12(written);
    expect(document.issues).toEqual([]);
    const view = only(document, 'claims') as ClaimsView;
    expect(view.variant).toBe('institutional');
    expect(view.claims[0]).toMatchObject({ claimId: 'I-1', totalCharge: '1050', facilityCode: '11', frequency: '7', originalReference: 'PCN-9', attachments: ['DOC-1', 'DOC-2'], diagnoses: [{ qualifier: 'ABK', code: 'J189' }, { qualifier: 'ABF', code: 'R509' }] });
    expect(view.claims[0]?.lines.map((line) => [line.revenueCode, line.procedure?.code, line.procedure?.modifiers, line.charge, line.quantity, line.serviceDate])).toEqual([['0120', '99223', [], '900', '2', '20261101'], ['0324', '71046', ['26'], '150', '1', '20261103']]);
    expect(written).toContain('CLM*I-1*1050***11:A:7**A*Y*Y~DTP*434*RD8*20261101-20261103~DTP*435*DT*202611010830~CL1*1*7*01~PWK*OZ*AA***AC*DOC-1~PWK*OZ*AA***AC*DOC-2~REF*F8*PCN-9~');
    expect(regenerate(document, { delimiters: document.delimiters, lineBreaks: false })).toBe(written);
  });

  it('a 270 and an 835 read back', () => {
    const inquiry = only(parseX12(envelope('HS', '005010X279A1', build270({ controlNumber: '0001', reference: 'E1', createdDate: '20261205', createdTime: '1200', payer: { name: 'PAYER', id: 'P1', idQualifier: 'PI' }, provider: { name: 'CLINIC', id: '1234567893', idQualifier: 'XX' }, subscriber: { lastName: 'ADE', firstName: 'BOLA', memberId: 'M1', birthDate: '19800101' }, serviceTypes: ['30', '98'], trace: 'T-1' }))), 'eligibility') as EligibilityView;
    expect(inquiry).toMatchObject({ direction: 'inquiry', serviceTypes: ['30', '98'], traces: ['T-1'], subscriber: { id: 'M1', birthDate: '19800101' } });
    const remittance = only(parseX12(envelope('HP', '005010X221A1', build835({ controlNumber: '0001', paymentAmount: '120', paymentDate: '20261205', traceNumber: 'EFT-1', payer: { name: 'PAYER', id: 'P1', idQualifier: 'PI' }, payee: { name: 'CLINIC', id: '1234567893', idQualifier: 'XX' },
      claims: [{ patientControlNumber: 'C-1', status: '1', charge: '200.50', paid: '120', patientResponsibility: '20', payerClaimControlNumber: 'PCN-1', patient: { lastName: 'ADE', firstName: 'BOLA', memberId: 'M1' }, adjustments: [{ group: 'PR', reason: '2', amount: '20' }],
        services: [{ procedureCode: '99213', charge: '150.50', paid: '120', units: '1', serviceDate: '20261101', adjustments: [{ group: 'CO', reason: '45', amount: '10.50' }] }] }] }))), 'remittance') as RemittanceView;
    expect(remittance.payment).toMatchObject({ amount: '120', traceNumber: 'EFT-1', date: '20261205' });
    expect(remittance.claims[0]).toMatchObject({ patientControlNumber: 'C-1', paid: '120', payerClaimControlNumber: 'PCN-1', adjustments: [{ group: 'PR', reason: '2', amount: '20', quantity: undefined }] });
    expect(remittance.claims[0]?.services[0]?.adjustments).toEqual([{ group: 'CO', reason: '45', amount: '10.50', quantity: undefined }]);
  });
});
