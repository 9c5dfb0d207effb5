import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';

/**
 * A local LTI 1.3 platform (what Moodle or Canvas does, over real HTTP): it publishes its keys,
 * answers the tool's OIDC authorization redirect with an auto-posting form carrying a signed
 * `id_token` (the launch the test set up for that login hint), issues OAuth 2 tokens to a tool
 * whose JWT assertion verifies against the tool's JWKS, and records the scores posted to its
 * line item.
 */
export interface PlannedLaunch {
  sub: string;
  name?: string;
  roles: string[];
  contextId: string;
  contextTitle?: string;
  resourceLinkId: string;
  custom?: Record<string, string>;
  deploymentId: string;
  /** Change what is signed (a wrong audience, another nonce…). */
  tamper?: (claims: Record<string, unknown>) => Record<string, unknown>;
}

export interface PostedScore {
  authorization: string | undefined;
  contentType: string | undefined;
  body: { userId: string; scoreGiven: number; scoreMaximum: number; activityProgress: string; gradingProgress: string };
}

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';

async function bodyOf(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += (chunk as Buffer).toString();
  return text;
}

export class FakeLtiPlatform {
  readonly clientId = 'caregraph-tool';
  readonly scores: PostedScore[] = [];
  /** How many score posts to refuse (503) before accepting, to see the tool retry. */
  refuseScores = 0;
  private server!: Server;
  private privateKey!: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  private publicJwk!: Record<string, unknown>;
  private readonly launches = new Map<string, PlannedLaunch>();
  private readonly tokens = new Set<string>();
  url = '';

  constructor(private readonly toolJwksUrl: () => string) {}

  get issuer(): string {
    return this.url;
  }

  plan(loginHint: string, launch: PlannedLaunch): void {
    this.launches.set(loginHint, launch);
  }

  async start(): Promise<void> {
    const keys = await generateKeyPair('RS256', { extractable: true });
    this.privateKey = keys.privateKey;
    this.publicJwk = { ...(await exportJWK(keys.publicKey)), kid: 'platform-1', alg: 'RS256', use: 'sig' };
    this.server = createServer((req, res) => {
      this.handle(req).then(
        ({ status, type, body }) => res.writeHead(status, { 'content-type': type }).end(body),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
      );
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; type: string; body: string }> {
    const url = new URL(req.url ?? '/', this.url);
    const json = (status: number, body: unknown) => ({ status, type: 'application/json', body: JSON.stringify(body) });
    if (req.method === 'GET' && url.pathname === '/jwks') return json(200, { keys: [this.publicJwk] });
    if (req.method === 'GET' && url.pathname === '/auth') return this.authorize(url.searchParams);
    if (req.method === 'POST' && url.pathname === '/token') return this.token(new URLSearchParams(await bodyOf(req)));
    if (req.method === 'POST' && url.pathname === '/lineitems/1/scores') {
      const body = await bodyOf(req);
      const bearer = req.headers['authorization']?.replace(/^Bearer /, '');
      if (!bearer || !this.tokens.has(bearer)) return json(401, { error: 'invalid token' });
      if (this.refuseScores > 0) {
        this.refuseScores -= 1;
        return json(503, { error: 'try later' });
      }
      this.scores.push({ authorization: req.headers['authorization'], contentType: req.headers['content-type'], body: JSON.parse(body) as PostedScore['body'] });
      return json(200, {});
    }
    return json(404, { error: 'not found' });
  }

  /** The OIDC authorization step: an auto-posting form with the id_token, as a browser gets it. */
  private async authorize(params: URLSearchParams): Promise<{ status: number; type: string; body: string }> {
    const launch = this.launches.get(params.get('login_hint') ?? '');
    if (!launch || params.get('client_id') !== this.clientId || params.get('response_type') !== 'id_token' || params.get('scope') !== 'openid') {
      return { status: 400, type: 'text/plain', body: 'bad authorization request' };
    }
    const claims: Record<string, unknown> = {
      nonce: params.get('nonce'),
      name: launch.name,
      [`${LTI}message_type`]: 'LtiResourceLinkRequest',
      [`${LTI}version`]: '1.3.0',
      [`${LTI}deployment_id`]: launch.deploymentId,
      [`${LTI}target_link_uri`]: params.get('redirect_uri'),
      [`${LTI}resource_link`]: { id: launch.resourceLinkId, title: 'Virtual patient' },
      [`${LTI}roles`]: launch.roles,
      [`${LTI}context`]: { id: launch.contextId, title: launch.contextTitle },
      [`${LTI}custom`]: launch.custom ?? {},
      'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint': {
        scope: ['https://purl.imsglobal.org/spec/lti-ags/scope/score'],
        lineitem: `${this.url}/lineitems/1`,
      },
    };
    const signed = launch.tamper ? launch.tamper(claims) : claims;
    const idToken = await new SignJWT(signed)
      .setProtectedHeader({ alg: 'RS256', kid: 'platform-1' })
      .setIssuer(this.issuer).setAudience(String(signed['aud'] ?? this.clientId)).setSubject(launch.sub)
      .setIssuedAt().setExpirationTime('5m')
      .sign(this.privateKey);
    const action = params.get('redirect_uri') ?? '';
    const html = `<form method="post" action="${action}"><input type="hidden" name="id_token" value="${idToken}"><input type="hidden" name="state" value="${params.get('state') ?? ''}"></form><script>document.forms[0].submit()</script>`;
    return { status: 200, type: 'text/html', body: html };
  }

  /** OAuth 2 client credentials with a JWT assertion, verified against the tool's published keys. */
  private async token(form: URLSearchParams): Promise<{ status: number; type: string; body: string }> {
    const json = (status: number, body: unknown) => ({ status, type: 'application/json', body: JSON.stringify(body) });
    if (form.get('grant_type') !== 'client_credentials' || form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return json(400, { error: 'unsupported_grant_type' });
    try {
      await jwtVerify(form.get('client_assertion') ?? '', createRemoteJWKSet(new URL(this.toolJwksUrl())), { issuer: this.clientId, subject: this.clientId, audience: `${this.url}/token` });
    } catch {
      return json(401, { error: 'invalid_client' });
    }
    const token = randomUUID();
    this.tokens.add(token);
    return json(200, { access_token: token, token_type: 'Bearer', expires_in: 3600, scope: form.get('scope') });
  }
}

/** The hidden fields of the platform's auto-posting form. */
export function formFields(html: string): Record<string, string> {
  return Object.fromEntries([...html.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]));
}
