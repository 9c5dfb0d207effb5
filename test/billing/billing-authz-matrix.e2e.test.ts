import { ORGS, PATIENTS } from '../../prisma/seed-data.js';
import { entitiesQuery, runAgainstSubgraph, runThroughGateway, type Caller, type MatrixCase } from '../support/authz-matrix.js';
import { FakeStripe } from '../support/fake-stripe.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Every role against every root field of the billing subgraph and its entity lookups: the
 * patient's own invoice, another patient's, another organization's; and every mutation that
 * names a record of another organization (its patient, its invoice, its payment), which must be
 * refused with nothing written and nothing sent to Stripe.
 */
const stripe = new FakeStripe();
let t: TestPlatform;
let amaraInvoice = '';
const AMARA_CONSULTATION = '00000000-0000-4000-8000-0000000c0a5e';
let bayoInvoice = '';
let hospitalInvoice = '';
let hospitalDraft = '';
let hospitalPayment = '';

type Staff = 'billing' | 'hospitalAdmin';
async function asStaff(user: Staff, query: string, variables: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { json } = await postGraphQL(t.graphqlUrl, { query, variables }, { authorization: `Bearer ${await t.tokenFor(user)}` });
  if (!json.data || json.errors?.length) throw new Error(`${user}: ${JSON.stringify(json.errors)}`);
  return json.data;
}

async function draftInvoice(user: Staff, patientId: string): Promise<string> {
  const data = await asStaff(user, 'mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { id } }', { input: { patientId, currency: 'NGN', lines: [{ description: 'Consultation', quantity: 1, unitAmount: 500_000 }] } });
  return (data['createInvoice'] as { id: string }).id;
}

async function openInvoice(user: Staff, patientId: string): Promise<string> {
  const id = await draftInvoice(user, patientId);
  await asStaff(user, 'mutation($id: ID!) { finalizeInvoice(id: $id) { id } }', { id });
  return id;
}

beforeAll(async () => {
  await stripe.start();
  t = await startTestPlatform({ stripe: stripe.config });
  amaraInvoice = await openInvoice('billing', PATIENTS.amaraNorth.id);
  // As if it were a teleconsultation's fee (billing/tele-fees.ts): telemedicine's Consultation shows it.
  await t.platform.database.prisma.invoice.update({ where: { id: amaraInvoice }, data: { sourceType: 'TELE_CONSULTATION', sourceId: AMARA_CONSULTATION } });
  bayoInvoice = await openInvoice('billing', PATIENTS.bayoNorth.id);
  hospitalInvoice = await openInvoice('hospitalAdmin', PATIENTS.fayeHospital.id);
  hospitalDraft = await draftInvoice('hospitalAdmin', PATIENTS.gusHospital.id);
  const intent = await asStaff('hospitalAdmin', 'mutation($id: ID!) { createPaymentIntent(invoiceId: $id, amount: 1000, kind: DEPOSIT) { payment { id } } }', { id: hospitalInvoice });
  hospitalPayment = (intent['createPaymentIntent'] as { payment: { id: string } }).payment.id;
});
afterAll(async () => {
  await t?.close();
  await stripe.stop();
});

