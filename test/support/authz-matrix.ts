import { INTERNAL_IDENTITY_HEADER, signInternalIdentity, type Identity, type RoleName } from '../../subgraphs/kit/identity.js';
import { USERS, type SeedUser } from '../../prisma/seed-data.js';
import { postGraphQL, type TestPlatform } from './platform.js';

/**
 * Authorization matrices: every role (and no credential) against a list of operations, with
 * the expected outcome written out by hand. Any unexpected allow or deny is reported.
 */
export type Caller = RoleName | 'ANONYMOUS';
export const CALLERS: Caller[] = ['ANONYMOUS', 'PATIENT', 'LEARNER', 'NURSE', 'CLINICIAN', 'PHARMACIST', 'BILLING', 'PARTNER', 'BI', 'ADMIN', 'SERVICE', 'DEVICE'];
export const SEEDED: Record<RoleName, SeedUser> = {
  PATIENT: USERS.patient, LEARNER: USERS.learner, NURSE: USERS.nurse, CLINICIAN: USERS.clinician, PHARMACIST: USERS.pharmacist,
  BILLING: USERS.billing, PARTNER: USERS.partner, BI: USERS.bi, ADMIN: USERS.admin, SERVICE: USERS.service, DEVICE: USERS.device,
};

export interface MatrixCase {
  name: string;
  query: (caller: Caller) => string;
  /** Callers that must succeed; every other signed-in caller must get FORBIDDEN (anonymous: UNAUTHENTICATED). */
  allowed: Caller[];
  /** What an allowed caller gets instead of data, when the field answers with an error by design. */
  allowedCode?: string;
  /** Per-caller exceptions to the above (an allowed caller missing a required argument, say). */
  outcomes?: Partial<Record<Caller, string>>;
}

export function entitiesQuery(typename: string, id: string, field: string): string {
  return `{ _entities(representations: [{__typename: "${typename}", id: "${id}"}]) { ... on ${typename} { id ${field} } } }`;
}

function outcome(json: { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: Record<string, unknown> }> }): string {
  const code = json.errors?.[0]?.extensions?.['code'];
  if (typeof code === 'string') return code;
  const values = Object.values(json.data ?? {});
  const empty = values.length === 0 || values.some((v) => v === null || (Array.isArray(v) && v.some((e) => e === null)));
  return empty ? 'NO_DATA' : 'OK';
}

function expected(testCase: MatrixCase, caller: Caller): string {
  const exception = testCase.outcomes?.[caller];
  if (exception) return exception;
  if (caller === 'ANONYMOUS') return 'UNAUTHENTICATED';
  if (!testCase.allowed.includes(caller)) return 'FORBIDDEN';
  return testCase.allowedCode ?? 'OK';
}

export const identityOf = (caller: Caller): Identity => {
  if (caller === 'ANONYMOUS') return { kind: 'anonymous' };
  const u = SEEDED[caller];
  return { kind: 'user', subject: u.id, role: u.role, organizationId: u.organizationId, patientId: u.patientId ?? null };
};

/** Root fields through the gateway with platform tokens; returns the mismatches. */
export async function runThroughGateway(t: TestPlatform, cases: MatrixCase[]): Promise<string[]> {
  const mismatches: string[] = [];
  for (const testCase of cases) {
    for (const caller of CALLERS) {
      const headers: Record<string, string> = caller === 'ANONYMOUS' ? {} : { authorization: `Bearer ${await t.tokenFor(SEEDED[caller])}` };
      const got = outcome((await postGraphQL(t.graphqlUrl, { query: testCase.query(caller) }, headers)).json);
      if (got !== expected(testCase, caller)) mismatches.push(`${testCase.name} as ${caller}: expected ${expected(testCase, caller)}, got ${got}`);
    }
  }
  return mismatches;
}

/** Entity lookups straight at a subgraph with the identity the gateway would sign; returns the mismatches. */
export async function runAgainstSubgraph(t: TestPlatform, subgraph: string, cases: MatrixCase[]): Promise<string[]> {
  const url = `${t.platform.subgraphs.find((s) => s.name === subgraph)?.url}/graphql`;
  const mismatches: string[] = [];
  for (const testCase of cases) {
    for (const caller of CALLERS) {
      const signed = await signInternalIdentity(identityOf(caller), t.keys.internalIdentitySecret);
      const got = outcome((await postGraphQL(url, { query: testCase.query(caller) }, { [INTERNAL_IDENTITY_HEADER]: signed })).json);
      if (got !== expected(testCase, caller)) mismatches.push(`${testCase.name} as ${caller}: expected ${expected(testCase, caller)}, got ${got}`);
    }
  }
  return mismatches;
}
