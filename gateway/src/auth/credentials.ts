import { domainError, ErrorCode, type DomainError } from '../../../subgraphs/kit/errors.js';
import type { Identity } from '../../../subgraphs/kit/identity.js';
import type { Logger } from '../../../subgraphs/kit/logger.js';
import type { IdentitySigner } from '../runtime/signer.js';
import type { Subgraphs } from '../runtime/subgraphs.js';
import { AnswerCache } from './answer-cache.js';
import { AuthenticationError, type CredentialResolver, type LearnerStanding, type PlatformUserClaims } from './authenticate.js';

export interface CredentialServiceOptions {
  subgraphs: Subgraphs;
  signer: IdentitySigner;
  log: Logger;
  /** How long an answer about a platform token's user holds (at most 60 s: deactivation must bite soon). */
  standingTtlMs?: number;
  maxCachedStandings?: number;
}

const MAX_STANDING_TTL_MS = 60_000;

/** The credential could not be checked: not the caller's fault, and worth retrying. */
const unavailable = (serviceName: string): DomainError =>
  domainError(ErrorCode.SERVICE_UNAVAILABLE, 'Credentials cannot be checked right now; try again shortly', { serviceName });

/**
 * Credential checks the gateway cannot make alone, asked of the subgraphs that own the facts
 * with the gateway's service identity: API keys and OIDC sign-ins (identity), whether a
 * platform token's user is still active there (identity) and whether a learner still exists
 * (training). Answers about token users are cached, positive and negative, for at most 60 s in
 * a bounded LRU. An owner that cannot be reached, times out or answers anything but yes or no
 * is SERVICE_UNAVAILABLE: the token is neither let through nor called invalid.
 */
export function subgraphCredentials(options: CredentialServiceOptions): CredentialResolver {
  const { subgraphs, signer, log } = options;
  const ttlMs = Math.min(options.standingTtlMs ?? MAX_STANDING_TTL_MS, MAX_STANDING_TTL_MS);
  const users = new AnswerCache<boolean>({ ttlMs, maxEntries: options.maxCachedStandings ?? 10_000 });
  const learners = new AnswerCache<LearnerStanding | null>({ ttlMs, maxEntries: options.maxCachedStandings ?? 10_000 });

  /** 200 → the body, 401 → null; anything else (or no answer) → SERVICE_UNAVAILABLE. */
  const ask = async (subgraph: string, path: string, body: unknown): Promise<Record<string, unknown> | null> => {
    let answer: { status: number; json: unknown };
    try {
      answer = await subgraphs.post(subgraph, path, body, () => signer.gateway());
    } catch (error) {
      log.warn({ err: error, subgraph, path }, 'credential check failed');
      throw unavailable(subgraph);
    }
    if (answer.status === 401) return null;
    if (answer.status === 200 && typeof answer.json === 'object' && answer.json !== null) return answer.json as Record<string, unknown>;
    log.error({ subgraph, path, status: answer.status }, 'credential check answered unexpectedly');
    throw unavailable(subgraph);
  };

  const identityOf = (body: Record<string, unknown> | null, subgraph: string): Identity => {
    const identity = body?.['identity'];
    if (typeof identity !== 'object' || identity === null) throw unavailable(subgraph);
    return identity as Identity;
  };

  return {
    async apiKey(key) {
      const body = await ask('identity', '/internal/credentials/api-key', { key });
      return body === null ? null : identityOf(body, 'identity');
    },
    async oidc(signIn) {
      const body = await ask('identity', '/internal/credentials/oidc', signIn);
      // A deactivated user's sign-in is refused (401): the token is fine, the user is not.
      if (body === null) throw new AuthenticationError('this user may not sign in');
      return identityOf(body, 'identity');
    },
    platformUser(claims: PlatformUserClaims) {
      return users.through(JSON.stringify([claims.userId, claims.role, claims.organizationId]), async () =>
        (await ask('identity', '/internal/credentials/platform-user', claims)) !== null);
    },
    learner(learnerId) {
      return learners.through(learnerId, async () => {
        const body = await ask('training', '/internal/credentials/learner', { learnerId });
        if (body === null) return null;
        const cohortIds = body['cohortIds'];
        return { cohortIds: Array.isArray(cohortIds) ? cohortIds.filter((id): id is string => typeof id === 'string') : undefined };
      });
    },
  };
}
