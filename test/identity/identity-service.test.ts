import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../prisma/generated/client/client.js';
import { ORGS, PARTNERS, PATIENTS, USERS, type SeedUser } from '../../prisma/seed-data.js';
import { createContext, type SubgraphContext, type SubgraphDeps } from '../../subgraphs/kit/context.js';
import { Directory } from '../../subgraphs/kit/directory.js';
import { IdentityEvents } from '../../subgraphs/kit/events/identity.js';
import { TrainingEvents } from '../../subgraphs/kit/events/training.js';
import type { Identity } from '../../subgraphs/kit/identity.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { recordEvent } from '../../subgraphs/kit/outbox.js';
import { MemoryPubSub } from '../../subgraphs/kit/pubsub.js';
import { identityForOidcSignIn, platformUserActive } from '../../subgraphs/identity/credentials.js';
import { identitySubgraph } from '../../subgraphs/identity/index.js';
import { seedIdentity } from '../../subgraphs/identity/seed.js';
import * as identity from '../../subgraphs/identity/service.js';
import { openTestDatabase } from '../support/database.js';

/**
 * Identity's services on a real database, through the request context the subgraph serves
 * with (its access policies on `ctx.db`): announcements of patients (also by the seed, once),
 * deactivation, the gateway's platform-user check, webhook endpoints' references to partners
 * and the paged deliveries.
 */
let database: Awaited<ReturnType<typeof openTestDatabase>>;
let prisma: PrismaClient;
let deps: SubgraphDeps;

const as = (user: SeedUser): Identity => ({ kind: 'user', subject: user.id, role: user.role, organizationId: user.organizationId, patientId: user.patientId ?? null });
const ctxOf = (user: SeedUser): SubgraphContext => createContext(deps, identitySubgraph, as(user));
const codeOf = async (promise: Promise<unknown>): Promise<unknown> => promise.then(() => 'OK', (error: { code?: unknown }) => error.code ?? error);
const eventsOf = (type: string, aggregateId: string) => prisma.outboxEvent.findMany({ where: { type, aggregateId } });

beforeAll(async () => {
  database = await openTestDatabase();
  prisma = database.prisma;
  deps = { prisma, pubsub: new MemoryPubSub(), log: createLogger('identity-test', 'silent') };
  await seedIdentity(deps);
});
afterAll(async () => {
  await database?.closeAll();
});

describe('patients are announced to other domains', () => {
  it('the seed announces each patient once, however often it runs', async () => {
    await seedIdentity(deps);
    await seedIdentity(deps);
    for (const patient of Object.values(PATIENTS)) {
      const events = await eventsOf(IdentityEvents.patientRegistered.type, patient.id);
      expect(events.map((e) => e.payload)).toEqual([{ patientId: patient.id, organizationId: patient.organizationId }]);
      expect(events[0]?.organizationId).toBe(patient.organizationId);
    }
    expect(await prisma.outboxEvent.count({ where: { type: IdentityEvents.patientUpdated.type } })).toBe(0);
  });

  it('records identity.patient.registered with the patient, and a directory learns its organization', async () => {
    const patient = await identity.createPatient(ctxOf(USERS.nurse), { mrn: 'EVT-1', givenName: 'Eve', familyName: 'Ventura', birthDate: '1990-01-01' });
    const events = await eventsOf(IdentityEvents.patientRegistered.type, patient.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: 'identity', organizationId: ORGS.clinicNorth.id, payload: { patientId: patient.id, organizationId: ORGS.clinicNorth.id } });
    // What another domain's directory (kit/directory.ts) makes of it.
    const directory = new Directory({ prisma, log: deps.log, domain: 'identity-test-consumer' });
    expect(await directory.organizationOf('Patient', patient.id)).toBe(ORGS.clinicNorth.id);
  });

  it('writes neither the patient nor an event when the registration is refused', async () => {
    const before = { patients: await prisma.patient.count(), events: await prisma.outboxEvent.count() };
    const nurse = ctxOf(USERS.nurse);
    expect(await codeOf(identity.createPatient(nurse, { organizationId: ORGS.hospital.id, mrn: 'EVT-2', givenName: 'No', familyName: 'Body', birthDate: '1990-01-01' }))).toBe('FORBIDDEN');
    // The chain above the clinic is visible to its nurse, but not a place to register patients.
    expect(await codeOf(identity.createPatient(nurse, { organizationId: ORGS.chain.id, mrn: 'EVT-2', givenName: 'No', familyName: 'Body', birthDate: '1990-01-01' }))).toBe('FORBIDDEN');
    expect(await codeOf(identity.createPatient(nurse, { organizationId: randomUUID(), mrn: 'EVT-2', givenName: 'No', familyName: 'Body', birthDate: '1990-01-01' }))).toBe('NOT_FOUND');
    expect(await codeOf(identity.createPatient(nurse, { mrn: PATIENTS.amaraNorth.mrn, givenName: 'Dup', familyName: 'Licate', birthDate: '1990-01-01' }))).toBe('CONFLICT');
    expect(await codeOf(identity.createPatient(ctxOf(USERS.pharmacist), { mrn: 'EVT-3', givenName: 'No', familyName: 'Body', birthDate: '1990-01-01' }))).toBe('FORBIDDEN');
    expect({ patients: await prisma.patient.count(), events: await prisma.outboxEvent.count() }).toEqual(before);
  });

  it('records identity.patient.updated when a record changes, not when nothing does', async () => {
    const nurse = ctxOf(USERS.nurse);
    await identity.updatePatient(nurse, PATIENTS.chidiNorth.id, { city: 'Abuja' });
    expect(await eventsOf(IdentityEvents.patientUpdated.type, PATIENTS.chidiNorth.id)).toHaveLength(1);
    await identity.updatePatient(ctxOf(USERS.nurse), PATIENTS.chidiNorth.id, { city: 'Abuja' });
    expect(await eventsOf(IdentityEvents.patientUpdated.type, PATIENTS.chidiNorth.id)).toHaveLength(1);
    expect((await eventsOf(IdentityEvents.patientUpdated.type, PATIENTS.chidiNorth.id))[0]?.payload).toEqual({ patientId: PATIENTS.chidiNorth.id, organizationId: ORGS.clinicNorth.id });
  });

  it('refuses to change another organization’s patient, with nothing written', async () => {
    const before = await prisma.patient.findUniqueOrThrow({ where: { id: PATIENTS.gusHospital.id } });
    expect(await codeOf(identity.updatePatient(ctxOf(USERS.nurse), PATIENTS.gusHospital.id, { city: 'Elsewhere' }))).toBe('FORBIDDEN');
    expect(await codeOf(identity.updatePatient(ctxOf(USERS.nurse), randomUUID(), { city: 'Elsewhere' }))).toBe('NOT_FOUND');
    expect(await prisma.patient.findUniqueOrThrow({ where: { id: PATIENTS.gusHospital.id } })).toEqual(before);
    expect(await eventsOf(IdentityEvents.patientUpdated.type, PATIENTS.gusHospital.id)).toHaveLength(0);
  });
});

