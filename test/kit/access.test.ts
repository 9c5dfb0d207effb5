import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../prisma/generated/client/client.js';
import { NOTHING, scopedClient, visibleRows, type AccessPolicies } from '../../subgraphs/kit/access.js';
import { DomainError, forbidden } from '../../subgraphs/kit/errors.js';
import type { Identity } from '../../subgraphs/kit/identity.js';
import { openTestDatabase } from '../support/database.js';

/**
 * The access-checked data path against a real database: every query filtered by the policy,
 * creates checked, rows outside the scope refused rather than shown, PHI reads and changes
 * audited (changes in a transaction only once it commits), models without a policy unusable.
 */
let database: Awaited<ReturnType<typeof openTestDatabase>>;
let prisma: PrismaClient;
const ORG_A = `org-a-${randomUUID()}`;
const ORG_B = `org-b-${randomUUID()}`;
const [P_A, P_B] = [randomUUID(), randomUUID()];

const staffOf = (organizationId: string): Identity => ({ kind: 'user', subject: `nurse-${organizationId}`, role: 'NURSE', organizationId });
const POLICIES: AccessPolicies = {
  Patient: {
    read: (scope) => (scope.identity.kind === 'anonymous' || !scope.identity.organizationId ? NOTHING : { organizationId: scope.identity.organizationId }),
    create: (scope, data) => {
      if (scope.identity.kind === 'anonymous' || data['organizationId'] !== scope.identity.organizationId) throw forbidden('not your organization');
    },
    audited: true,
  },
};
const db = (identity: Identity) => scopedClient({ subgraph: 'test', prisma, identity, policies: POLICIES });
const audits = (entityId: string, action?: string) => prisma.auditEvent.count({ where: { entityType: 'Patient', entityId, ...(action ? { action } : {}) } });
const patient = (id: string, organizationId: string, mrn: string) => ({ id, organizationId, mrn, givenName: 'Test', familyName: 'Person', birthDate: new Date('1990-01-01') });

beforeAll(async () => {
  database = await openTestDatabase();
  prisma = database.prisma;
  for (const id of [ORG_A, ORG_B]) await prisma.organization.create({ data: { id, name: id, kind: 'CLINIC' } });
  await prisma.patient.createMany({ data: [patient(P_A, ORG_A, 'A-1'), patient(P_B, ORG_B, 'B-1')] });
});
afterAll(async () => {
  await database?.closeAll();
});

describe('the access-checked data path', () => {
  it('filters every read by the policy and audits the rows it returns', async () => {
    const rows = await db(staffOf(ORG_A)).patient.findMany({ where: { mrn: { in: ['A-1', 'B-1'] } } });
    expect(rows.map((r) => r.id)).toEqual([P_A]);
    expect(await db(staffOf(ORG_A)).patient.count({ where: { id: P_B } })).toBe(0);
    expect(await audits(P_A, 'read')).toBe(1);
    expect(await audits(P_B)).toBe(0);
  });

  it('refuses a unique lookup of a row outside the scope (FORBIDDEN), and finds nothing for one that does not exist', async () => {
    await expect(db(staffOf(ORG_A)).patient.findUnique({ where: { id: P_B } })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await db(staffOf(ORG_A)).patient.findUnique({ where: { id: randomUUID() } })).toBeNull();
    await expect(db(staffOf(ORG_A)).patient.findUniqueOrThrow({ where: { id: randomUUID() } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses to change a row outside the scope, leaving it as it was', async () => {
    await expect(db(staffOf(ORG_A)).patient.update({ where: { id: P_B }, data: { city: 'Elsewhere' } })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await db(staffOf(ORG_A)).patient.updateMany({ where: { id: P_B }, data: { city: 'Elsewhere' } })).count).toBe(0);
    expect((await prisma.patient.findUniqueOrThrow({ where: { id: P_B } })).city).toBeNull();
    expect(await audits(P_B)).toBe(0);
  });

  it('checks every row it creates', async () => {
    const id = randomUUID();
    await expect(db(staffOf(ORG_A)).patient.create({ data: patient(id, ORG_B, 'B-2') })).rejects.toBeInstanceOf(DomainError);
    expect(await prisma.patient.count({ where: { id } })).toBe(0);
    await db(staffOf(ORG_A)).patient.create({ data: patient(id, ORG_A, 'A-2') });
    expect(await audits(id, 'create')).toBe(1);
  });

  it('audits changes made in a transaction once it commits, and not at all when it rolls back', async () => {
    const client = db(staffOf(ORG_A));
    await expect(
      client.$transaction(async (tx) => {
        await tx.patient.update({ where: { id: P_A }, data: { city: 'Rolled back' } });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await audits(P_A, 'update')).toBe(0);
    await client.$transaction(async (tx) => tx.patient.update({ where: { id: P_A }, data: { city: 'Committed' } }));
    expect(await audits(P_A, 'update')).toBe(1);
  });

  it('runs its own lookups inside a transaction on that transaction (the embedded database has one connection)', async () => {
    const client = db(staffOf(ORG_A));
    const outcome = await client.$transaction(async (tx) => {
      const hidden = await tx.patient.findUnique({ where: { id: P_B } }).catch((error: unknown) => (error as DomainError).code);
      const changed = await tx.patient.updateMany({ where: { mrn: 'A-1' }, data: { city: 'In a transaction' } });
      return { hidden, changed: changed.count };
    }, { timeout: 5_000 });
    expect(outcome).toEqual({ hidden: 'FORBIDDEN', changed: 1 });
    expect(await audits(P_A, 'update')).toBeGreaterThanOrEqual(1);
  });

  it('turns a batched load into rows, FORBIDDEN and NOT_FOUND per id', async () => {
    const missing = randomUUID();
    const ids = [P_A, P_B, missing];
    const rows = await db(staffOf(ORG_A)).patient.findMany({ where: { id: { in: ids } } });
    const results = await visibleRows(ids, rows, prisma, 'Patient');
    expect(results.map((r) => (r instanceof DomainError ? r.code : (r as { id: string }).id))).toEqual([P_A, 'FORBIDDEN', 'NOT_FOUND']);
  });

  it('denies anonymous callers everything and refuses models without a policy', async () => {
    expect(await db({ kind: 'anonymous' }).patient.findMany({})).toEqual([]);
    await expect(db(staffOf(ORG_A)).organization.findMany({})).rejects.toThrow(/no access policy for Organization/);
  });
});
