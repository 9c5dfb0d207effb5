import { NOTHING, type AccessPolicies, type Scope, type WhereOf } from '../kit/access.js';
import { forbidden } from '../kit/errors.js';
import { isAuthenticated, Role, type Identity, type RoleName } from '../kit/identity.js';

/**
 * Who may read and change insurance's rows (kit/access.ts applies these to every query through
 * `ctx.db`). Billing staff and administrators work with their organization's coverages and
 * eligibility answers; a patient sees their own coverage and its answers; nobody else. Payers
 * are reference data (no patient's), readable by whoever may use insurance at all; which
 * payers an organization is enrolled with is its staff's.
 *
 * Audited (PHI): coverages (who is insured, member ids, the subscriber's name and birth date),
 * eligibility answers (a patient's benefits), claims (a patient's diagnoses and care, priced), their
 * appeals and supporting documents.
 */
export const INSURANCE_STAFF: readonly RoleName[] = [Role.BILLING, Role.ADMIN];

function managedOrganization(identity: Identity): string | null {
  return isAuthenticated(identity) && INSURANCE_STAFF.includes(identity.role) && identity.organizationId ? identity.organizationId : null;
}

/** Rows of the caller's organization (staff) or their own (patient): coverages and answers carry both keys. */
function visible(scope: Scope): { organizationId: string } | { patientId: string } | typeof NOTHING {
  const organizationId = managedOrganization(scope.identity);
  if (organizationId) return { organizationId };
  const identity = scope.identity;
  if (isAuthenticated(identity) && identity.role === Role.PATIENT && identity.patientId) return { patientId: identity.patientId };
  return NOTHING;
}

function managed(scope: Scope): { organizationId: string } | typeof NOTHING {
  const organizationId = managedOrganization(scope.identity);
  return organizationId ? { organizationId } : NOTHING;
}

function staffCreates(what: string) {
  return (scope: Scope, data: Record<string, unknown>): void => {
    const organizationId = managedOrganization(scope.identity);
    if (!organizationId || data['organizationId'] !== organizationId) throw forbidden(`You may record ${what} only for your organization`);
  };
}

/** Claims: the organization's for staff; a patient's own once sent (drafts are work in progress). */
function visibleClaims(scope: Scope): WhereOf<'Claim'> {
  const organizationId = managedOrganization(scope.identity);
  if (organizationId) return { organizationId };
  const identity = scope.identity;
  if (isAuthenticated(identity) && identity.role === Role.PATIENT && identity.patientId) return { patientId: identity.patientId, status: { not: 'DRAFT' } };
  return NOTHING;
}

/** Staff act on their organization's claims; checked without a query (rows created inside a transaction that just read the claim). */
function staffOnly(what: string) {
  return (scope: Scope): void => {
    if (!managedOrganization(scope.identity)) throw forbidden(`Only billing staff and administrators ${what}`);
  };
}

export const insurancePolicies: AccessPolicies = {
  Payer: {
    read: (scope) => (isAuthenticated(scope.identity) && (managedOrganization(scope.identity) || scope.identity.role === Role.PATIENT) ? {} : NOTHING),
    write: () => NOTHING,
  },
  PayerEnrollment: { read: (scope) => managed(scope) as WhereOf<'PayerEnrollment'>, write: () => NOTHING },
  Coverage: {
    read: (scope) => visible(scope) as WhereOf<'Coverage'>,
    write: (scope) => managed(scope) as WhereOf<'Coverage'>,
    create: staffCreates('coverages'),
    audited: true,
  },
  EligibilityCheck: {
    read: (scope) => visible(scope) as WhereOf<'EligibilityCheck'>,
    write: () => NOTHING,
    create: staffCreates('eligibility answers'),
    audited: true,
  },
  Claim: {
    read: visibleClaims,
    write: (scope) => managed(scope) as WhereOf<'Claim'>,
    create: staffCreates('claims'),
    audited: true,
  },
  ClaimLine: {
    read: (scope) => ({ claim: visibleClaims(scope) }),
    write: (scope) => ({ claim: managed(scope) as WhereOf<'Claim'> }),
    create: staffOnly('write claim lines'),
  },
  ClaimTransition: {
    read: (scope) => ({ claim: visibleClaims(scope) }),
    write: () => NOTHING,
    create: staffOnly('change a claim'),
  },
  ClaimSubmission: {
    read: (scope) => managed(scope) as WhereOf<'ClaimSubmission'>,
    write: (scope) => managed(scope) as WhereOf<'ClaimSubmission'>,
    create: staffCreates('claim transmissions'),
  },
  PayerTariff: {
    read: (scope) => (managedOrganization(scope.identity) ? {} : NOTHING),
    write: () => NOTHING,
  },
  PriorAuthorization: {
    read: (scope) => visible(scope) as WhereOf<'PriorAuthorization'>,
    write: (scope) => managed(scope) as WhereOf<'PriorAuthorization'>,
    create: staffCreates('authorization requests'),
    audited: true,
  },
  ClaimAppeal: {
    read: (scope) => ({ claim: visibleClaims(scope) }),
    write: (scope) => managed(scope) as WhereOf<'ClaimAppeal'>,
    create: staffCreates('appeals'),
    audited: true,
  },
  // Kept as given: a document is never changed, only attached.
  SupportingDocument: {
    read: (scope) => visible(scope) as WhereOf<'SupportingDocument'>,
    write: () => NOTHING,
    create: staffCreates('supporting documents'),
    audited: true,
  },
  // Written by the remittance webhook only, as system work.
  Remittance: { read: () => NOTHING, write: () => NOTHING },
};
