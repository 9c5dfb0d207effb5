import { Role, type Identity, type RoleName } from '../../../subgraphs/kit/identity.js';

/**
 * Which callers are held to the manifest (the "safelist"): they may run only operations of
 * schema/persisted-queries.json, sent by id. A caller matches when both its role and its kind of
 * credential are listed.
 */
export interface SafelistPolicy {
  roles: readonly RoleName[];
  credentials: ReadonlyArray<'user' | 'apiKey' | 'service'>;
}

/**
 * BI tools and partner integrations hold API keys: machines that only ever need the operations
 * written for them, so a leaked key cannot be used to explore the graph. People signed in with
 * those roles (partner staff in the authoring screens) are not held to it by default, because
 * their screens still send operation text; list 'user' to hold them too once those screens
 * send ids.
 */
export const DEFAULT_SAFELIST: SafelistPolicy = { roles: [Role.BI, Role.PARTNER], credentials: ['apiKey'] };

export function isSafelisted(policy: SafelistPolicy, identity: Identity): boolean {
  return identity.kind !== 'anonymous' && policy.roles.includes(identity.role) && policy.credentials.includes(identity.kind);
}
