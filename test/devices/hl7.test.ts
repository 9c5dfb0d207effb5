import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { buildAck, encodeText } from '../../subgraphs/devices/hl7/ack.js';
import { assessOru, readOru, type OruView } from '../../subgraphs/devices/hl7/oru.js';
import { decode, DEFAULT_DELIMITERS, parseHl7, segmentLines, type Hl7Message } from '../../subgraphs/devices/hl7/parse.js';

/**
 * The HL7 v2 module against every public sample in test/fixtures/hl7v2 (sources and quirks in
 * its SOURCES.md): line endings (LF, CR, CRLF, mixed), a BOM, batches, escapes, repetitions,
 * components and subcomponents, the typed ORU^R01 view, and the ACK built for each.
 */
const DIR = 'test/fixtures/hl7v2';
const read = (name: string) => readFileSync(`${DIR}/${name}`, 'utf8');
function only(name: string): Hl7Message {
  const batch = parseHl7(read(name));
  expect(batch.issues).toEqual([]);
  expect(batch.messages).toHaveLength(1);
  return batch.messages[0] as Hl7Message;
}
function oru(name: string): OruView {
  const { view, issues } = readOru(only(name));
  expect(issues).toEqual([]);
  return view;
}
const observations = (view: OruView) => view.orders.flatMap((order) => order.observations);

describe('every sample parses', () => {
  it.each(readdirSync(DIR).filter((name) => name.endsWith('.hl7')))('%s', (name) => {
    const batch = parseHl7(read(name));
    expect(batch.issues).toEqual([]);
    expect(batch.messages.length).toBeGreaterThan(0);
    for (const message of batch.messages) expect(message.segments[0]?.id).toBe('MSH');
  });
});