const STAFF: Caller[] = ['BILLING', 'ADMIN'];
const UNKNOWN = '00000000-0000-4000-8000-00000000beef';
const LINES = '[{description: "Consultation", quantity: 1, unitAmount: 100}]';
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
  { name: 'Mutation.startCheckout (own invoice)', query: () => `mutation { startCheckout(invoiceId: "${amaraInvoice}", kind: BALANCE) { sessionId } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Mutation.startCheckout (another patient’s)', query: () => `mutation { startCheckout(invoiceId: "${bayoInvoice}", kind: BALANCE) { sessionId } }`, allowed: STAFF },
  { name: 'Mutation.refundPayment (unknown)', query: () => `mutation { refundPayment(paymentId: "${UNKNOWN}", reason: "matrix") { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
];

/** Mutations naming another organization's records, or records that do not exist: refused, nothing written. */
const REFERENCES: MatrixCase[] = [
  { name: 'Mutation.createInvoice (another organization’s patient)', query: () => `mutation { createInvoice(input: {patientId: "${PATIENTS.fayeHospital.id}", currency: NGN, lines: ${LINES}}) { id } }`, allowed: [] },
  { name: 'Mutation.createInvoice (own patient, another organizationId)', query: () => `mutation { createInvoice(input: {patientId: "${PATIENTS.amaraNorth.id}", organizationId: "${ORGS.hospital.id}", currency: NGN, lines: ${LINES}}) { id } }`, allowed: [] },
  { name: 'Mutation.createInvoice (another organization’s patient and organizationId)', query: () => `mutation { createInvoice(input: {patientId: "${PATIENTS.fayeHospital.id}", organizationId: "${ORGS.hospital.id}", currency: NGN, lines: ${LINES}}) { id } }`, allowed: [] },
  { name: 'Mutation.createInvoice (unknown patient)', query: () => `mutation { createInvoice(input: {patientId: "${UNKNOWN}", currency: NGN, lines: ${LINES}}) { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.finalizeInvoice (another organization’s)', query: () => `mutation { finalizeInvoice(id: "${hospitalDraft}") { id } }`, allowed: [] },
  { name: 'Mutation.voidInvoice (another organization’s)', query: () => `mutation { voidInvoice(id: "${hospitalInvoice}") { id } }`, allowed: [] },
  { name: 'Mutation.startCheckout (another organization’s)', query: () => `mutation { startCheckout(invoiceId: "${hospitalInvoice}", kind: BALANCE) { sessionId } }`, allowed: [] },
  { name: 'Mutation.createPaymentIntent (another organization’s)', query: () => `mutation { createPaymentIntent(invoiceId: "${hospitalInvoice}", amount: 100, kind: DEPOSIT) { clientSecret } }`, allowed: [] },
  { name: 'Mutation.refundPayment (another organization’s)', query: () => `mutation { refundPayment(paymentId: "${hospitalPayment}", reason: "matrix") { id } }`, allowed: [] },
];

/** What the refused mutations could have left behind: billing's rows, its events, calls to Stripe. */
async function footprint(): Promise<Record<string, number>> {
  const prisma = t.platform.database.prisma;
  return {
    invoices: await prisma.invoice.count(),
    invoiceLines: await prisma.invoiceLine.count(),
    payments: await prisma.payment.count(),
    refunds: await prisma.refund.count(),
    events: await prisma.outboxEvent.count({ where: { source: 'billing' } }),
    stripeCalls: stripe.requests.length,
  };
}

const ENTITIES: MatrixCase[] = [
  { name: '_entities Invoice (own)', query: () => entitiesQuery('Invoice', amaraInvoice, 'status'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Invoice (another organization’s)', query: () => entitiesQuery('Invoice', hospitalInvoice, 'status'), allowed: [] },
  { name: '_entities Patient.invoices (own)', query: () => entitiesQuery('Patient', PATIENTS.amaraNorth.id, 'invoices { id }'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Patient.invoices (another patient)', query: () => entitiesQuery('Patient', PATIENTS.bayoNorth.id, 'invoices { id }'), allowed: STAFF },
  { name: '_entities Consultation.feeInvoice (own)', query: () => entitiesQuery('Consultation', AMARA_CONSULTATION, 'feeInvoice { id source { type id } }'), allowed: ['PATIENT', ...STAFF] },
];

describe('billing authorization matrix', () => {
  it('root fields through the gateway', async () => {
    expect(await runThroughGateway(t, ROOT)).toEqual([]);
  });
  it('references to another organization’s records: refused, nothing written, nothing sent to Stripe', async () => {
    const before = await footprint();
    expect(await runThroughGateway(t, REFERENCES)).toEqual([]);
    expect(await footprint()).toEqual(before);
  });
  it('entity lookups', async () => {
    expect(await runAgainstSubgraph(t, 'billing', ENTITIES)).toEqual([]);
  });
});
