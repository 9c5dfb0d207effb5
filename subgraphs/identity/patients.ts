import { Prisma, type Patient, type PrismaClient } from '../../prisma/generated/client/client.js';
import { conflictOnUniqueViolation, loadVisible } from '../kit/access.js';
import { forbidden, InputProblems } from '../kit/errors.js';
import { IdentityEvents } from '../kit/events/identity.js';
import { patientIdentifierDigest } from '../kit/identifiers.js';
import { requireRole, requireSignedIn, Role } from '../kit/identity.js';
import { recordEvent, type TransactionClient } from '../kit/outbox.js';
import { PATIENT_EDITORS } from './policies.js';
import type { Ctx } from './context.js';
import { loadOrganization } from './organizations.js';

/**
 * Patient records. Which records a caller may read or change is the access policy's
 * (policies.ts), applied to every query through `ctx.db`, which also audits every read and
 * change: nothing here checks or audits by hand. Creating and changing a record announces it
 * (identity.patient.registered / .updated) in the same transaction, so other domains' patient
 * directories know each patient's organization.
 */

/** The fields a patient may change on their own record. */
const SELF_SERVICE_FIELDS = new Set(['phone', 'email', 'addressLine', 'city', 'country']);

/**
 * Loads patients by id for this request, batched (root field and `_entities` share it). A
 * patient the caller may not see is FORBIDDEN; one that does not exist, NOT_FOUND.
 */
export async function loadPatient(ctx: Ctx, id: string): Promise<Patient> {
  requireSignedIn(ctx.identity);
  return loadVisible<Patient>(ctx, 'Patient', id);
}

export async function searchPatients<Q extends Prisma.PatientFindManyArgs>(ctx: Ctx, search: string | null | undefined, query: Q): Promise<Patient[]> {
  requireSignedIn(ctx.identity);
  const term = search?.trim();
  const where: Prisma.PatientWhereInput | undefined = term
    ? { OR: [{ familyName: { contains: term, mode: 'insensitive' } }, { givenName: { contains: term, mode: 'insensitive' } }, { mrn: { equals: term } }] }
    : undefined;
  return ctx.db.patient.findMany({ ...query, where, orderBy: [{ familyName: 'asc' }, { givenName: 'asc' }, { id: 'asc' }] });
}

export interface PatientInput {
  organizationId?: string | null;
  mrn?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  birthDate?: string | null;
  sex?: string | null;
  phone?: string | null;
  email?: string | null;
  addressLine?: string | null;
  city?: string | null;
  country?: string | null;
}

/** What may change on an existing record: a patient stays in their organization. */
export type PatientChanges = Omit<PatientInput, 'organizationId'>;

const NAME_PATTERN = /^[\p{L}\p{M}' .-]{1,100}$/u;
const MRN_PATTERN = /^[A-Za-z0-9-]{3,32}$/;
const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,}$/;
const PHONE_PATTERN = /^\+?[0-9 ()-]{7,20}$/;
const COUNTRY_PATTERN = /^[A-Z]{2}$/;
const SEXES = new Set(['FEMALE', 'MALE', 'OTHER', 'UNKNOWN']);

function validatePatientInput(input: PatientChanges, creating: boolean): Prisma.PatientUncheckedUpdateInput {
  const problems = new InputProblems();
  const data: Prisma.PatientUncheckedUpdateInput = {};
  const text = (field: keyof PatientChanges, pattern: RegExp, message: string, required: boolean): void => {
    const raw = input[field];
    if (raw === undefined || (raw === null && !required)) {
      if (creating && required) problems.add(`input.${field}`, 'is required');
      if (raw === null) (data as Record<string, unknown>)[field] = null;
      return;
    }
    const value = raw?.trim() ?? '';
    if (!pattern.test(value)) return problems.add(`input.${field}`, message);
    (data as Record<string, unknown>)[field] = value;
  };
  text('mrn', MRN_PATTERN, 'must be 3-32 letters, digits or dashes', true);
  text('givenName', NAME_PATTERN, 'must be 1-100 letters', true);
  text('familyName', NAME_PATTERN, 'must be 1-100 letters', true);
  text('phone', PHONE_PATTERN, 'is not a phone number', false);
  text('email', EMAIL_PATTERN, 'is not an email address', false);
  text('addressLine', /^[^\p{Cc}]{1,200}$/u, 'must be 1-200 characters', false);
  text('city', /^[^\p{Cc}]{1,100}$/u, 'must be 1-100 characters', false);
  text('country', COUNTRY_PATTERN, 'must be an ISO 3166 alpha-2 code such as NG', false);
  if (input.sex !== undefined && input.sex !== null) {
    if (SEXES.has(input.sex)) data.sex = input.sex;
    else problems.add('input.sex', 'is not a known value');
  }
  if (input.birthDate === undefined || input.birthDate === null) {
    if (creating) problems.add('input.birthDate', 'is required');
  } else {
    const birth = new Date(`${input.birthDate}T00:00:00Z`);
    if (Number.isNaN(birth.getTime())) problems.add('input.birthDate', 'is not a date');
    else if (birth.getTime() > Date.now()) problems.add('input.birthDate', 'is in the future');
    else if (birth.getUTCFullYear() < 1900) problems.add('input.birthDate', 'is before 1900');
    else data.birthDate = birth;
  }
  problems.throwIfAny();
  return data;
}

