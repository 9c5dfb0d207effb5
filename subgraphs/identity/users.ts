import type { Patient, Practitioner, Prisma, User } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import { badUserInput } from '../kit/errors.js';
import { requireSignedIn, requireStaffOf, Role, type RoleName } from '../kit/identity.js';
import type { Ctx } from './context.js';
import { catchUpLearnerAccounts } from './learners.js';
import { loadPatient } from './patients.js';
import { ADMINS } from './policies.js';

/**
 * Users, their roles and practitioners. Who may see whom is the access policy's
 * (policies.ts): oneself, and for staff the people of their organizations.
 */

export async function currentUser<Q extends Omit<Prisma.UserFindUniqueArgs, 'where'>>(ctx: Ctx, query?: Q): Promise<User | null> {
  const caller = requireSignedIn(ctx.identity);
  if (caller.kind !== 'user') return null;
  const user = await ctx.db.user.findUnique({ ...query, where: { id: caller.subject } });
  if (user || caller.role !== Role.LEARNER) return user;
  // A learner launched a moment ago: their account's announcement may still be on its way.
  await catchUpLearnerAccounts(ctx.prisma, ctx.log);
  return ctx.db.user.findUnique({ ...query, where: { id: caller.subject } });
}

/** Self, or staff sharing an organization with the user (to show who claimed or acted on something). */
export async function loadUser(ctx: Ctx, id: string): Promise<User> {
  requireSignedIn(ctx.identity);
  return loadVisible<User>(ctx, 'User', id);
}

export async function userRoles(ctx: Ctx, userId: string): Promise<RoleName[]> {
  const memberships = await ctx.loaders
    .groupedBy('rolesByUser', (ids) => ctx.db.membership.findMany({ where: { userId: { in: ids } }, select: { userId: true, role: true } }), (row) => row.userId)
    .load(userId);
  return [...new Set(memberships.map((m) => m.role))].sort();
}

/** The patient record a user is (through the patient path: checked and audited like any read of it). */
export function userPatient(ctx: Ctx, user: Pick<User, 'patientId'>): Promise<Patient> | null {
  return user.patientId ? loadPatient(ctx, user.patientId) : null;
}

/** Practitioners of the caller's organizations. */
export async function listPractitioners<Q extends Omit<Prisma.PractitionerFindManyArgs, 'where'>>(ctx: Ctx, query?: Q): Promise<Practitioner[]> {
  requireSignedIn(ctx.identity);
  return ctx.db.practitioner.findMany({ ...query, orderBy: [{ name: 'asc' }, { id: 'asc' }] });
}

/**
 * Deactivates a member of the admin's organization: their platform tokens are refused from
 * then on (the gateway asks identity) and they cannot sign in. Idempotent: the first
 * deactivation's time is kept.
 */
export async function deactivateUser<Q extends Omit<Prisma.UserUpdateArgs, 'data' | 'where'>>(ctx: Ctx, id: string, query?: Q): Promise<User> {
  const caller = requireStaffOf(ctx.identity, ADMINS, 'Only an organization admin may deactivate users');
  if (caller.kind === 'user' && caller.subject === id) throw badUserInput('id', 'you cannot deactivate yourself');
  // The read tells FORBIDDEN from NOT_FOUND; the write is what the policy limits to the admin's organization.
  const target = await ctx.db.user.findUnique({ where: { id }, select: { deactivatedAt: true } });
  return ctx.db.user.update({ ...query, where: { id }, data: { deactivatedAt: target?.deactivatedAt ?? new Date() } });
}