describe('reads go through the policies, and every patient read is audited', () => {
  const reads = (entityId: string) => prisma.auditEvent.count({ where: { entityType: 'Patient', entityId, action: 'read' } });

  it('a search shows staff their organizations’ patients (a chain’s clinics too) and audits each row it returns', async () => {
    const before = await reads(PATIENTS.devikaSouth.id);
    const chain = await identity.searchPatients(ctxOf(USERS.chainAdmin), null, {});
    expect(new Set(chain.map((p) => p.organizationId))).toEqual(new Set([ORGS.clinicNorth.id, ORGS.clinicSouth.id]));
    expect(await reads(PATIENTS.devikaSouth.id)).toBe(before + 1);
    const north = await identity.searchPatients(ctxOf(USERS.billing), null, {});
    expect(north.every((p) => p.organizationId === ORGS.clinicNorth.id)).toBe(true);
    expect(await identity.searchPatients(ctxOf(USERS.learner), null, {})).toEqual([]);
    expect((await identity.searchPatients(ctxOf(USERS.patient), null, {})).map((p) => p.id)).toEqual([PATIENTS.amaraNorth.id]);
  });

  it('a user’s patient record is read (and audited) through the patient path', async () => {
    const patientCtx = ctxOf(USERS.patient);
    const me = await identity.currentUser(patientCtx);
    const before = await reads(PATIENTS.amaraNorth.id);
    expect((await identity.userPatient(patientCtx, me ?? { patientId: null }))?.id).toBe(PATIENTS.amaraNorth.id);
    expect(await reads(PATIENTS.amaraNorth.id)).toBe(before + 1);
  });

  it('users: oneself, or staff sharing an organization', async () => {
    expect((await identity.loadUser(ctxOf(USERS.learner), USERS.learner.id)).id).toBe(USERS.learner.id);
    expect(await codeOf(identity.loadUser(ctxOf(USERS.learner), USERS.nurse.id))).toBe('FORBIDDEN');
    expect(await codeOf(identity.loadUser(ctxOf(USERS.nurse), USERS.hospitalNurse.id))).toBe('FORBIDDEN');
    expect(await codeOf(identity.loadUser(ctxOf(USERS.nurse), randomUUID()))).toBe('NOT_FOUND');
    expect(await identity.userRoles(ctxOf(USERS.nurse), USERS.clinician.id)).toEqual(['CLINICIAN']);
    expect((await identity.listPractitioners(ctxOf(USERS.hospitalAdmin))).map((p) => p.organizationId)).toEqual([ORGS.hospital.id]);
  });

  it('API keys: an admin sees and revokes only their organization’s', async () => {
    const { apiKey } = await identity.createApiKey(ctxOf(USERS.hospitalAdmin), { name: 'Hospital BI', role: 'BI' });
    expect((await identity.listApiKeys(ctxOf(USERS.admin))).map((k) => k.id)).not.toContain(apiKey.id);
    expect(await codeOf(identity.revokeApiKey(ctxOf(USERS.admin), apiKey.id))).toBe('FORBIDDEN');
    expect((await prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } })).revokedAt).toBeNull();
    expect(await codeOf(identity.revokeApiKey(ctxOf(USERS.admin), randomUUID()))).toBe('NOT_FOUND');
  });
});