const mapUniqueViolation = (error: unknown): never => conflictOnUniqueViolation(error, 'A patient with this MRN already exists in the organization');

const PATIENT_ANNOUNCEMENT = { registered: IdentityEvents.patientRegistered, updated: IdentityEvents.patientUpdated } as const;

/**
 * Tells other domains a patient exists, or changed, in an organization: ids only, never the
 * record; the MRN as a keyed digest (kit/identifiers.ts), so results from outside can be matched.
 */
function announcePatient(tx: TransactionClient, patient: Pick<Patient, 'id' | 'organizationId' | 'mrn'>, change: keyof typeof PATIENT_ANNOUNCEMENT, identifierKey: string | undefined): Promise<unknown> {
  const mrnDigest = identifierKey ? patientIdentifierDigest(identifierKey, patient.organizationId, patient.mrn) : undefined;
  return recordEvent(tx, PATIENT_ANNOUNCEMENT[change], { aggregateId: patient.id, organizationId: patient.organizationId, payload: { patientId: patient.id, organizationId: patient.organizationId, ...(mrnDigest ? { mrnDigest } : {}) } });
}

/** The Pothos selection of a patient, widened to the id and organization the announcement needs. */
function withOrganization<Q extends { select?: object | null }>(query: Q | undefined): Q | undefined {
  return query?.select ? { ...query, select: { ...query.select, id: true, organizationId: true, mrn: true } } : query;
}

export async function createPatient<Q extends Omit<Prisma.PatientCreateArgs, 'data'>>(ctx: Ctx, input: PatientInput, query?: Q): Promise<Patient> {
  const caller = requireRole(ctx.identity, PATIENT_EDITORS, 'You may not register patients');
  const data = validatePatientInput(input, true);
  const organizationId = input.organizationId ?? caller.organizationId;
  if (!organizationId) throw forbidden('You may not register patients outside an organization');
  // Settles the caller's scope before the transaction (an unknown organization is NOT_FOUND): on
  // a one-connection database a policy's own lookup cannot run while the transaction holds it.
  // Whether the caller may register patients there is the policy's (FORBIDDEN).
  await loadOrganization(ctx, organizationId);
  try {
    return await ctx.db.$transaction(async (tx) => {
      const patient = await tx.patient.create({ ...withOrganization(query), data: { ...(data as Prisma.PatientUncheckedCreateInput), organizationId } });
      await announcePatient(tx, patient, 'registered', ctx.identifierKey);
      return patient;
    });
  } catch (error) {
    return mapUniqueViolation(error);
  }
}

export async function updatePatient<Q extends Omit<Prisma.PatientUpdateArgs, 'data' | 'where'>>(ctx: Ctx, id: string, input: PatientChanges, query?: Q): Promise<Patient> {
  const caller = requireRole(ctx.identity, [Role.PATIENT, ...PATIENT_EDITORS], 'You may not change patient records');
  // FORBIDDEN / NOT_FOUND before anything else, and the scope settled before the transaction
  // (see createPatient). For the roles allowed here the policy lets them change what they read.
  const existing = await loadPatient(ctx, id);
  if (caller.role === Role.PATIENT) {
    // Which record is the policy's; which fields a patient may change is this rule's.
    const disallowed = Object.keys(input).filter((field) => input[field as keyof PatientChanges] !== undefined && !SELF_SERVICE_FIELDS.has(field));
    if (disallowed.length > 0) throw forbidden(`Patients may change only their contact details, not ${disallowed.join(', ')}`);
  }
  const data = validatePatientInput(input, false);
  const changed = Object.entries(data).some(([field, value]) => !sameValue(existing[field as keyof Patient], value));
  try {
    return await ctx.db.$transaction(async (tx) => {
      const patient = await tx.patient.update({ ...query, where: { id }, data });
      if (changed) await announcePatient(tx, { ...existing, mrn: typeof data.mrn === 'string' ? data.mrn : existing.mrn }, 'updated', ctx.identifierKey);
      return patient;
    });
  } catch (error) {
    return mapUniqueViolation(error);
  }
}

const sameValue = (a: unknown, b: unknown): boolean => (a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b);

/**
 * Registers a patient as system work (the seed), announcing it once: a re-run with the same
 * organization records nothing new, a move to another organization is announced as an update.
 */
export async function registerPatient(prisma: PrismaClient, data: Prisma.PatientUncheckedCreateInput & { id: string }, identifierKey: string | undefined): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const before = await tx.patient.findUnique({ where: { id: data.id }, select: { organizationId: true } });
    const patient = await tx.patient.upsert({ where: { id: data.id }, create: data, update: data });
    if (before && before.organizationId !== patient.organizationId) {
      await announcePatient(tx, patient, 'updated', identifierKey);
    } else if (!(await tx.outboxEvent.findFirst({ where: { type: IdentityEvents.patientRegistered.type, aggregateId: patient.id }, select: { id: true } }))) {
      await announcePatient(tx, patient, 'registered', identifierKey);
    }
  });
}
