import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describeFhir, readFhir, type FhirDocument } from '../../subgraphs/insurance/fhir/read.js';

/**
 * FHIR R4 at the boundary: every public sample in test/fixtures/fhir reads with asserted
 * values (money to its written precision, local references resolved), and broken resources
 * give errors at their FHIR paths.
 */
const FIXTURES = new URL('../fixtures/fhir/', import.meta.url);
const fixture = (file: string): string => readFileSync(new URL(file, FIXTURES), 'utf8');
type Json = Record<string, unknown>;
const summaryOf = (document: FhirDocument): Json => (describeFhir(document) as { summary: Json }).summary;
const withChange = (file: string, change: (resource: Json) => void): string => {
  const resource = JSON.parse(fixture(file)) as Json;
  change(resource);
  return JSON.stringify(resource);
};
const errors = (document: FhirDocument) => document.issues.filter((issue) => issue.severity === 'error').map((issue) => [issue.code, issue.path]);

describe('the R4 samples read with their values', () => {
  it.each(['Patient-example.json', 'Claim-100150.json', 'CoverageEligibilityRequest-52345.json', 'CoverageEligibilityResponse-E2500.json', 'Observation-f001.json', 'Observation-heart-rate.json', 'MedicationRequest-medrx0301.json', 'Appointment-example.json', 'ClaimResponse-R3500.json'])('%s is valid R4', (file) => {
    const document = readFhir(fixture(file));
    expect(document.issues).toEqual([]);
    expect(document.valid).toBe(true);
    expect(document.resource?.resourceType).toBe(file.split('-')[0]);
  });

  it('Claim 100150: an oral claim with its coverage, diagnosis and item net as written', () => {
    expect(summaryOf(readFhir(fixture('Claim-100150.json')))).toMatchObject({
      use: 'claim', status: 'active', type: 'oral', patient: 'Patient/1', insurer: 'Organization/2', provider: 'Organization/1',
      insurance: [{ sequence: 1, focal: true, coverage: 'Coverage/9876B1' }], diagnoses: ['123456'],
      items: [{ sequence: 1, productOrService: '1200', servicedDate: '2014-08-16', net: { value: '135.57', currency: 'USD' } }],
    });
  });

  it('ClaimResponse R3500: outcome, adjudications, totals and payment, money kept to its written precision (10.00, not 10)', () => {
    const summary = summaryOf(readFhir(fixture('ClaimResponse-R3500.json')));
    expect(summary).toMatchObject({ use: 'claim', outcome: 'complete', disposition: 'Claim settled as per contract.', insurer: 'http://www.jurisdiction.org/insurers|555123' });
    const adjudication = (summary['items'] as Array<{ adjudication: Json[] }>)[0]?.adjudication;
    expect(adjudication).toEqual([
      { category: 'eligible', amount: { value: '135.57', currency: 'USD' }, value: undefined },
      { category: 'copay', amount: { value: '10.00', currency: 'USD' }, value: undefined },
      { category: 'eligpercent', amount: undefined, value: 80 },
      { category: 'benefit', amount: { value: '90.47', currency: 'USD' }, value: undefined },
    ]);
    expect(summary['payment']).toMatchObject({ amount: { value: '100.47', currency: 'USD' }, date: '2014-08-31' });
  });

  it('CoverageEligibilityRequest / Response: purpose validation, the coverage in force', () => {
    expect(summaryOf(readFhir(fixture('CoverageEligibilityRequest-52345.json')))).toMatchObject({ purpose: ['validation'], patient: 'Patient/pat1', insurer: 'Organization/2', insurance: [{ focal: true, coverage: 'Coverage/9876B1' }] });
    expect(summaryOf(readFhir(fixture('CoverageEligibilityResponse-E2500.json')))).toMatchObject({ outcome: 'complete', disposition: 'Policy is currently in-force.', insurance: [{ coverage: 'Coverage/9876B1', inforce: true }] });
  });

  it('MedicationRequest medrx0301: the contained Medication resolved from #med0310, and the #signature Provenance', () => {
    const document = readFhir(fixture('MedicationRequest-medrx0301.json'));
    expect(summaryOf(document)).toMatchObject({ status: 'completed', intent: 'order', medication: '430127000', dispense: { quantity: { value: '30', unit: 'TAB' }, repeats: 0 } });
    const resource = (describeFhir(document) as { resource: Json }).resource;
    expect((resource['medicationReference'] as Json)['resolved']).toMatchObject({ resourceType: 'Medication', id: 'med0310' });
    expect(((resource['eventHistory'] as Json[])[0] as Json)['resolved']).toMatchObject({ resourceType: 'Provenance', id: 'signature' });
  });

  it('Observation f001 (glucose 6.3 mmol/L, high) and Patient example', () => {
    expect(summaryOf(readFhir(fixture('Observation-f001.json')))).toMatchObject({ status: 'final', code: '15074-8', value: { value: '6.3', code: 'mmol/L' }, interpretation: ['H'], referenceRange: [{ low: { value: '3.1' }, high: { value: '6.2' } }] });
    expect(summaryOf(readFhir(fixture('Patient-example.json')))).toMatchObject({ family: 'Chalmers', given: ['Peter', 'James'], gender: 'male', birthDate: '1974-12-25', identifiers: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' }] });
  });
});

describe('broken resources give errors at their FHIR paths', () => {
  it('not JSON, truncated JSON, or JSON that is not a resource', () => {
    expect(errors(readFhir(fixture('Claim-100150.json').slice(0, 300)))).toEqual([['INVALID_JSON', '']]);
    expect(errors(readFhir('{"id": "x"}'))).toEqual([['NOT_A_RESOURCE', '']]);
    expect(readFhir(fixture('PACKAGE-LICENSE.json')).valid).toBe(false);
  });

  it('a required element missing and a code outside its required binding', () => {
    const document = readFhir(withChange('Claim-100150.json', (claim) => {
      delete claim['patient'];
      claim['use'] = 'bill';
      claim['insurance'] = [];
    }));
    expect(errors(document)).toEqual([
      ['REQUIRED', 'Claim.patient'],
      ['REQUIRED', 'Claim.insurance'],
      ['CODE_NOT_IN_REQUIRED_BINDING', 'Claim.use'],
    ]);
  });

  it('a currency that is not ISO 4217, a date that is not a date, a bad comparator', () => {
    const document = readFhir(withChange('ClaimResponse-R3500.json', (response) => {
      ((((response['item'] as Json[])[0] as Json)['adjudication'] as Json[])[1] as Json)['amount'] = { value: 10, currency: 'NAIRA' };
      response['created'] = '16/08/2014';
    }));
    expect(errors(document).sort()).toEqual([
      ['INVALID_DATE', 'ClaimResponse.created'],
      ['UNKNOWN_CURRENCY', 'ClaimResponse.item[0].adjudication[1].amount.currency'],
    ]);
    const observation = readFhir(withChange('Observation-f001.json', (resource) => {
      ((resource['referenceRange'] as Json[])[0] as Json)['low'] = { value: 3.1, comparator: '~' };
    }));
    expect(errors(observation)).toEqual([['CODE_NOT_IN_REQUIRED_BINDING', 'Observation.referenceRange[0].low.comparator']]);
  });

  it('a local reference naming no contained resource, and a contained resource containing another', () => {
    const document = readFhir(withChange('MedicationRequest-medrx0301.json', (request) => {
      request['medicationReference'] = { reference: '#missing' };
      ((request['contained'] as Json[])[0] as Json)['contained'] = [{ resourceType: 'Organization', id: 'o1' }];
    }));
    expect(errors(document)).toEqual(expect.arrayContaining([
      ['UNRESOLVED_LOCAL_REFERENCE', 'MedicationRequest.medicationReference.reference'],
      ['NESTED_CONTAINED', 'MedicationRequest.contained[0]'],
    ]));
  });

  it('a Bundle names the entry that fails', () => {
    const bundle = {
      resourceType: 'Bundle', type: 'collection',
      entry: [
        { fullUrl: 'urn:uuid:1', resource: JSON.parse(fixture('Claim-100150.json')) as Json },
        { fullUrl: 'urn:uuid:2', resource: { ...(JSON.parse(fixture('ClaimResponse-R3500.json')) as Json), outcome: 'done' } },
      ],
    };
    const document = readFhir(JSON.stringify(bundle));
    expect(errors(document)).toEqual([['CODE_NOT_IN_REQUIRED_BINDING', 'Bundle.entry[1].resource.outcome']]);
    const summary = summaryOf(readFhir(JSON.stringify({ ...bundle, entry: [bundle.entry[0]] })));
    expect(summary).toMatchObject({ type: 'collection', entries: [{ fullUrl: 'urn:uuid:1', resourceType: 'Claim', id: '100150', summary: { use: 'claim' } }] });
  });
});

describe('npm run -s fhir', () => {
  const run = (args: string[], input?: string): { status: number; json: Json } => {
    try {
      return { status: 0, json: JSON.parse(execFileSync('npx', ['tsx', 'scripts/fhir.ts', ...args], { encoding: 'utf8', ...(input ? { input } : {}) })) as Json };
    } catch (error) {
      const failed = error as { status: number; stdout: string };
      return { status: failed.status, json: JSON.parse(failed.stdout) as Json };
    }
  };

  it('prints the normalized view of a valid resource and exits 0', () => {
    const { status, json } = run(['test/fixtures/fhir/ClaimResponse-R3500.json']);
    expect(status).toBe(0);
    expect(json).toMatchObject({ valid: true, resourceType: 'ClaimResponse', id: 'R3500', summary: { outcome: 'complete' } });
  });

  it('prints the failing paths and exits 1 (from stdin)', () => {
    const { status, json } = run(['-'], withChange('Claim-100150.json', (claim) => { delete claim['provider']; }));
    expect(status).toBe(1);
    expect(json).toEqual({ valid: false, errors: [expect.objectContaining({ code: 'REQUIRED', path: 'Claim.provider' })], warnings: [] });
  });
});