describe('named values from each sample', () => {
  it('CBC with escapes and repetitions (v2.3, LF): \\S\\ in units, \\T\\ in the test name, OBX-10 repeated, 14 NM results and their flags', () => {
    const view = oru('oru_r01_v23_cbc_escapes_repetitions.hl7');
    expect(view.header).toMatchObject({ controlId: '3216598', processingId: 'D', version: '2.3', sendingApplication: 'LAB', sendingFacility: 'MYFAC' });
    expect(view.patient).toMatchObject({ identifiers: [{ id: 'AND234DA_PID3' }], family: 'Patlast', given: 'Patfirst', birthDate: '19670202' });
    expect(view.orders[0]?.test.alternate).toEqual({ code: '57021-8', text: 'CBC & Auto Differential', system: 'pCLOCD' });
    const results = observations(view);
    expect(results).toHaveLength(14);
    expect(results[0]).toMatchObject({ code: { code: '301.0500' }, numeric: '10.1', units: { code: '10^9/L' }, referenceRange: '3.1-9.7', flags: ['H'], status: 'F' });
    expect(results.map((result) => result.flags[0])).toEqual(['H', 'L', 'N', 'N', 'N', 'L', 'N', 'N', 'L', 'H', 'N', 'H', 'N', 'N']);
    // OBX-10 (nature of abnormal test) repeats A~S in every OBX.
    const message = only('oru_r01_v23_cbc_escapes_repetitions.hl7');
    expect(message.segments.filter((segment) => segment.id === 'OBX').every((segment) => segment.fields[10] === 'A~S')).toBe(true);
  });

  it('generic CBC (v2.3): PID-3 with a subcomponent authority, local codes with LOINC alternates, flags on two results', () => {
    const view = oru('oru_r01_v23_cbc_generic.hl7');
    expect(view.header.controlId).toBe('59689');
    expect(view.patient.identifiers).toEqual([{ id: '12345', authority: 'MIE', type: 'MR' }]);
    const results = observations(view);
    expect(results).toHaveLength(14);
    expect(results[0]?.code).toEqual({ code: 'wbc', text: 'Wbc', system: 'Local', alternate: { code: '6690-2', text: 'Wbc', system: 'LN' } });
    expect(results[13]?.code.alternate).toBeNull();
    expect(results.filter((result) => result.flags.length > 0).map((result) => [result.setId, result.flags])).toEqual([['4', ['H']], ['8', ['L']]]);
    expect(results[7]).toMatchObject({ numeric: '4.02', units: { code: '/pl' }, referenceRange: '4.07-4.92' });
  });

  it('lipid panel with mixed line endings: ranges with components, explicit nulls read as nothing, an OBR-3 repetition', () => {
    const view = oru('oru_r01_v23_lipid_mixed_eol.hl7');
    expect(view.header.controlId).toBe('Q335939501T337311002');
    expect(view.patient.identifiers[0]).toMatchObject({ id: '94000000000', authority: 'Priority Health' });
    const results = observations(view);
    expect(results.map((result) => [result.code.code, result.numeric, result.referenceRange, result.flags])).toEqual([
      ['JHDL', '62', '>40', []], ['JTRIG', '72', '35-150', []], ['JVLDL', '14', '', []], ['JLDL', '134', '0-100', ['H']], ['JCHO', '210', '90-200', ['H']],
    ]);
    expect(results[0]?.units).toEqual({ code: 'CD:289', text: 'mg/dL', system: '' });
    expect(only('oru_r01_v23_lipid_mixed_eol.hl7').segments.find((segment) => segment.id === 'OBR')?.fields[3]).toBe('185L29839X64489JLPF~X64489^ACC_NUM');
  });

  it('the HL7 standard’s glucose example (v2.4, no final terminator): a structured numeric (SN) with its range and flag', () => {
    const view = oru('oru_r01_v24_glucose_hl7_std_example.hl7');
    expect(view.header).toMatchObject({ controlId: 'CNTRL-3456', version: '2.4', sentAt: '20020215093000+0600' });
    expect(view.patient).toMatchObject({ identifiers: [{ id: '555-44-4444' }], family: 'EVERYWOMAN', given: 'EVE' });
    expect(view.orders[0]).toMatchObject({ placerId: '845439', fillerId: '1045813', test: { code: '15545', text: 'GLUCOSE' } });
    expect(observations(view)).toEqual([expect.objectContaining({ valueType: 'SN', numeric: '182', comparator: null, value: '182', units: { code: 'mg/dl', text: '', system: '' }, referenceRange: '70_105', flags: ['H'] })]);
  });

  it('hemogram with a BOM (v2.5): two orders, empty values still pending (I), +0700 times', () => {
    const view = oru('oru_r01_v25_hemogram_bom.hl7');
    expect(view.header).toMatchObject({ controlId: '182', version: '2.5' });
    expect(view.orders.map((order) => [order.placerId, order.fillerId, order.test.code, order.observations.length])).toEqual([['88502218', '82503246', '24317-0', 5], ['855238581', '890775544', '26464-8', 5]]);
    const first = view.orders[0]?.observations ?? [];
    expect(first.map((result) => [result.status, result.numeric])).toEqual([['I', null], ['P', '4.06'], ['I', null], ['P', '40.1'], ['F', '221']]);
  });

  it('NIST LRI CBC (v2.5.1, BOM): 28 OBX — 19 NM with UCUM units and "x to y" ranges, CWE and TX — HH and A flags, MSH-21 repeated', () => {
    const view = oru('oru_r01_v251_nist_lri_cbc_nm_refrange.hl7');
    expect(view.header).toMatchObject({ controlId: 'NIST-LRI-NG-002.00', processingId: 'T' });
    expect(view.patient.identifiers).toEqual([{ id: 'PATID1234', authority: 'NIST MPI', type: 'MR' }]);
    const results = observations(view);
    expect(results).toHaveLength(28);
    expect(results.filter((result) => result.valueType === 'NM')).toHaveLength(19);
    expect(results[1]).toMatchObject({ code: { code: '718-7' }, numeric: '12.5', units: { code: 'g/mL', system: 'UCUM' }, referenceRange: '13 to 18', flags: ['L'] });
    expect(results.filter((result) => result.flags.includes('HH')).map((result) => result.code.code)).toEqual(['26464-8', '26449-9', '26474-7', '26499-4']);
    expect(results[19]).toMatchObject({ valueType: 'CWE', value: 'Present ++ out of ++++', flags: ['A'] });
    expect(results[25]).toMatchObject({ valueType: 'TX', value: 'Many spherocytes present.' });
    expect(only('oru_r01_v251_nist_lri_cbc_nm_refrange.hl7').segments[0]?.fields[21]?.split('~')).toHaveLength(3);
  });

  it('batches (FHS/BHS … BTS/FTS), CR-only and LF: one ORU each, the envelope kept apart', () => {
    const cr = parseHl7(read('oru_r01_v251_batch_fhs_bhs_cr.hl7'));
    expect(cr.header.map((segment) => segment.id)).toEqual(['FHS', 'BHS']);
    const covid = readOru(cr.messages[0] as Hl7Message).view;
    expect(covid.header.controlId).toBe('1234d1d1-95fe-462c-8ac6-46728dba581c');
    expect(covid.patient).toMatchObject({ family: 'Bunny', given: 'Bugs', identifiers: [{ type: 'PI', authority: 'Winchester House' }] });
    expect(observations(covid).map((result) => [result.valueType, result.code.code, result.value])).toEqual([['CWE', '94558-4', 'Not detected'], ['CWE', '95418-0', 'No'], ['CWE', '95417-2', 'No'], ['CWE', '95421-4', 'Yes'], ['CWE', '95419-8', 'No']]);

    const lf = parseHl7(read('oru_r01_v251_batch_fhs_bhs_lf.hl7'));
    const simple = readOru(lf.messages[0] as Hl7Message).view;
    expect(simple.header.controlId).toBe('1519ae86-98f4-40d8-9780-d5211186e5b5');
    expect(simple.patient).toMatchObject({ family: 'Patient', given: 'Test' });
    expect(observations(simple)).toEqual([expect.objectContaining({ valueType: 'CE', code: expect.objectContaining({ code: '97099-6' }), value: 'Not detected', flags: ['N'], notes: [expect.stringContaining('Has symptoms related to condition of interest')] })]);
    // PID-13 repeats (a phone, then an email).
    const pid = lf.messages[0]?.segments.find((segment) => segment.id === 'PID');
    expect(pid?.fields[13]?.split('~')[1]).toContain('test.email@gmail.com');
  });

  it('an ADT^A01 and an ORM^O01 parse, and are refused by a result receiver as unsupported (AR, 200 at MSH-9)', () => {
    for (const name of ['adt_a01_v23.hl7', 'orm_o01_v23_escapes_crlf.hl7']) {
      const assessed = assessOru(only(name));
      expect(assessed).toMatchObject({ code: 'AR', issues: [{ code: '200', segment: 'MSH', field: 9 }] });
    }
    // The ADT's trailing spaces are not part of the values.
    expect(only('adt_a01_v23.hl7').segments[0]?.fields.at(-1)).not.toMatch(/ $/);
  });

  it('the ORM’s NTE escapes: \\.br\\ and hex \\X0D\\\\X0A\\ line breaks, highlighting dropped', () => {
    const message = only('orm_o01_v23_escapes_crlf.hl7');
    const notes = message.segments.filter((segment) => segment.id === 'NTE').map((segment) => decode(segment.fields[3] ?? '', message.delimiters));
    expect(notes[0]).toBe('some text\nsome text after new line\nissue Efferent-Health#82');
    expect(notes[1]).toBe('some text\r\nsome text after new line\r\nissue Efferent-Health#81');
  });
});

