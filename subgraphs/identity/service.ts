import { createHash, randomBytes } from 'node:crypto';
import { Prisma, type ApiKey, type Patient, type Practitioner, type User, type WebhookDelivery, type WebhookEndpoint } from '../../prisma/generated/client/client.js';
import { audit } from '../kit/audit.js';
import type { SubgraphContext } from '../kit/context.js';
import { conflict, forbidden, InputProblems, notFound, unauthenticated } from '../kit/errors.js';
import { isAuthenticated, Role, type AuthenticatedIdentity, type Identity, type RoleName } from '../kit/identity.js';
import { byKey } from '../kit/loaders.js';
import { newWebhookSecret, replayDeadLetters } from '../kit/outbox.js';

/**
 * People and tenancy. Every read and write of a patient goes through here, where the
 * caller's identity is checked against the record (the one data path): resolvers, entity
 * lookups and internal routes all call these functions, never Prisma directly.
 */

/** Roles that work inside an organization and may see its patients. */
export const CLINICAL_STAFF: readonly RoleName[] = [Role.NURSE, Role.CLINICIAN, Role.PHARMACIST, Role.BILLING, Role.ADMIN];
/** Roles that may register patients and correct their records. */
export const PATIENT_EDITORS: readonly RoleName[] = [Role.NURSE, Role.CLINICIAN, Role.ADMIN];
/** Roles an API key may carry: machine callers, never a person's role or an admin. */
export const API_KEY_ROLES: readonly RoleName[] = [Role.BI, Role.PARTNER, Role.SERVICE, Role.BILLING];
/** The fields a patient may change on their own record. */
const SELF_SERVICE_FIELDS = new Set(['phone', 'email', 'addressLine', 'city', 'country']);

type Ctx = Pick<SubgraphContext, 'prisma' | 'identity' | 'loaders' | 'log'>;

function requireIdentity(ctx: Ctx): AuthenticatedIdentity {
  if (!isAuthenticated(ctx.identity)) throw unauthenticated();
  return ctx.identity;
}

// ---------------------------------------------------------------- organizations

/** The caller's organization and, for a chain, the organizations under it. */
export async function accessibleOrganizationIds(ctx: Ctx): Promise<Set<string>> {
  const identity = requireIdentity(ctx);
  if (!identity.organizationId) return new Set();
  return ctx.loaders
    .get<string, Set<string>>('accessibleOrganizations', async (orgIds) => {
      const children = await ctx.prisma.organization.findMany({ where: { parentId: { in: [...orgIds] } }, select: { id: true, parentId: true } });
      return orgIds.map((id) => new Set([id, ...children.filter((c) => c.parentId === id).map((c) => c.id)]));
    })
    .load(identity.organizationId);
}

// ---------------------------------------------------------------- patients

async function canReadPatient(ctx: Ctx, patient: Pick<Patient, 'id' | 'organizationId'>): Promise<boolean> {
  const identity = requireIdentity(ctx);
  if (identity.role === Role.PATIENT) return identity.patientId === patient.id;
  if (!CLINICAL_STAFF.includes(identity.role)) return false;
  return (await accessibleOrganizationIds(ctx)).has(patient.organizationId);
}

/** Records that `ids` were read or changed, by whom and why; never what they contain. */
export function auditPatientAccess(ctx: Ctx, action: string, ids: readonly string[], reason?: string): Promise<void> {
  return audit(ctx.prisma, ctx.identity, { source: 'identity', action, entityType: 'Patient', entityIds: ids, reason });
}

/**
 * Loads patients by id for this request, batched, each checked against the caller.
 * A patient the caller may not see is FORBIDDEN; one that does not exist, NOT_FOUND.
 */
