import { errorResponse, type RouteResponse } from '../kit/http.js';
import type { Identity } from '../kit/identity.js';
import { publicBaseUrl, type SubgraphDeps } from '../kit/context.js';
import type { SubgraphDefinition } from '../kit/subgraph.js';
import { trainingPolicies } from './access.js';
import { learnerStanding } from './enrolment.js';
import { launchSession } from './launch.js';
import { beginLogin, completeLaunch, ltiLoginExpiry, ltiScoreSender, ltiScoresDue, toolJwks } from './lti.js';
import { trainingPermissions } from './permissions.js';
import { buildTrainingSchema } from './schema.js';
import { seedTraining } from './seed.js';

/** A string field of a JSON object body (`{"token": …}`), or null when the body is not JSON or lacks it. */
function jsonString(body: Buffer, field: string): string | null {
  let parsed: unknown;
  try { parsed = JSON.parse(body.toString('utf8')); } catch { return null; }
  const value = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' ? value : null;
}

/** The launch token from a JSON body (`{"token": …}`) or a form post (`token=…`), as partner platforms send it. */
function launchTokenFrom(body: Buffer, contentType: string | undefined): string | null {
  if (contentType?.startsWith('application/x-www-form-urlencoded')) return new URLSearchParams(body.toString('utf8')).get('token');
  return jsonString(body, 'token');
}

/** A form post's fields, or a GET's query parameters (LTI logins come either way). */
function formOrQuery(request: { method: string; url: URL; body: Buffer }): URLSearchParams {
  return request.method === 'POST' ? new URLSearchParams(request.body.toString('utf8')) : request.url.searchParams;
}

/** The LTI 1.3 tool's endpoints (lti.ts), public at the gateway's address: platforms and browsers call them. */
const ltiLogin = async (request: { method: string; url: URL; body: Buffer }, deps: SubgraphDeps): Promise<RouteResponse> => {
  const fields = formOrQuery(request);
  const location = await beginLogin(deps.prisma, Object.fromEntries(fields), `${publicBaseUrl(deps)}/lti/launch`);
  return { status: 302, headers: { location, 'cache-control': 'no-store' }, body: '' };
};
const ltiRoutes: SubgraphDefinition['routes'] = [
  { method: 'GET', path: '/lti/login', public: true, handle: (request, deps) => ltiLogin(request, deps) },
  { method: 'POST', path: '/lti/login', public: true, handle: (request, deps) => ltiLogin(request, deps) },
  {
    method: 'POST',
    path: '/lti/launch',
    public: true,
    async handle(request, _deps, ctx): Promise<RouteResponse> {
      const fields = formOrQuery(request);
      const launched = await completeLaunch(ctx, { idToken: fields.get('id_token'), state: fields.get('state') });
      return { status: 303, headers: { location: launched.location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }, body: '' };
    },
  },
  { method: 'GET', path: '/lti/jwks', public: true, handle: async (_request, deps) => ({ status: 200, body: await toolJwks(deps.prisma), headers: { 'cache-control': 'max-age=300' } }) },
];

/** Only the gateway checks credentials: its calls carry the signed `gateway` service identity. */
const fromGateway = (identity: Identity): boolean => identity.kind === 'service' && identity.subject === 'gateway';

export const trainingSubgraph: SubgraphDefinition = {
  name: 'training',
  defaultPort: 4102,
  buildSchema: buildTrainingSchema,
  permissions: trainingPermissions,
  policies: trainingPolicies,
  seed: seedTraining,
  // Completed sessions launched by LTI have their scores sent back to the platform.
  consumers: [ltiScoresDue],
  workers: [ltiScoreSender, ltiLoginExpiry],
  routes: [
    {
      // REST alias of launchSession for partner platforms that post a launch form or JSON.
      method: 'POST',
      path: '/integrations/partner/launch',
      public: true,
      async handle(request, _deps, ctx): Promise<RouteResponse> {
        const token = launchTokenFrom(request.body, request.headers['content-type']);
        if (!token) return errorResponse('BAD_USER_INPUT', 'token is required');
        // A browser form post goes on to the partner's learner app (303, the token in the URL
        // fragment, never cached); an API client gets JSON. A refused launch throws a
        // DomainError, which the kit answers with its code's status.
        const forBrowser = request.headers['accept']?.includes('text/html') ?? false;
        const result = await launchSession(ctx, token, { forBrowser });
        if (forBrowser && result.launchUrl) return { status: 303, headers: { location: result.launchUrl, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }, body: '' };
        return { status: 201, body: { accessToken: result.accessToken, launchUrl: result.launchUrl, session: { id: result.session.id, status: result.session.status } } };
      },
    },
    ...ltiRoutes,
    {
      // The gateway asks, for a learner's platform token, whether the learner still exists
      // (retention deletes learners) and which cohorts they are in.
      method: 'POST',
      path: '/internal/credentials/learner',
      public: false,
      async handle(request, deps): Promise<RouteResponse> {
        if (!fromGateway(request.identity)) return errorResponse('FORBIDDEN', 'gateway only');
        const learnerId = jsonString(request.body, 'learnerId');
        if (!learnerId) return errorResponse('BAD_USER_INPUT', 'learnerId is required');
        // System read (deps.prisma): the gateway asks for no user, about any learner.
        const standing = await learnerStanding(deps.prisma, learnerId);
        return standing ? { status: 200, body: standing } : errorResponse('UNAUTHENTICATED', 'learner not recognised');
      },
    },
  ],
};