describe('deactivating users', () => {
  async function member(organizationId: string, role: SeedUser['role'] = 'NURSE'): Promise<string> {
    const user = await prisma.user.create({ data: { email: `${randomUUID()}@caregraph.example.invalid`, displayName: 'Temp Member', memberships: { create: { organizationId, role } } } });
    return user.id;
  }

  it('lets an admin deactivate a member of their organization, once (idempotent)', async () => {
    const id = await member(ORGS.clinicNorth.id);
    const first = await identity.deactivateUser(ctxOf(USERS.admin), id);
    expect(first.deactivatedAt).toBeInstanceOf(Date);
    const again = await identity.deactivateUser(ctxOf(USERS.admin), id);
    expect(again.deactivatedAt?.getTime()).toBe(first.deactivatedAt?.getTime());
  });

  it('refuses users of another organization (a chain’s clinic too), unknown ids and oneself, with nothing written', async () => {
    const hospital = await member(ORGS.hospital.id);
    const south = await member(ORGS.clinicSouth.id);
    expect(await codeOf(identity.deactivateUser(ctxOf(USERS.admin), hospital))).toBe('FORBIDDEN');
    expect(await codeOf(identity.deactivateUser(ctxOf(USERS.chainAdmin), south))).toBe('FORBIDDEN');
    expect(await codeOf(identity.deactivateUser(ctxOf(USERS.admin), randomUUID()))).toBe('NOT_FOUND');
    expect(await codeOf(identity.deactivateUser(ctxOf(USERS.admin), USERS.admin.id))).toBe('BAD_USER_INPUT');
    expect(await codeOf(identity.deactivateUser(ctxOf(USERS.nurse), USERS.clinician.id))).toBe('FORBIDDEN');
    expect(await prisma.user.count({ where: { id: { in: [hospital, south, USERS.admin.id, USERS.clinician.id] }, deactivatedAt: { not: null } } })).toBe(0);
  });

  it('a deactivated user is no longer active for the gateway, and cannot sign in with OIDC', async () => {
    const signIn = { issuer: 'https://idp.example.invalid', subject: `sub-${randomUUID()}`, organizationId: ORGS.clinicNorth.id, role: 'NURSE' as const };
    const signedIn = await identityForOidcSignIn(deps, signIn);
    const userId = signedIn.kind === 'user' ? signedIn.subject : '';
    expect(await platformUserActive(deps, { userId, role: 'NURSE', organizationId: ORGS.clinicNorth.id })).toBe(true);
    await identity.deactivateUser(ctxOf(USERS.admin), userId);
    expect(await platformUserActive(deps, { userId, role: 'NURSE', organizationId: ORGS.clinicNorth.id })).toBe(false);
    expect(await codeOf(identityForOidcSignIn(deps, signIn))).toBe('UNAUTHENTICATED');
  });
});

describe('the gateway’s platform-user check', () => {
  it('answers active only for an existing user with that role in that organization', async () => {
    const nurse = { userId: USERS.nurse.id, role: 'NURSE' as const, organizationId: ORGS.clinicNorth.id };
    expect(await platformUserActive(deps, nurse)).toBe(true);
    expect(await platformUserActive(deps, { ...nurse, organizationId: null })).toBe(true);
    expect(await platformUserActive(deps, { ...nurse, role: 'ADMIN' })).toBe(false);
    expect(await platformUserActive(deps, { ...nurse, organizationId: ORGS.hospital.id })).toBe(false);
    expect(await platformUserActive(deps, { ...nurse, userId: randomUUID() })).toBe(false);
    // Learners are training's: identity never vouches for them, even for a user that has the role here.
    expect(await platformUserActive(deps, { userId: USERS.learner.id, role: 'LEARNER', organizationId: ORGS.clinicNorth.id })).toBe(false);
  });
});

