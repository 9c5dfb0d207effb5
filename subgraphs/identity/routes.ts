import { errorResponse, type RouteResponse } from '../kit/http.js';
import { parseRole, type Identity } from '../kit/identity.js';
import type { SubgraphRoute } from '../kit/subgraph.js';
import { identityForApiKey, identityForOidcSignIn, platformUserActive } from './credentials.js';

/**
 * The gateway's internal credential routes (not public: the gateway never serves them). Each
 * admits only the gateway's signed service identity and works on the process's client.
 */

/** Only the gateway resolves credentials: its calls carry the signed `gateway` service identity. */
const fromGateway = (identity: Identity): boolean => identity.kind === 'service' && identity.subject === 'gateway';

function parseJson(body: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const rejected = (): RouteResponse => errorResponse('UNAUTHENTICATED', 'credential not recognised');
const gatewayOnly = (): RouteResponse => errorResponse('FORBIDDEN', 'gateway only');

export const credentialRoutes: SubgraphRoute[] = [
  {
    method: 'POST',
    path: '/internal/credentials/api-key',
    public: false,
    async handle(request, deps) {
      if (!fromGateway(request.identity)) return gatewayOnly();
      const key = parseJson(request.body)?.['key'];
      if (typeof key !== 'string') return errorResponse('BAD_USER_INPUT', 'key is required');
      const identity = await identityForApiKey(deps, key);
      return identity ? { status: 200, body: { identity } } : rejected();
    },
  },
  {
    method: 'POST',
    path: '/internal/credentials/oidc',
    public: false,
    async handle(request, deps) {
      if (!fromGateway(request.identity)) return gatewayOnly();
      const body = parseJson(request.body);
      const role = typeof body?.['role'] === 'string' ? parseRole(body['role']) : undefined;
      const { issuer, subject, organizationId, email, name } = body ?? {};
      if (typeof issuer !== 'string' || typeof subject !== 'string' || typeof organizationId !== 'string' || !role) {
        return errorResponse('BAD_USER_INPUT', 'issuer, subject, organizationId and role are required');
      }
      // A deactivated user's sign-in throws UNAUTHENTICATED, which the kit answers with 401.
      const identity = await identityForOidcSignIn(deps, {
        issuer,
        subject,
        organizationId,
        role,
        email: typeof email === 'string' ? email : undefined,
        name: typeof name === 'string' ? name : undefined,
      });
      return { status: 200, body: { identity } };
    },
  },
  {
    // Is the user a platform token names still active, with that role there? (deactivation, removed memberships)
    method: 'POST',
    path: '/internal/credentials/platform-user',
    public: false,
    async handle(request, deps) {
      if (!fromGateway(request.identity)) return gatewayOnly();
      const body = parseJson(request.body);
      const role = typeof body?.['role'] === 'string' ? parseRole(body['role']) : undefined;
      const userId = body?.['userId'];
      const organizationId = body?.['organizationId'];
      if (typeof userId !== 'string' || userId.length === 0 || userId.length > 200 || !role || !(organizationId === null || typeof organizationId === 'string')) {
        return errorResponse('BAD_USER_INPUT', 'userId, role and organizationId (a string or null) are required');
      }
      return (await platformUserActive(deps, { userId, role, organizationId })) ? { status: 200, body: { active: true } } : rejected();
    },
  },
];