describe('syntax', () => {
  it('decodes every escape, keeps an unknown or unterminated one as written', () => {
    const d = DEFAULT_DELIMITERS;
    expect(decode('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f', d)).toBe('a|b^c&d~e\\f');
    expect(decode('\\H\\bold\\N\\ \\X4F4B\\', d)).toBe('bold OK');
    expect(decode('x\\Q\\y \\F', d)).toBe('x\\Q\\y \\F');
    expect(decode('""', d)).toBe('');
    expect(decode(encodeText('a|b^c&d~e\\f\nnext', d), d)).toBe('a|b^c&d~e\\f\nnext');
  });

  it('non-default separators are read from MSH-1/2', () => {
    const batch = parseHl7('MSH#*%@$#LAB#FAC#CG#DEV#20261205120000##ORU*R01#C1#P#2.5.1\rPID#1##MRN-1***HOSP$X*MR##DOE*JANE\rOBR#1##F1#2823-3*POTASSIUM*LN\rOBX#1#NM#2823-3*Potassium*LN##6.9#mmol/L*mmol/L*UCUM#3.5-5.1#HH###F');
    const { view, issues } = readOru(batch.messages[0] as Hl7Message);
    expect(issues).toEqual([]);
    expect(view.patient.identifiers).toEqual([{ id: 'MRN-1', authority: 'HOSP', type: 'MR' }]);
    expect(observations(view)[0]).toMatchObject({ numeric: '6.9', flags: ['HH'], units: { code: 'mmol/L', system: 'UCUM' } });
  });

  it('bad encoding characters, no MSH, a segment before MSH, a number that is not one: each located', () => {
    const unreadable = parseHl7('MSH|^^\\&|LAB').messages[0] as Hl7Message;
    expect(unreadable.unreadable).toEqual(expect.objectContaining({ code: '102', segment: 'MSH', field: 2 }));
    expect(assessOru(unreadable)).toMatchObject({ code: 'AR', issues: [{ code: '102' }] });
    expect(parseHl7('PID|1||X').issues).toEqual([expect.objectContaining({ code: '100', segment: 'PID', position: 1 })]);
    expect(parseHl7('').issues).toEqual([expect.objectContaining({ code: '100', message: 'the message is empty' })]);
    const bad = parseHl7('MSH|^~\\&|LAB|F|CG|D|20261205||ORU^R01|C2|P|2.5\rPID|1||\rOBR|1\rOBX|1|NM|2823-3||six|mmol/L');
    expect(assessOru(bad.messages[0] as Hl7Message)).toMatchObject({ code: 'AE', issues: [{ code: '101', segment: 'PID', position: 2, field: 3 }, { code: '102', segment: 'OBX', position: 4, field: 5 }] });
    expect(segmentLines('\uFEFFMSH|x\r\n\nPID|1   \rOBR|1\n')).toEqual(['MSH|x', 'PID|1', 'OBR|1']);
  });
});

