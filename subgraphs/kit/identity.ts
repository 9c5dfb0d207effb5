import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { forbidden, unauthenticated } from './errors.js';

/**
 * The platform's roles. Declared here rather than taken from the generated Prisma client, so
 * the stateless gateway never loads the database layer; test/kit/roles.test.ts checks that
 * identity's `Role` enum in Prisma has exactly these values.
 */
export const Role = {
  PATIENT: 'PATIENT',
  LEARNER: 'LEARNER',
  NURSE: 'NURSE',
  CLINICIAN: 'CLINICIAN',
  PHARMACIST: 'PHARMACIST',
  BILLING: 'BILLING',
  PARTNER: 'PARTNER',
  BI: 'BI',
  ADMIN: 'ADMIN',
  SERVICE: 'SERVICE',
  /** A lab or device integration: writes results through an API key, reads nothing. */
  DEVICE: 'DEVICE',
} as const;
export type RoleName = (typeof Role)[keyof typeof Role];
export const ROLES = Object.values(Role) as RoleName[];

export function parseRole(value: string): RoleName | undefined {
  const upper = value.toUpperCase();
  return (ROLES as string[]).includes(upper) ? (upper as RoleName) : undefined;
}

/**
 * Who is calling, as verified once at the gateway. Subgraphs never see the caller's
 * credentials, only this, signed by the gateway.
 */
export type Identity =
  | { kind: 'anonymous' }
  | {
      kind: 'user' | 'apiKey' | 'service';
      /** user id, API key id, or service name */
      subject: string;
      role: RoleName;
      organizationId: string | null;
      /** set for the PATIENT role: the patient record this user is */
      patientId?: string | null;
      /** set for PARTNER and LEARNER callers scoped to cohorts */
      cohortIds?: string[];
      /** set for a PARTNER API key: the training partner it acts for (bound when the key was made) */
      partnerId?: string | null;
    };

export type AuthenticatedIdentity = Exclude<Identity, { kind: 'anonymous' }>;

export const ANONYMOUS: Identity = Object.freeze({ kind: 'anonymous' });

export const isAuthenticated = (identity: Identity): identity is AuthenticatedIdentity => identity.kind !== 'anonymous';

/** The caller, signed in; UNAUTHENTICATED otherwise. */
export function requireSignedIn(identity: Identity): AuthenticatedIdentity {
  if (!isAuthenticated(identity)) throw unauthenticated();
  return identity;
}

/** The caller, signed in with one of `roles` (and, with `inOrganization`, acting in an organization); FORBIDDEN otherwise. */
export function requireRole(identity: Identity, roles: readonly RoleName[], message = 'You may not do this'): AuthenticatedIdentity {
  const caller = requireSignedIn(identity);
  if (!roles.includes(caller.role)) throw forbidden(message);
  return caller;
}

/**
 * A patient asking about their own records, or staff with one of `roles`: someone else's
 * records are refused (FORBIDDEN), not answered with an empty list. `what` names the records.
 */
export function requireOwnOrStaff(identity: Identity, patientId: string, roles: readonly RoleName[], what: string): AuthenticatedIdentity {
  const caller = requireSignedIn(identity);
  if (caller.role === Role.PATIENT) {
    if (caller.patientId !== patientId) throw forbidden(`You may see only your own ${what}`);
    return caller;
  }
  return requireStaffOf(caller, roles, `You may not see ${what}`);
}

/** As requireRole, for callers that must act inside an organization (staff). */
export function requireStaffOf(identity: Identity, roles: readonly RoleName[], message = 'You may not do this'): AuthenticatedIdentity & { organizationId: string } {
  const caller = requireRole(identity, roles, message);
  if (!caller.organizationId) throw forbidden(message);
  return caller as AuthenticatedIdentity & { organizationId: string };
}

/**
 * Which partner a PARTNER caller acts for, as a filter over a partner table (training's, or a
 * domain's copy of it): the one its API key is bound to, if of the key's organization; else the
 * one naming the caller (a user or an unbound key) as its principal.
 */
export function partnerActedFor(caller: AuthenticatedIdentity): { id: string; organizationId: { in: string[] } } | { principalId: string } {
  return caller.partnerId ? { id: caller.partnerId, organizationId: { in: caller.organizationId ? [caller.organizationId] : [] } } : { principalId: caller.subject };
}

export const INTERNAL_IDENTITY_HEADER = 'x-caregraph-identity';
const ISSUER = 'caregraph-gateway';
const AUDIENCE = 'caregraph-subgraph';
/** Short-lived: a header captured in transit is useless a minute later. */
const LIFETIME_SECONDS = 60;

function keyFrom(secret: string): Uint8Array {
  if (secret.length < 32) throw new Error('INTERNAL_IDENTITY_SECRET must be at least 32 characters');
  return new TextEncoder().encode(secret);
}

export async function signInternalIdentity(identity: Identity, secret: string): Promise<string> {
  return new SignJWT({ idt: identity })
    .setProtectedHeader({ alg: 'HS256', typ: 'caregraph-identity+jwt' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${LIFETIME_SECONDS}s`)
    .sign(keyFrom(secret));
}

export class InvalidInternalIdentity extends Error {}

export async function verifyInternalIdentity(token: string | undefined, secret: string): Promise<Identity> {
  if (!token) throw new InvalidInternalIdentity('missing internal identity');
  try {
    const { payload } = await jwtVerify(token, keyFrom(secret), {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['HS256'],
      typ: 'caregraph-identity+jwt',
    });
    const identity = payload['idt'];
    if (!isIdentityShape(identity)) throw new InvalidInternalIdentity('malformed internal identity');
    return identity;
  } catch (error) {
    if (error instanceof InvalidInternalIdentity) throw error;
    if (error instanceof joseErrors.JOSEError) throw new InvalidInternalIdentity(error.code);
    throw error;
  }
}

function isIdentityShape(value: unknown): value is Identity {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v['kind'] === 'anonymous') return true;
  return (
    (v['kind'] === 'user' || v['kind'] === 'apiKey' || v['kind'] === 'service') &&
    typeof v['subject'] === 'string' &&
    typeof v['role'] === 'string' &&
    (ROLES as string[]).includes(v['role']) &&
    (v['organizationId'] === null || typeof v['organizationId'] === 'string') &&
    (v['partnerId'] === undefined || v['partnerId'] === null || typeof v['partnerId'] === 'string')
  );
}
