import { ORGS, PATIENTS } from '../../prisma/seed-data.js';
import { entitiesQuery, runAgainstSubgraph, runThroughGateway, type Caller, type MatrixCase } from '../support/authz-matrix.js';
import { FakeStripe } from '../support/fake-stripe.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Every role against every root field of the billing subgraph and its entity lookups: the
 * patient's own invoice, another patient's, another organization's.
 */
const stripe = new FakeStripe();
let t: TestPlatform;
let amaraInvoice = '';
let bayoInvoice = '';
let hospitalInvoice = '';

async function openInvoice(user: 'billing' | 'hospitalAdmin', patientId: string): Promise<string> {
  const headers = { authorization: `Bearer ${await t.tokenFor(user)}` };
  const created = await postGraphQL(t.graphqlUrl, { query: 'mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { id } }', variables: { input: { patientId, currency: 'NGN', lines: [{ description: 'Consultation', quantity: 1, unitAmount: 500_000 }] } } }, headers);
  const id = (created.json.data?.['createInvoice'] as { id: string }).id;
  await postGraphQL(t.graphqlUrl, { query: `mutation { finalizeInvoice(id: "${id}") { id } }` }, headers);
  return id;
}

beforeAll(async () => {
  await stripe.start();
  t = await startTestPlatform({ stripe: stripe.config });
  amaraInvoice = await openInvoice('billing', PATIENTS.amaraNorth.id);
  bayoInvoice = await openInvoice('billing', PATIENTS.bayoNorth.id);
  hospitalInvoice = await openInvoice('hospitalAdmin', PATIENTS.fayeHospital.id);
});
afterAll(async () => {
  await t?.close();
  await stripe.stop();
});

const STAFF: Caller[] = ['BILLING', 'ADMIN'];
const UNKNOWN = '00000000-0000-4000-8000-00000000beef';
const PERIOD = `from: "${new Date(Date.now() - 86_400_000).toISOString()}", to: "${new Date(Date.now() + 86_400_000).toISOString()}"`;

const ROOT: MatrixCase[] = [
  { name: 'Query.invoice (own)', query: () => `{ invoice(id: "${amaraInvoice}") { id } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.invoice (another patient’s)', query: () => `{ invoice(id: "${bayoInvoice}") { id } }`, allowed: STAFF },
  { name: 'Query.invoice (another organization’s)', query: () => `{ invoice(id: "${hospitalInvoice}") { id } }`, allowed: [] },
  { name: 'Query.invoices', query: () => '{ invoices { id } }', allowed: STAFF },
  { name: 'Query.reconciliationReport', query: () => `{ reconciliationReport(organizationId: "${ORGS.clinicNorth.id}", ${PERIOD}) { matched { kind } } }`, allowed: STAFF },
  { name: 'Query.reconciliationReport (another organization)', query: () => `{ reconciliationReport(organizationId: "${ORGS.hospital.id}", ${PERIOD}) { matched { kind } } }`, allowed: [] },
  { name: 'Mutation.createInvoice (no lines)', query: () => `mutation { createInvoice(input: {patientId: "${PATIENTS.amaraNorth.id}", currency: USD, lines: []}) { id } }`, allowed: STAFF, allowedCode: 'BAD_USER_INPUT' },
  { name: 'Mutation.finalizeInvoice (unknown)', query: () => `mutation { finalizeInvoice(id: "${UNKNOWN}") { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.voidInvoice (another organization’s)', query: () => `mutation { voidInvoice(id: "${hospitalInvoice}") { id } }`, allowed: [] },
  { name: 'Mutation.startCheckout (own invoice)', query: () => `mutation { startCheckout(invoiceId: "${amaraInvoice}", kind: BALANCE) { sessionId } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Mutation.startCheckout (another patient’s)', query: () => `mutation { startCheckout(invoiceId: "${bayoInvoice}", kind: BALANCE) { sessionId } }`, allowed: STAFF },
  { name: 'Mutation.createPaymentIntent (another organization’s)', query: () => `mutation { createPaymentIntent(invoiceId: "${hospitalInvoice}", amount: 100, kind: DEPOSIT) { clientSecret } }`, allowed: [] },
  { name: 'Mutation.refundPayment (unknown)', query: () => `mutation { refundPayment(paymentId: "${UNKNOWN}", reason: "matrix") { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
];

const ENTITIES: MatrixCase[] = [
  { name: '_entities Invoice (own)', query: () => entitiesQuery('Invoice', amaraInvoice, 'status'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Invoice (another organization’s)', query: () => entitiesQuery('Invoice', hospitalInvoice, 'status'), allowed: [] },
  { name: '_entities Patient.invoices (own)', query: () => entitiesQuery('Patient', PATIENTS.amaraNorth.id, 'invoices { id }'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Patient.invoices (another patient)', query: () => entitiesQuery('Patient', PATIENTS.bayoNorth.id, 'invoices { id }'), allowed: STAFF },
];

describe('billing authorization matrix', () => {
  it('root fields through the gateway', async () => {
    expect(await runThroughGateway(t, ROOT)).toEqual([]);
  });
  it('entity lookups', async () => {
    expect(await runAgainstSubgraph(t, 'billing', ENTITIES)).toEqual([]);
  });
});