describe('ACK', () => {
  const now = new Date('2026-12-05T14:30:00Z');
  const options = { application: 'CAREGRAPH', facility: 'DEVICES', now, controlId: 'ACK-1' };

  it('AA: sender and receiver swapped, its own control id, version and processing id mirrored, MSA-2 the message’s control id', () => {
    const message = only('oru_r01_v251_nist_lri_cbc_nm_refrange.hl7');
    expect(buildAck(message, 'AA', [], options).split('\r')).toEqual([
      'MSH|^~\\&|CAREGRAPH|DEVICES|NIST Test Lab APP|NIST Lab Facility|20261205143000+0000||ACK^R01^ACK|ACK-1|T|2.5.1',
      'MSA|AA|NIST-LRI-NG-002.00',
    ]);
  });

  it('AE with ERR-2 location and ERR-3 code (2.5); ERR-1 before 2.5', () => {
    const bad = parseHl7('MSH|^~\\&|LAB|F|CG|D|20261205||ORU^R01|C2|P|2.5\rPID|1||\rOBR|1').messages[0] as Hl7Message;
    const assessed = assessOru(bad);
    expect(buildAck(bad, assessed.code, assessed.issues, options).split('\r').slice(1)).toEqual(['MSA|AE|C2', 'ERR||PID^2^3|101^Required field missing^HL70357|E||||PID-3 (patient identifier list) is required']);
    const old = parseHl7('MSH|^~\\&|LAB|F|CG|D|20261205||ORU^R01|C3|P|2.3\rPID|1||\rOBR|1').messages[0] as Hl7Message;
    expect(buildAck(old, 'AE', assessOru(old).issues, options).split('\r').slice(1)).toEqual(['MSA|AE|C3|PID-3 (patient identifier list) is required', 'ERR|PID^2^3^101&Required field missing&HL70357']);
  });

  it('the hl7 command prints each message with its view and ACK, and exits 1 with the ERR location when one is refused', () => {
    const ok = JSON.parse(execFileSync('npx', ['tsx', 'scripts/hl7.ts', `${DIR}/oru_r01_v24_glucose_hl7_std_example.hl7`], { encoding: 'utf8' })) as { valid: boolean; messages: Array<{ ackCode: string; ack: string; result: OruView }> };
    expect(ok.valid).toBe(true);
    expect(ok.messages[0]?.ackCode).toBe('AA');
    expect(ok.messages[0]?.ack).toContain('MSA|AA|CNTRL-3456');
    expect(ok.messages[0]?.result.orders[0]?.observations[0]?.numeric).toBe('182');
    let status = 0;
    let output = '';
    try {
      execFileSync('npx', ['tsx', 'scripts/hl7.ts', `${DIR}/adt_a01_v23.hl7`], { encoding: 'utf8' });
    } catch (error) {
      status = (error as { status: number }).status;
      output = (error as { stdout: string }).stdout;
    }
    expect(status).toBe(1);
    expect(JSON.parse(output)).toMatchObject({ valid: false, errors: [{ code: '200', segment: 'MSH', position: 1, field: 9, ack: expect.stringContaining('MSA|AR|599102') }] });
  });
});
