import type { Identity } from '../../../subgraphs/kit/identity.js';

/**
 * Who an operation runs as, as a value: the verified identity with keys sorted and cohort ids
 * sorted. Two callers share an upstream subscription (subscriptions/operations.ts) or one
 * execution of an identical query (runtime/inflight.ts) only when this is equal, i.e. when
 * kind, subject, role, organizationId, patientId and the set of cohortIds (and any field a
 * future Identity gains) are all the same, so every shield rule and ownership check in every
 * subgraph decides identically for them. Anything less (same role and organization, say)
 * would let one patient receive events resolved for another.
 */
export function identityScope(identity: Identity): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
  };
  const normalized = 'cohortIds' in identity && identity.cohortIds ? { ...identity, cohortIds: [...new Set(identity.cohortIds)].sort() } : identity;
  return JSON.stringify(canonical(normalized));
}
