import { randomBytes } from 'node:crypto';
import { Prisma, type Cohort, type Partner } from '../../prisma/generated/client/client.js';
import { conflictOnUniqueViolation } from '../kit/access.js';
import { audit } from '../kit/audit.js';
import { conflict, InputProblems } from '../kit/errors.js';
import { requireStaffOf, Role } from '../kit/identity.js';
import type { Ctx } from './access.js';
import { announceCohort, announcePartner } from './partners.js';

/**
 * Partner onboarding by an organization's admins: register and update a partner (how it signs
 * launches, its OpenID Connect provider, its learner app), rotate its launch secret, and manage
 * its cohorts. Writes go through `ctx.db`, whose policies (access.ts) confine them to the
 * admin's organization; each change is audited and the registrations are announced like the
 * seeded ones (partners.ts), so other domains' directories learn them.
 */

const SOURCE = 'training';

/** How a partner signs its launch tokens. */
export type LaunchSigning = 'SECRET' | 'JWKS';

export interface OidcProviderInput {
  issuer: string;
  clientId: string;
  jwksUrl: string;
}

export interface PartnerInput {
  name: string;
  launchIssuer: string;
  launchSigning: LaunchSigning;
  /** Required with JWKS signing: where the partner publishes its RS256/ES256 keys. */
  jwksUrl?: string | null;
  oidc?: OidcProviderInput | null;
  learnerAppUrl?: string | null;
}

/** Absent fields stay as they are; `null` clears an optional one. */
export interface PartnerUpdate {
  name?: string | null;
  jwksUrl?: string | null;
  oidc?: OidcProviderInput | null;
  learnerAppUrl?: string | null;
}

export interface PartnerWithSecret {
  partner: Partner;
  /** The launch secret, shown only in this answer; CareGraph never shows it again. */
  launchSecret: string | null;
}

/** How long the replaced secret keeps working after a rotation, by default and at most. */
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600;
export const MAX_ROTATION_OVERLAP_SECONDS = 7 * 24 * 3600;

const newLaunchSecret = (): string => randomBytes(32).toString('base64url');

/** https, or http to a loopback host (a partner's test rig on the same machine). */
function isAcceptableUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

export function checkUrl(problems: InputProblems, field: string, value: string | null | undefined): void {
  if (value === null || value === undefined) return;
  problems.check(value.length <= 500 && isAcceptableUrl(value), field, 'must be an https URL (http only to a loopback host), without credentials');
}

function checkName(problems: InputProblems, field: string, value: string): void {
  problems.check(value.trim().length >= 1 && value.trim().length <= 100, field, 'must be 1-100 characters');
}

function checkOidc(problems: InputProblems, oidc: OidcProviderInput | null | undefined): void {
  if (!oidc) return;
  checkUrl(problems, 'input.oidc.issuer', oidc.issuer);
  problems.check(oidc.clientId.length >= 1 && oidc.clientId.length <= 200, 'input.oidc.clientId', 'must be 1-200 characters');
  checkUrl(problems, 'input.oidc.jwksUrl', oidc.jwksUrl);
}

const oidcColumns = (oidc: OidcProviderInput | null) => ({ oidcIssuer: oidc?.issuer ?? null, oidcAudience: oidc?.clientId ?? null, oidcJwksUri: oidc?.jwksUrl ?? null });

/** A unique-constraint violation as CONFLICT: which one the caller broke, nothing written. */
const conflictOnDuplicate = (error: unknown): never => conflictOnUniqueViolation(error, 'Another partner already uses that launch issuer, or that OpenID Connect issuer and client id');

const admin = (ctx: Ctx) => requireStaffOf(ctx.identity, [Role.ADMIN], 'Only an organization admin onboards partners');

