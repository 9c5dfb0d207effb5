import { createHash } from 'node:crypto';
import type { PrismaClient } from '../../prisma/generated/client/client.js';
import { unauthenticated } from '../kit/errors.js';
import { Role, type Identity, type RoleName } from '../kit/identity.js';
import { API_KEY_PREFIX, hashApiKey } from './api-keys.js';

/**
 * Credentials, for the gateway only (index.ts's internal routes). This is system work on the
 * process's client: the gateway asks before anyone is signed in, so there is no caller whose
 * scope could apply. The routes admit only the gateway's signed service identity.
 */
type System = { prisma: PrismaClient };

/** The identity behind an API key, or null when it is unknown or revoked. */
export async function identityForApiKey({ prisma }: System, key: string): Promise<Identity | null> {
  if (!key.startsWith(API_KEY_PREFIX) || key.length > 200) return null;
  const apiKey = await prisma.apiKey.findUnique({ where: { keyHash: hashApiKey(key) } });
  if (!apiKey || apiKey.revokedAt) return null;
  // Record use at most once a minute: enough for "unused key" reviews, cheap on the hot path.
  if (!apiKey.lastUsedAt || Date.now() - apiKey.lastUsedAt.getTime() > 60_000) {
    await prisma.apiKey.update({ where: { id: apiKey.id }, data: { lastUsedAt: new Date() } });
  }
  return { kind: 'apiKey', subject: apiKey.id, role: apiKey.role, organizationId: apiKey.organizationId, ...(apiKey.partnerId ? { partnerId: apiKey.partnerId } : {}) };
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
 * membership (no separate account to create), in one transaction. A deactivated user does not
 * sign in (UNAUTHENTICATED).
 */
export async function identityForOidcSignIn({ prisma }: System, signIn: OidcSignIn): Promise<Identity> {
  const user = await prisma.$transaction(async (tx) => {
    const linked = await tx.externalIdentity.findUnique({ where: { issuer_subject: { issuer: signIn.issuer, subject: signIn.subject } }, include: { user: true } });
    if (linked) return linked.user;
    const issuerHost = new URL(signIn.issuer).host;
    return tx.user.create({
      data: {
        email: signIn.email ?? `${createHash('sha256').update(`${signIn.issuer}|${signIn.subject}`).digest('hex').slice(0, 24)}@${issuerHost}.oidc.invalid`,
        displayName: signIn.name ?? 'Member',
        memberships: { create: { organizationId: signIn.organizationId, role: signIn.role } },
        externalIdentities: { create: { issuer: signIn.issuer, subject: signIn.subject } },
      },
    });
  });
  if (user.deactivatedAt) throw unauthenticated('This user has been deactivated');
  const membership = await prisma.membership.findFirst({ where: { userId: user.id, organizationId: signIn.organizationId } });
  return {
    kind: 'user',
    subject: user.id,
    role: membership?.role ?? signIn.role,
    organizationId: signIn.organizationId,
    patientId: user.patientId,
  };
}

export interface PlatformUserClaims {
  userId: string;
  role: RoleName;
  /** null: a membership with that role in any organization. */
  organizationId: string | null;
}

/**
 * Whether a platform token's claims still describe an active user: the user exists, is not
 * deactivated and holds that role in that organization. Learners are training's, not users
 * here: never active as far as identity knows (the gateway asks training about them).
 */
export async function platformUserActive({ prisma }: System, claims: PlatformUserClaims): Promise<boolean> {
  if (claims.role === Role.LEARNER) return false;
  const membership = await prisma.membership.findFirst({
    where: {
      userId: claims.userId,
      role: claims.role,
      ...(claims.organizationId !== null ? { organizationId: claims.organizationId } : {}),
      user: { deactivatedAt: null },
    },
    select: { id: true },
  });
  return membership !== null;
}
