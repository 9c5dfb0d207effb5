import { errorResponse, type RouteResponse } from '../kit/http.js';
import { parseRole, type Identity } from '../kit/identity.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { identityPermissions } from './permissions.js';
import { buildIdentitySchema } from './schema.js';
import { identityForApiKey, identityForOidcSignIn } from './service.js';

/** Only the gateway resolves credentials: its calls carry the signed `gateway` service identity. */
const fromGateway = (identity: Identity): boolean => identity.kind === 'service' && identity.subject === 'gateway';

function parseJson(body: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const rejected = (): RouteResponse => errorResponse(401, 'UNAUTHENTICATED', 'credential not recognised');

export const identitySubgraph: SubgraphDefinition = {
  name: 'identity',
  defaultPort: 4101,
  buildSchema: buildIdentitySchema,
  permissions: identityPermissions,
  routes: [
    {
      method: 'POST',
      path: '/internal/credentials/api-key',
      public: false,
      async handle(request, deps) {
        if (!fromGateway(request.identity)) return errorResponse(403, 'FORBIDDEN', 'gateway only');
        const key = parseJson(request.body)?.['key'];
        if (typeof key !== 'string') return errorResponse(400, 'BAD_REQUEST', 'key is required');
        const identity = await identityForApiKey(deps, key);
        return identity ? { status: 200, body: { identity } } : rejected();
      },
    },
    {
      method: 'POST',
      path: '/internal/credentials/oidc',
      public: false,
      async handle(request, deps) {
        if (!fromGateway(request.identity)) return errorResponse(403, 'FORBIDDEN', 'gateway only');
        const body = parseJson(request.body);
        const role = typeof body?.['role'] === 'string' ? parseRole(body['role']) : undefined;
        const { issuer, subject, organizationId, email, name } = body ?? {};
        if (typeof issuer !== 'string' || typeof subject !== 'string' || typeof organizationId !== 'string' || !role) {
          return errorResponse(400, 'BAD_REQUEST', 'issuer, subject, organizationId and role are required');
        }
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
  ],
};
