import { createContext } from '../kit/context.js';
import { hasKnownCode } from '../kit/errors.js';
import { errorResponse, type RouteResponse } from '../kit/http.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { trainingPermissions } from './permissions.js';
import { buildTrainingSchema } from './schema.js';
import { launchSession } from './service.js';

const STATUS_BY_CODE: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, BAD_USER_INPUT: 400, CONFLICT: 409 };

/** The launch token from a JSON body (`{"token": …}`) or a form post (`token=…`), as partner platforms send it. */
function launchTokenFrom(body: Buffer, contentType: string | undefined): string | null {
  const text = body.toString('utf8');
  if (contentType?.startsWith('application/x-www-form-urlencoded')) return new URLSearchParams(text).get('token');
  try {
    const parsed: unknown = JSON.parse(text);
    const token = (parsed as { token?: unknown } | null)?.token;
    return typeof token === 'string' ? token : null;
  } catch {
    return null;
  }
}

export const trainingSubgraph: SubgraphDefinition = {
  name: 'training',
  defaultPort: 4102,
  buildSchema: buildTrainingSchema,
  permissions: trainingPermissions,
  routes: [
    {
      // REST alias of launchSession for partner platforms that post a launch form or JSON.
      method: 'POST',
      path: '/integrations/partner/launch',
      public: true,
      async handle(request, deps): Promise<RouteResponse> {
        const token = launchTokenFrom(request.body, request.headers['content-type']);
        if (!token) return errorResponse(400, 'BAD_USER_INPUT', 'token is required');
        try {
          const result = await launchSession(createContext(deps, request.identity), token);
          const body = { accessToken: result.accessToken, launchUrl: result.launchUrl, session: { id: result.session.id, status: result.session.status } };
          // A browser form post goes straight on to the session; an API client gets JSON.
          if (request.headers['accept']?.includes('text/html')) return { status: 303, headers: { location: result.launchUrl }, body: '' };
          return { status: 201, body };
        } catch (error) {
          const graphqlError = error as { message?: string; extensions?: Record<string, unknown> };
          if (!hasKnownCode(graphqlError)) throw error;
          const code = String(graphqlError.extensions?.['code']);
          return errorResponse(STATUS_BY_CODE[code] ?? 400, code, graphqlError.message ?? 'launch refused');
        }
      },
    },
  ],
};