export async function loadPatient(ctx: Ctx, id: string): Promise<Patient> {
  requireIdentity(ctx);
  const loaded = await ctx.loaders
    .get<string, Patient | Error>('patientById', async (ids) => {
      const rows = await ctx.prisma.patient.findMany({ where: { id: { in: [...ids] } } });
      const ordered = byKey(ids, rows, (row) => row.id);
      const results = await Promise.all(
        ordered.map(async (row) => (row === null ? notFound('Patient') : (await canReadPatient(ctx, row)) ? row : forbidden('You may not read this patient'))),
      );
      await auditPatientAccess(ctx, 'read', results.filter((r): r is Patient => !(r instanceof Error)).map((r) => r.id));
      return results;
    })
    .load(id);
  if (loaded instanceof Error) throw loaded;
  return loaded;
}

/** The where-clause that limits a patient search to what the caller may see. */
async function patientScope(ctx: Ctx): Promise<Prisma.PatientWhereInput> {
  const identity = requireIdentity(ctx);
  if (identity.role === Role.PATIENT) return { id: identity.patientId ?? '∅' };
  if (!CLINICAL_STAFF.includes(identity.role)) throw forbidden('You may not search patients');
  return { organizationId: { in: [...(await accessibleOrganizationIds(ctx))] } };
}