describe('webhook endpoints', () => {
  const HOSPITAL_PARTNER = randomUUID();

  beforeAll(async () => {
    // Partners as training announces them (training's seed does this for the seeded ones).
    await prisma.$transaction(async (tx) => {
      for (const partner of [...Object.values(PARTNERS), { id: HOSPITAL_PARTNER, organizationId: ORGS.hospital.id, principalId: null }]) {
        await recordEvent(tx, TrainingEvents.partnerRegistered, { aggregateId: partner.id, organizationId: partner.organizationId, partnerId: partner.id, payload: { partnerId: partner.id, organizationId: partner.organizationId, principalId: partner.principalId } });
      }
    });
  });

  const input = (extra: Partial<identity.WebhookEndpointInput> = {}): identity.WebhookEndpointInput => ({ url: 'https://hooks.example.invalid/caregraph', eventTypes: ['training.session.completed'], ...extra });

  it('accepts the catalogue’s event types, or *, and names an unknown one', async () => {
    await identity.createWebhookEndpoint(ctxOf(USERS.admin), input({ eventTypes: ['*'] }));
    const refused = await identity.createWebhookEndpoint(ctxOf(USERS.admin), input({ eventTypes: ['training.session.completed', 'training.session.exploded'] })).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'input.eventTypes' } });
    expect((refused as Error).message).toContain('"training.session.exploded"');
  });

  it('limits an endpoint to a partner of the admin’s organization only', async () => {
    const before = await prisma.webhookEndpoint.count();
    expect(await codeOf(identity.createWebhookEndpoint(ctxOf(USERS.admin), input({ partnerId: HOSPITAL_PARTNER })))).toBe('FORBIDDEN');
    expect(await codeOf(identity.createWebhookEndpoint(ctxOf(USERS.hospitalAdmin), input({ partnerId: PARTNERS.northwind.id })))).toBe('FORBIDDEN');
    expect(await codeOf(identity.createWebhookEndpoint(ctxOf(USERS.admin), input({ partnerId: randomUUID() })))).toBe('NOT_FOUND');
    expect(await prisma.webhookEndpoint.count()).toBe(before);
    const { endpoint } = await identity.createWebhookEndpoint(ctxOf(USERS.admin), input({ partnerId: PARTNERS.northwind.id }));
    expect(endpoint).toMatchObject({ organizationId: ORGS.clinicNorth.id, partnerId: PARTNERS.northwind.id });
  });

  it('pages through deliveries newest first with a stable cursor, and refuses bad paging arguments', async () => {
    const { endpoint } = await identity.createWebhookEndpoint(ctxOf(USERS.hospitalAdmin), input());
    const at = new Date('2026-01-01T00:00:00.000Z');
    // Two share a creation time: the id breaks the tie.
    const times = [0, 1000, 1000, 2000, 3000].map((ms) => new Date(at.getTime() + ms));
    const ids: string[] = [];
    for (const createdAt of times) {
      const other = await prisma.outboxEvent.create({ data: { source: 'test', type: 'training.session.completed', aggregateId: randomUUID(), organizationId: ORGS.hospital.id, payload: {} } });
      ids.push((await prisma.webhookDelivery.create({ data: { eventId: other.id, endpointId: endpoint.id, createdAt } })).id);
    }
    const hospital = ctxOf(USERS.hospitalAdmin);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: identity.Page<identity.DeliveryRow> = await identity.listWebhookDeliveries(hospital, { first: 2, after });
      seen.push(...page.edges.map((e) => e.node.id));
      if (after === null) {
        // A delivery arriving meanwhile goes before the pages already read, never into the next ones.
        const late = await prisma.outboxEvent.create({ data: { source: 'test', type: 'training.session.completed', aggregateId: randomUUID(), organizationId: ORGS.hospital.id, payload: {} } });
        await prisma.webhookDelivery.create({ data: { eventId: late.id, endpointId: endpoint.id, createdAt: new Date(at.getTime() + 9000) } });
      }
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const expected = times.map((createdAt, i) => ({ createdAt, id: ids[i] as string })).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1)).map((d) => d.id);
    expect(seen).toEqual(expected);
    expect((await identity.listWebhookDeliveries(hospital, { first: 0 })).edges).toEqual([]);
    expect(await codeOf(identity.listWebhookDeliveries(hospital, { first: 201 }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(identity.listWebhookDeliveries(hospital, { first: -1 }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(identity.listWebhookDeliveries(hospital, { after: 'not-a-cursor' }))).toBe('BAD_USER_INPUT');
    expect(await codeOf(identity.listWebhookDeliveries(hospital, { after: Buffer.from('["yesterday","x"]').toString('base64url') }))).toBe('BAD_USER_INPUT');
    // Another organization's admin sees none of them.
    const north = (await identity.listWebhookDeliveries(ctxOf(USERS.admin), { first: 200 })).edges.map((e) => e.node.id);
    expect(north.filter((id) => ids.includes(id))).toEqual([]);
  });
});
