import { adapterFor } from '../../subgraphs/insurance/adapters/index.js';
import { PayerConnections, PayerUnavailable, type EligibilityRequest, type PayerEndpoint, type ResilienceSettings } from '../../subgraphs/insurance/adapters/payer.js';
import { percentOfFraction } from '../../subgraphs/insurance/adapters/x12.js';
import { FAKE_HMO_MAPPING, FakePayer, type FakeMember } from '../support/fake-payers.js';

/**
 * The payer adapters over real HTTP against local fakes that speak each wire format: the same
 * eligibility question to an X12 payer (270/271), a FHIR payer and an HMO's JSON API gives the
 * same answer, money exact in minor units; and every way a payer fails ends as
 * PAYER_UNAVAILABLE with its reason, retried only when a retry could help, with the circuit
 * opening for a payer that keeps failing.
 */
const MEMBERS: FakeMember[] = [
  { memberId: 'SYN-1001', plan: 'GOLD FAMILY', active: true, copay: '1500.50', coinsurancePercent: '10', deductibleRemaining: '25000.00' },
  { memberId: 'SYN-1002', plan: 'BRONZE', active: false },
];
const fakes = { X12: new FakePayer('X12', MEMBERS), FHIR: new FakePayer('FHIR', MEMBERS), REST: new FakePayer('REST', MEMBERS) };
const FAST: ResilienceSettings = { attempts: 3, initialBackoffMs: 5, breakerThreshold: 4, breakerOpenMs: 60_000, defaultTimeoutMs: 2_000 };

const endpointOf = (protocol: keyof typeof fakes, overrides: Partial<PayerEndpoint> = {}): PayerEndpoint => ({
  protocol,
  baseUrl: fakes[protocol].baseUrl,
  apiKey: 'fake-key',
  ...(protocol === 'REST' ? { mapping: FAKE_HMO_MAPPING, currency: 'NGN' } : {}),
  ...(protocol === 'X12' ? { currency: 'USD', payerId: 'FAKEPAYER' } : {}),
  ...overrides,
});
const connections = (endpoints: Record<string, PayerEndpoint>, settings = FAST) => new PayerConnections(endpoints, adapterFor, settings);
const ask = (memberId: string, payer = 'P'): EligibilityRequest => ({
  payer: { code: payer, name: 'Payer' }, provider: { name: 'SYNTHETIC CLINIC', npi: '1234567893' },
  member: { memberId, lastName: 'ADEBAYO', firstName: 'TOLU', birthDate: '1990-04-01' }, serviceType: '30', trace: 'TRACE-1',
});
const failure = async (promise: Promise<unknown>): Promise<PayerUnavailable> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PayerUnavailable) return error;
    throw error;
  }
  throw new Error('expected PAYER_UNAVAILABLE');
};

beforeAll(async () => {
  await Promise.all(Object.values(fakes).map((fake) => fake.start()));
});
afterAll(async () => {
  await Promise.all(Object.values(fakes).map((fake) => fake.stop()));
});
beforeEach(() => {
  for (const fake of Object.values(fakes)) {
    fake.mode = 'ok';
    fake.requests.length = 0;
  }
});