export async function searchPatients<Q extends Prisma.PatientFindManyArgs>(ctx: Ctx, search: string | null | undefined, query: Q): Promise<Patient[]> {
  const scope = await patientScope(ctx);
  const term = search?.trim();
  const where: Prisma.PatientWhereInput = term
    ? {
        AND: [
          scope,
          {
            OR: [
              { familyName: { contains: term, mode: 'insensitive' } },
              { givenName: { contains: term, mode: 'insensitive' } },
              { mrn: { equals: term } },
            ],
          },
        ],
      }
    : scope;
  const rows = await ctx.prisma.patient.findMany({ ...query, where, orderBy: [{ familyName: 'asc' }, { givenName: 'asc' }, { id: 'asc' }] });
  await auditPatientAccess(ctx, 'search', rows.map((row) => row.id));
  return rows;
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

const NAME_PATTERN = /^[\p{L}\p{M}' .-]{1,100}$/u;
const MRN_PATTERN = /^[A-Za-z0-9-]{3,32}$/;
const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,}$/;
const PHONE_PATTERN = /^\+?[0-9 ()-]{7,20}$/;
const COUNTRY_PATTERN = /^[A-Z]{2}$/;
const SEXES = new Set(['FEMALE', 'MALE', 'OTHER', 'UNKNOWN']);

function validatePatientInput(input: PatientInput, creating: boolean): Prisma.PatientUncheckedUpdateInput {
  const problems = new InputProblems();
  const data: Prisma.PatientUncheckedUpdateInput = {};
  const text = (field: keyof PatientInput, pattern: RegExp, message: string, required: boolean): void => {
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

function mapUniqueViolation(error: unknown): never {
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
    throw conflict('A patient with this MRN already exists in the organization');
  }
  throw error;
}

export async function createPatient<Q extends Omit<Prisma.PatientCreateArgs, 'data'>>(ctx: Ctx, input: PatientInput, query?: Q): Promise<Patient> {
  const identity = requireIdentity(ctx);
  if (!PATIENT_EDITORS.includes(identity.role)) throw forbidden('You may not register patients');
  const organizationId = input.organizationId ?? identity.organizationId;
  const data = validatePatientInput(input, true);
  if (!organizationId || !(await accessibleOrganizationIds(ctx)).has(organizationId)) {
    throw forbidden('You may not register patients in that organization');
  }
  try {
    const patient = await ctx.prisma.patient.create({ ...query, data: { ...(data as Prisma.PatientUncheckedCreateInput), organizationId } });
    await auditPatientAccess(ctx, 'create', [patient.id]);
    return patient;
  } catch (error) {
    return mapUniqueViolation(error);
  }
}

export async function updatePatient<Q extends Omit<Prisma.PatientUpdateArgs, 'data' | 'where'>>(ctx: Ctx, id: string, input: PatientInput, query?: Q): Promise<Patient> {
  const identity = requireIdentity(ctx);
  const existing = await loadPatient(ctx, id);
  if (identity.role === Role.PATIENT) {
    const disallowed = Object.keys(input).filter((field) => input[field as keyof PatientInput] !== undefined && !SELF_SERVICE_FIELDS.has(field));
    if (disallowed.length > 0) throw forbidden(`Patients may change only their contact details, not ${disallowed.join(', ')}`);
  } else if (!PATIENT_EDITORS.includes(identity.role)) {
    throw forbidden('You may not change patient records');
  }
  if (input.organizationId !== undefined && input.organizationId !== existing.organizationId) {
    throw forbidden('A patient cannot be moved to another organization this way');
  }
  const { organizationId: _ignored, ...changes } = input;
  const data = validatePatientInput(changes, false);
  try {
    const patient = await ctx.prisma.patient.update({ ...query, where: { id }, data });
    await auditPatientAccess(ctx, 'update', [id]);
    return patient;
  } catch (error) {
    return mapUniqueViolation(error);
  }
}

// ---------------------------------------------------------------- users

export async function currentUser<Q extends Omit<Prisma.UserFindUniqueArgs, 'where'>>(ctx: Ctx, query?: Q): Promise<User | null> {
  const identity = requireIdentity(ctx);
  if (identity.kind !== 'user') return null;
  return ctx.prisma.user.findUnique({ ...query, where: { id: identity.subject } });
}

/** Self, or staff sharing an organization with the user (to show who claimed or acted on something). */
export async function loadUser(ctx: Ctx, id: string): Promise<User> {
  const identity = requireIdentity(ctx);
  const user = await ctx.loaders
    .get<string, (User & { memberships: Array<{ organizationId: string }> }) | null>('userById', async (ids) =>
      byKey(ids, await ctx.prisma.user.findMany({ where: { id: { in: [...ids] } }, include: { memberships: { select: { organizationId: true } } } }), (u) => u.id),
    )
    .load(id);
  if (!user) throw notFound('User');
  if (identity.kind === 'user' && identity.subject === id) return user;
  if (CLINICAL_STAFF.includes(identity.role)) {
    const orgs = await accessibleOrganizationIds(ctx);
    if (user.memberships.some((m) => orgs.has(m.organizationId))) return user;
  }
  throw forbidden('You may not read this user');
}

export async function userRoles(ctx: Ctx, userId: string): Promise<RoleName[]> {
  const memberships = await ctx.loaders
    .groupedBy('rolesByUser', (ids) => ctx.prisma.membership.findMany({ where: { userId: { in: ids } }, select: { userId: true, role: true } }), (row) => row.userId)
    .load(userId);
  return [...new Set(memberships.map((m) => m.role))].sort();
}

// ---------------------------------------------------------------- practitioners

export async function listPractitioners<Q extends Omit<Prisma.PractitionerFindManyArgs, 'where'>>(ctx: Ctx, query?: Q): Promise<Practitioner[]> {
  const identity = requireIdentity(ctx);
  if (!CLINICAL_STAFF.includes(identity.role)) throw forbidden('You may not list practitioners');
  const organizationIds = [...(await accessibleOrganizationIds(ctx))];
  return ctx.prisma.practitioner.findMany({ ...query, where: { organizationId: { in: organizationIds } }, orderBy: { name: 'asc' } });
}

// ---------------------------------------------------------------- API keys

const API_KEY_PREFIX = 'cgk_';

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export async function createApiKey(ctx: Ctx, input: { name: string; role: RoleName }): Promise<{ key: string; apiKey: ApiKey }> {
  const identity = requireIdentity(ctx);
  if (identity.role !== Role.ADMIN || !identity.organizationId) throw forbidden('Only an organization admin may create API keys');
  const problems = new InputProblems();
  const name = input.name.trim();
  problems.check(name.length >= 1 && name.length <= 100, 'input.name', 'must be 1-100 characters');
  problems.check(API_KEY_ROLES.includes(input.role), 'input.role', `must be one of ${API_KEY_ROLES.join(', ')}`);
  problems.throwIfAny();
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  const apiKey = await ctx.prisma.apiKey.create({
    data: { organizationId: identity.organizationId, name, role: input.role, prefix: key.slice(0, 12), keyHash: hashApiKey(key), createdById: identity.subject },
  });
  return { key, apiKey };
}

export async function revokeApiKey(ctx: Ctx, id: string): Promise<ApiKey> {
  const identity = requireIdentity(ctx);
  if (identity.role !== Role.ADMIN) throw forbidden('Only an organization admin may revoke API keys');
  const existing = await ctx.prisma.apiKey.findUnique({ where: { id } });
  if (!existing || existing.organizationId !== identity.organizationId) throw notFound('API key');
  if (existing.revokedAt) return existing;
  return ctx.prisma.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
}

export async function listApiKeys(ctx: Ctx): Promise<ApiKey[]> {
  const identity = requireIdentity(ctx);
  if (identity.role !== Role.ADMIN || !identity.organizationId) throw forbidden('Only an organization admin may list API keys');
  return ctx.prisma.apiKey.findMany({ where: { organizationId: identity.organizationId }, orderBy: { createdAt: 'desc' } });
}

// ---------------------------------------------------------------- credentials (called by the gateway only)

/** The identity behind an API key, or null when it is unknown or revoked. */
export async function identityForApiKey(ctx: Pick<Ctx, 'prisma'>, key: string): Promise<Identity | null> {
  if (!key.startsWith(API_KEY_PREFIX) || key.length > 200) return null;
  const apiKey = await ctx.prisma.apiKey.findUnique({ where: { keyHash: hashApiKey(key) } });
  if (!apiKey || apiKey.revokedAt) return null;
  // Record use at most once a minute: enough for "unused key" reviews, cheap on the hot path.
  if (!apiKey.lastUsedAt || Date.now() - apiKey.lastUsedAt.getTime() > 60_000) {
    await ctx.prisma.apiKey.update({ where: { id: apiKey.id }, data: { lastUsedAt: new Date() } });
  }
  return { kind: 'apiKey', subject: apiKey.id, role: apiKey.role, organizationId: apiKey.organizationId };
}

export interface OidcSignIn {
  issuer: string;
  subject: string;
  email?: string;
  name?: string;
  organizationId: string;
  role: RoleName;
}

/**
 * The user behind a verified OIDC ID token. First sign-in provisions the user and its
 * membership (no separate account to create), in one transaction.
 */
export async function identityForOidcSignIn(ctx: Pick<Ctx, 'prisma'>, signIn: OidcSignIn): Promise<Identity> {
  const user = await ctx.prisma.$transaction(async (tx) => {
    const linked = await tx.externalIdentity.findUnique({ where: { issuer_subject: { issuer: signIn.issuer, subject: signIn.subject } }, include: { user: true } });
    if (linked) return linked.user;
    const issuerHost = new URL(signIn.issuer).host;
    const created = await tx.user.create({
      data: {
        email: signIn.email ?? `${createHash('sha256').update(`${signIn.issuer}|${signIn.subject}`).digest('hex').slice(0, 24)}@${issuerHost}.oidc.invalid`,
        displayName: signIn.name ?? 'Member',
        memberships: { create: { organizationId: signIn.organizationId, role: signIn.role } },
        externalIdentities: { create: { issuer: signIn.issuer, subject: signIn.subject } },
      },
    });
    return created;
  });
  const membership = await ctx.prisma.membership.findFirst({ where: { userId: user.id, organizationId: signIn.organizationId } });
  return {
    kind: 'user',
    subject: user.id,
    role: membership?.role ?? signIn.role,
    organizationId: signIn.organizationId,
    patientId: user.patientId,
  };
}

// ---------------------------------------------------------------- webhook endpoints (platform administration)

function requireAdmin(ctx: Ctx, what: string): AuthenticatedIdentity & { organizationId: string } {
  const identity = requireIdentity(ctx);
  if (identity.role !== Role.ADMIN || !identity.organizationId) throw forbidden(`Only an organization admin may ${what}`);
  return identity as AuthenticatedIdentity & { organizationId: string };
}

const EVENT_TYPE_PATTERN = /^(\*|[a-z]+(\.[a-z_]+)+)$/;

/** Production endpoints must be HTTPS; plain HTTP only to this machine (development, tests). */
function acceptableWebhookUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    if (url.protocol === 'https:') return true;
    return url.protocol === 'http:' && process.env['NODE_ENV'] !== 'production' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

export async function createWebhookEndpoint(ctx: Ctx, input: { url: string; eventTypes: string[]; partnerId?: string | null }): Promise<{ secret: string; endpoint: WebhookEndpoint }> {
  const identity = requireAdmin(ctx, 'register webhook endpoints');
  const problems = new InputProblems();
  problems.check(acceptableWebhookUrl(input.url), 'input.url', 'must be an https URL');
  problems.check(input.eventTypes.length > 0 && input.eventTypes.length <= 50, 'input.eventTypes', 'list 1-50 event types, or *');
  for (const type of input.eventTypes) problems.check(EVENT_TYPE_PATTERN.test(type), 'input.eventTypes', `${type} is not an event type such as training.session.completed`);
  problems.throwIfAny();
  const secret = newWebhookSecret();
  const endpoint = await ctx.prisma.webhookEndpoint.create({
    data: { organizationId: identity.organizationId, url: input.url, eventTypes: [...new Set(input.eventTypes)], partnerId: input.partnerId ?? null, secret },
  });
  return { secret, endpoint };
}

export async function listWebhookEndpoints(ctx: Ctx): Promise<WebhookEndpoint[]> {
  const identity = requireAdmin(ctx, 'list webhook endpoints');
  return ctx.prisma.webhookEndpoint.findMany({ where: { organizationId: identity.organizationId }, orderBy: { createdAt: 'asc' } });
}

export async function deactivateWebhookEndpoint(ctx: Ctx, id: string): Promise<WebhookEndpoint> {
  const identity = requireAdmin(ctx, 'deactivate webhook endpoints');
  const endpoint = await ctx.prisma.webhookEndpoint.findUnique({ where: { id } });
  if (!endpoint || endpoint.organizationId !== identity.organizationId) throw notFound('Webhook endpoint');
  return ctx.prisma.webhookEndpoint.update({ where: { id }, data: { active: false } });
}

export async function listWebhookDeliveries(ctx: Ctx, status: 'PENDING' | 'DELIVERED' | 'DEAD' | null | undefined, first: number): Promise<Array<WebhookDelivery & { eventType: string }>> {
  const identity = requireAdmin(ctx, 'list webhook deliveries');
  const rows = await ctx.prisma.webhookDelivery.findMany({
    where: { endpoint: { organizationId: identity.organizationId }, ...(status ? { status } : {}) },
    include: { event: { select: { type: true } } },
    orderBy: { createdAt: 'desc' },
    take: Math.min(Math.max(first, 1), 200),
  });
  return rows.map(({ event, ...delivery }) => ({ ...delivery, eventType: event.type }));
}

/** Requeues the organization's dead-lettered deliveries (all, or the ids given). */
export async function replayWebhookDeadLetters(ctx: Ctx, deliveryIds?: readonly string[] | null): Promise<number> {
  const identity = requireAdmin(ctx, 'replay webhook deliveries');
  return replayDeadLetters(ctx.prisma, identity.organizationId, deliveryIds ?? undefined);
}