export async function listPartners(ctx: Ctx, query: object = {}): Promise<Partner[]> {
  return ctx.db.partner.findMany({ ...query, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

export function findPartner(ctx: Ctx, id: string, query: object = {}): Promise<Partner> {
  return ctx.db.partner.findUniqueOrThrow({ ...query, where: { id } });
}

/** Registers a partner of the admin's organization. With SECRET signing the answer carries the new secret, once. */
export async function registerPartner(ctx: Ctx, input: PartnerInput): Promise<PartnerWithSecret> {
  const caller = admin(ctx);
  const problems = new InputProblems();
  checkName(problems, 'input.name', input.name);
  problems.check(input.launchIssuer.length >= 1 && input.launchIssuer.length <= 200, 'input.launchIssuer', 'must be 1-200 characters');
  if (input.launchSigning === 'JWKS') problems.check(Boolean(input.jwksUrl), 'input.jwksUrl', 'is required for JWKS signing');
  else problems.check(!input.jwksUrl, 'input.jwksUrl', 'is only for JWKS signing');
  checkUrl(problems, 'input.jwksUrl', input.jwksUrl);
  checkOidc(problems, input.oidc);
  checkUrl(problems, 'input.learnerAppUrl', input.learnerAppUrl);
  problems.throwIfAny();

  const launchSecret = input.launchSigning === 'SECRET' ? newLaunchSecret() : null;
  try {
    const partner = await ctx.db.$transaction(async (tx) => {
      const created = await tx.partner.create({
        data: {
          organizationId: caller.organizationId,
          name: input.name.trim(),
          launchIssuer: input.launchIssuer,
          launchSecret,
          jwksUri: input.jwksUrl ?? null,
          ...oidcColumns(input.oidc ?? null),
          learnerAppUrl: input.learnerAppUrl ?? null,
        },
      });
      await audit(tx, ctx.identity, { source: SOURCE, action: 'register-partner', entityType: 'Partner', entityIds: [created.id] });
      await announcePartner(tx, created);
      return created;
    });
    return { partner, launchSecret };
  } catch (error) {
    return conflictOnDuplicate(error);
  }
}

/** Changes what is given; the launch issuer and signing method stay (register a new partner to change them). */
export async function updatePartner(ctx: Ctx, id: string, update: PartnerUpdate): Promise<Partner> {
  admin(ctx);
  const problems = new InputProblems();
  if (update.name !== undefined) problems.check(update.name !== null, 'input.name', 'cannot be cleared');
  if (update.name) checkName(problems, 'input.name', update.name);
  checkUrl(problems, 'input.jwksUrl', update.jwksUrl);
  checkOidc(problems, update.oidc);
  checkUrl(problems, 'input.learnerAppUrl', update.learnerAppUrl);
  problems.throwIfAny();
  const existing = await ctx.db.partner.findUniqueOrThrow({ where: { id } });
  if (update.jwksUrl !== undefined && existing.launchSecret) throw conflict('This partner signs launches with a secret: rotate it instead of setting a JWKS URL');
  if (update.jwksUrl === null) throw conflict('A partner that signs launches with keys needs its JWKS URL');
  const data: Prisma.PartnerUpdateInput = {
    ...(update.name ? { name: update.name.trim() } : {}),
    ...(update.jwksUrl ? { jwksUri: update.jwksUrl } : {}),
    ...(update.oidc !== undefined ? oidcColumns(update.oidc) : {}),
    ...(update.learnerAppUrl !== undefined ? { learnerAppUrl: update.learnerAppUrl } : {}),
  };
  try {
    return await ctx.db.$transaction(async (tx) => {
      const updated = await tx.partner.update({ where: { id }, data });
      await audit(tx, ctx.identity, { source: SOURCE, action: 'update-partner', entityType: 'Partner', entityIds: [id] });
      return updated;
    });
  } catch (error) {
    return conflictOnDuplicate(error);
  }
}

/**
 * A new launch secret, shown once. The one it replaces keeps working for `overlapSeconds`, so the
 * partner can deploy the new one without a window in which its launches fail.
 */
export async function rotateLaunchSecret(ctx: Ctx, id: string, overlapSeconds = DEFAULT_ROTATION_OVERLAP_SECONDS): Promise<PartnerWithSecret> {
  admin(ctx);
  const problems = new InputProblems();
  problems.check(Number.isInteger(overlapSeconds) && overlapSeconds >= 0 && overlapSeconds <= MAX_ROTATION_OVERLAP_SECONDS, 'overlapSeconds', `must be 0-${MAX_ROTATION_OVERLAP_SECONDS}`);
  problems.throwIfAny();
  const existing = await ctx.db.partner.findUniqueOrThrow({ where: { id } });
  if (!existing.launchSecret) throw conflict('This partner signs launches with its own keys (JWKS); there is no secret to rotate');
  const launchSecret = newLaunchSecret();
  const partner = await ctx.db.$transaction(async (tx) => {
    const updated = await tx.partner.update({
      where: { id },
      data: {
        launchSecret,
        previousLaunchSecret: overlapSeconds > 0 ? existing.launchSecret : null,
        previousLaunchSecretExpiresAt: overlapSeconds > 0 ? new Date(Date.now() + overlapSeconds * 1000) : null,
      },
    });
    await audit(tx, ctx.identity, { source: SOURCE, action: 'rotate-launch-secret', entityType: 'Partner', entityIds: [id] });
    return updated;
  });
  return { partner, launchSecret };
}

/** A cohort of one of the organization's partners, announced like seeded ones. */
export async function createCohort(ctx: Ctx, input: { partnerId: string; name: string }, query: object = {}): Promise<Cohort> {
  const caller = admin(ctx);
  const problems = new InputProblems();
  checkName(problems, 'input.name', input.name);
  problems.throwIfAny();
  // The partner must be one the admin sees (its organization's): NOT_FOUND otherwise.
  const partner = await ctx.db.partner.findUniqueOrThrow({ where: { id: input.partnerId } });
  const cohort = await ctx.db.$transaction(async (tx) => {
    const created = await tx.cohort.create({ data: { organizationId: caller.organizationId, partnerId: partner.id, name: input.name.trim() } });
    await audit(tx, ctx.identity, { source: SOURCE, action: 'create-cohort', entityType: 'Cohort', entityIds: [created.id] });
    await announceCohort(tx, created);
    return created;
  });
  return ctx.db.cohort.findUniqueOrThrow({ ...query, where: { id: cohort.id } });
}

export async function renameCohort(ctx: Ctx, id: string, name: string, query: object = {}): Promise<Cohort> {
  admin(ctx);
  const problems = new InputProblems();
  checkName(problems, 'name', name);
  problems.throwIfAny();
  await ctx.db.$transaction(async (tx) => {
    await tx.cohort.update({ where: { id }, data: { name: name.trim() } });
    await audit(tx, ctx.identity, { source: SOURCE, action: 'rename-cohort', entityType: 'Cohort', entityIds: [id] });
  });
  return ctx.db.cohort.findUniqueOrThrow({ ...query, where: { id } });
}

/** Archives a cohort: its records and figures stay; it takes no new launches, sign-ins or assignments. Idempotent. */
export async function archiveCohort(ctx: Ctx, id: string, query: object = {}): Promise<Cohort> {
  admin(ctx);
  const existing = await ctx.db.cohort.findUniqueOrThrow({ where: { id } });
  if (!existing.archivedAt) {
    await ctx.db.$transaction(async (tx) => {
      await tx.cohort.update({ where: { id }, data: { archivedAt: new Date() } });
      await audit(tx, ctx.identity, { source: SOURCE, action: 'archive-cohort', entityType: 'Cohort', entityIds: [id] });
    });
  }
  return ctx.db.cohort.findUniqueOrThrow({ ...query, where: { id } });
}