describe.each(['X12', 'FHIR', 'REST'] as const)('%s payer', (protocol) => {
  it('a covered member: in force, plan, copay, coinsurance and deductible remaining exact in minor units', async () => {
    const answer = await connections({ P: endpointOf(protocol) }).checkEligibility(ask('SYN-1001'));
    expect(answer).toMatchObject({ inForce: true, planName: 'GOLD FAMILY', copay: 150050, coinsurancePercent: '10', deductibleRemaining: 2500000, rejection: null });
    expect(answer.currency).toBe(protocol === 'REST' ? 'NGN' : 'USD');
    expect(answer.benefits.map((benefit) => benefit.code)).toEqual(expect.arrayContaining(['1', 'B', 'A', 'C']));
    expect(fakes[protocol].requests).toHaveLength(1);
  });

  it('a member the payer does not know, or whose cover lapsed: not in force, with the reason', async () => {
    const unknown = await connections({ P: endpointOf(protocol) }).checkEligibility(ask('SYN-9999'));
    expect(unknown.inForce).toBe(false);
    expect(unknown.rejection).toEqual({ X12: 'AAA 75', FHIR: 'FHIR a001: Member not found.', REST: 'member not found' }[protocol]);
    const lapsed = await connections({ P: endpointOf(protocol) }).checkEligibility(ask('SYN-1002'));
    expect(lapsed.inForce).toBe(false);
  });

  it('down (503): retried with backoff, then PAYER_UNAVAILABLE (PAYER_ERROR); the payer is asked three times', async () => {
    fakes[protocol].mode = 'down';
    const error = await failure(connections({ P: endpointOf(protocol) }).checkEligibility(ask('SYN-1001')));
    expect(error.code).toBe('PAYER_UNAVAILABLE');
    expect(error.details).toEqual({ payer: 'P', reason: 'PAYER_ERROR' });
    expect(fakes[protocol].requests).toHaveLength(3);
  });

  it('too slow: each attempt times out, then PAYER_UNAVAILABLE (TIMEOUT)', async () => {
    fakes[protocol].mode = 'slow';
    fakes[protocol].slowMs = 1_000;
    const error = await failure(connections({ P: endpointOf(protocol, { timeoutMs: 100 }) }, { ...FAST, attempts: 2 }).checkEligibility(ask('SYN-1001')));
    expect(error.details).toEqual({ payer: 'P', reason: 'TIMEOUT' });
    expect(fakes[protocol].requests).toHaveLength(2);
  });

  it('an answer that does not read: PAYER_UNAVAILABLE (MALFORMED_ANSWER) naming what was wrong, not retried', async () => {
    fakes[protocol].mode = 'malformed';
    const error = await failure(connections({ P: endpointOf(protocol) }).checkEligibility(ask('SYN-1001')));
    expect(error.details).toEqual({ payer: 'P', reason: 'MALFORMED_ANSWER' });
    expect(error.message).toMatch({ X12: /271 COUNT_MISMATCH at SE element 1/, FHIR: /REQUIRED at CoverageEligibilityResponse.outcome/, REST: /not JSON/ }[protocol]);
    expect(fakes[protocol].requests).toHaveLength(1);
  });

  it('wrong credentials: PAYER_UNAVAILABLE (REFUSED), not retried', async () => {
    const error = await failure(connections({ P: endpointOf(protocol, { apiKey: 'wrong' }) }).checkEligibility(ask('SYN-1001')));
    expect(error.details).toEqual({ payer: 'P', reason: 'REFUSED' });
    expect(fakes[protocol].requests).toHaveLength(1);
  });
});

describe('the circuit breaker, per payer', () => {
  it('opens after consecutive failures: the next ask fails fast without reaching the payer, and another payer is unaffected', async () => {
    fakes.X12.mode = 'down';
    const payers = connections({ DOWN: endpointOf('X12'), UP: endpointOf('FHIR') }, { ...FAST, attempts: 1 });
    for (let attempt = 0; attempt < FAST.breakerThreshold; attempt++) {
      expect((await failure(payers.checkEligibility(ask('SYN-1001', 'DOWN')))).details['reason']).toBe('PAYER_ERROR');
    }
    const asked = fakes.X12.requests.length;
    expect((await failure(payers.checkEligibility(ask('SYN-1001', 'DOWN')))).details).toEqual({ payer: 'DOWN', reason: 'CIRCUIT_OPEN' });
    expect(fakes.X12.requests).toHaveLength(asked);
    expect((await payers.checkEligibility(ask('SYN-1001', 'UP'))).inForce).toBe(true);
  });

  it('an operation the payer does not offer is NOT_SUPPORTED every time and never opens its circuit', async () => {
    const payers = connections({ X: endpointOf('X12') }, { ...FAST, attempts: 1, breakerThreshold: 2 });
    for (let attempt = 0; attempt < 4; attempt++) {
      expect((await failure(payers.providerNetwork({ payer: { code: 'X', name: 'X' }, location: 'Lagos' }))).details).toEqual({ payer: 'X', reason: 'NOT_SUPPORTED' });
    }
    expect((await payers.checkEligibility(ask('SYN-1001', 'X'))).inForce).toBe(true);
  });

  it('a payer with no endpoint configured is PAYER_UNAVAILABLE (NOT_CONFIGURED)', async () => {
    expect((await failure(connections({}).checkEligibility(ask('SYN-1001', 'NHIS')))).details).toEqual({ payer: 'NHIS', reason: 'NOT_CONFIGURED' });
  });
});

describe('the X12 inquiry on the wire', () => {
  it('is a valid 270 naming the member, the service type and the trace', async () => {
    await connections({ P: endpointOf('X12') }).checkEligibility(ask('SYN-1001'));
    const sent = fakes.X12.requests[0];
    expect(sent?.headers['content-type']).toBe('application/edi-x12');
    expect(sent?.body).toMatch(/NM1\*IL\*1\*ADEBAYO\*TOLU\*\*\*\*MI\*SYN-1001~/);
    expect(sent?.body).toContain('EQ*30~');
    expect(sent?.body).toContain('DMG*D8*19900401~');
  });

  it('EB08 fractions become percents exactly', () => {
    expect(percentOfFraction('0.2')).toBe('20');
    expect(percentOfFraction('.125')).toBe('12.5');
    expect(percentOfFraction('1')).toBe('100');
    expect(percentOfFraction('0.05')).toBe('5');
  });
});
