import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyOf, LocalFake } from './local-server.js';

/**
 * Google's OAuth 2.0 and the Google Health API (v4), locally, over real HTTP, in their wire
 * format: the consent page (`GET /o/oauth2/v2/auth` redirects back with `code` and `state`, as
 * if the user agreed), the token endpoint (authorization_code with PKCE S256 checked,
 * refresh_token; `invalid_grant` for anything spent or unknown), revocation, the identity and
 * the data points of each type (newest first, `pageSize`/`pageToken`, the AIP-160 time filter).
 * It can expire access tokens, answer 429 a number of times, and counts what it is asked.
 */
export interface FakePoint {
  type: 'heart-rate' | 'steps' | 'sleep' | 'oxygen-saturation';
  /** The sample time, or the interval's start. */
  time: string;
  end?: string;
  value: number;
  name?: string;
}

interface Grant {
  userId: string;
  scopes: string[];
  refreshToken: string;
  revoked: boolean;
}

export class FakeGoogleHealth extends LocalFake {
  constructor() {
    super('fake Google');
  }

  readonly clientId = 'caregraph-test.apps.googleusercontent.com';
  readonly clientSecret = `GOCSPX-${randomBytes(12).toString('hex')}`;
  readonly webhookSecret = `whsec-${randomBytes(12).toString('hex')}`;
  /** The app's page (never visited: the test reads the redirect). */
  readonly redirectUri = 'https://app.caregraph.test/wearables/callback';
  /** Every request: its path, the data requests' page token, the answer's status (no bodies: they carry tokens). */
  readonly requests: Array<{ method: string; path: string; pageToken: string | null; grantType: string | null; status: number }> = [];
  readonly revoked: string[] = [];
  /** Answer the next N data requests 429 (with `Retry-After` seconds when set). */
  rateLimitNext = 0;
  retryAfterSeconds: number | null = null;
  /** Scopes the user grants (all asked for by default). */
  grantOnly: string[] | null = null;
  /** Access tokens live this long (seconds). */
  accessTokenSeconds = 3_600;
  /** Refresh fails as if the user revoked access at Google. */
  refuseRefresh = false;
  /** Revocation answers 503 (Google having a bad minute). */
  revocationDown = false;
  /** At most this many points a page, whatever is asked (Google caps pages too). */
  maxPageSize = 1_000;
  /** The first data request this matches is answered 429 (then it is cleared). */
  rateLimitOnce: ((url: URL) => boolean) | null = null;

  private readonly codes = new Map<string, { userId: string; scopes: string[]; challenge: string; redirectUri: string; clientId: string }>();
  private readonly accessTokens = new Map<string, { grant: Grant; expiresAt: number }>();
  private readonly grants = new Map<string, Grant>();
  private readonly points = new Map<string, FakePoint[]>();
  /** Which user consents next. */
  private nextUser = 'health-user-1';

  /** Settings for devices: every endpoint here. */
  settings(): { clientId: string; clientSecret: string; redirectUri: string; webhookSecret: string; authorizationEndpoint: string; tokenEndpoint: string; revocationEndpoint: string; apiBaseUrl: string } {
    return {
      clientId: this.clientId, clientSecret: this.clientSecret, redirectUri: this.redirectUri, webhookSecret: this.webhookSecret,
      authorizationEndpoint: `${this.url}/o/oauth2/v2/auth`, tokenEndpoint: `${this.url}/token`, revocationEndpoint: `${this.url}/revoke`, apiBaseUrl: this.url,
    };
  }

  /** The user who consents at the next visit of the consent page. */
  consentAs(userId: string): void {
    this.nextUser = userId;
  }

  addPoints(userId: string, points: FakePoint[]): void {
    this.points.set(userId, [...(this.points.get(userId) ?? []), ...points]);
  }

  removePoints(userId: string, predicate: (point: FakePoint) => boolean): void {
    this.points.set(userId, (this.points.get(userId) ?? []).filter((point) => !predicate(point)));
  }

  /** Every token issued so far (for checking none is readable where it should not be). */
  issuedTokens(): string[] {
    return [...this.accessTokens.keys(), ...this.grants.keys()];
  }

  /** Every access token issued so far stops working (as after an hour). */
  expireAccessTokens(): void {
    for (const token of this.accessTokens.values()) token.expiresAt = 0;
  }

  /** Visits the consent page as the browser would: the redirect back to the app, as a URL. */
  async consent(authorizationUrl: string): Promise<URL> {
    const response = await fetch(authorizationUrl, { redirect: 'manual' });
    const location = response.headers.get('location');
    if (response.status !== 302 || !location) throw new Error(`consent page answered ${response.status}: ${await response.text()}`);
    return new URL(location);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = await bodyOf(req);
    const grantType = req.method === 'POST' && url.pathname === '/token' ? new URLSearchParams(body).get('grant_type') : null;
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method: req.method ?? '', path: url.pathname, pageToken: url.searchParams.get('pageToken'), grantType, status });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
      res.end(JSON.stringify(json));
    };
    if (req.method === 'GET' && url.pathname === '/o/oauth2/v2/auth') return this.authorize(url, res, send);
    if (req.method === 'POST' && url.pathname === '/token') return this.token(new URLSearchParams(body), send);
    if (req.method === 'POST' && url.pathname === '/revoke') {
      if (this.revocationDown) return send(503, { error: 'temporarily_unavailable' });
      const token = new URLSearchParams(body).get('token') ?? '';
      const grant = this.grants.get(token) ?? this.accessTokens.get(token)?.grant;
      if (!grant) return send(400, { error: 'invalid_token' });
      grant.revoked = true;
      this.revoked.push(token);
      return send(200, {});
    }
    if (req.method === 'GET' && url.pathname.startsWith('/v4/users/me/')) return this.api(req, url, send);
    send(404, { error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } });
  }

  private authorize(url: URL, res: ServerResponse, send: (status: number, json: unknown) => void): void {
    const p = url.searchParams;
    const problems = [
      p.get('client_id') !== this.clientId && 'client_id',
      p.get('redirect_uri') !== this.redirectUri && 'redirect_uri',
      p.get('response_type') !== 'code' && 'response_type',
      p.get('code_challenge_method') !== 'S256' && 'code_challenge_method',
      !/^[A-Za-z0-9_-]{43}$/.test(p.get('code_challenge') ?? '') && 'code_challenge',
      p.get('access_type') !== 'offline' && 'access_type',
      !p.get('state') && 'state',
    ].filter(Boolean);
    if (problems.length) return send(400, { error: 'invalid_request', error_description: `bad ${problems.join(', ')}` });
    const asked = (p.get('scope') ?? '').split(' ').filter(Boolean);
    const scopes = this.grantOnly ? asked.filter((scope) => this.grantOnly?.includes(scope)) : asked;
    const code = `4/${randomBytes(16).toString('base64url')}`;
    this.codes.set(code, { userId: this.nextUser, scopes, challenge: p.get('code_challenge') ?? '', redirectUri: p.get('redirect_uri') ?? '', clientId: p.get('client_id') ?? '' });
    const back = new URL(this.redirectUri);
    back.search = new URLSearchParams({ state: p.get('state') ?? '', code, scope: scopes.join(' ') }).toString();
    this.requests.push({ method: 'GET', path: url.pathname, pageToken: null, grantType: null, status: 302 });
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  private token(form: URLSearchParams, send: (status: number, json: unknown) => void): void {
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) return send(401, { error: 'invalid_client' });
    if (form.get('grant_type') === 'authorization_code') {
      const code = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!code || code.redirectUri !== form.get('redirect_uri') || code.challenge !== challenge) return send(400, { error: 'invalid_grant', error_description: 'Bad Request' });
      const grant: Grant = { userId: code.userId, scopes: code.scopes, refreshToken: `1//${randomBytes(24).toString('base64url')}`, revoked: false };
      this.grants.set(grant.refreshToken, grant);
      return send(200, { access_token: this.issueAccess(grant), expires_in: this.accessTokenSeconds, refresh_token: grant.refreshToken, scope: grant.scopes.join(' '), token_type: 'Bearer' });
    }
    if (form.get('grant_type') === 'refresh_token') {
      const grant = this.grants.get(form.get('refresh_token') ?? '');
      if (!grant || grant.revoked || this.refuseRefresh) return send(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
      return send(200, { access_token: this.issueAccess(grant), expires_in: this.accessTokenSeconds, scope: grant.scopes.join(' '), token_type: 'Bearer' });
    }
    send(400, { error: 'unsupported_grant_type' });
  }

  private issueAccess(grant: Grant): string {
    const token = `ya29.${randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(token, { grant, expiresAt: Date.now() + this.accessTokenSeconds * 1_000 });
    return token;
  }

  private api(req: IncomingMessage, url: URL, send: (status: number, json: unknown, headers?: Record<string, string>) => void): void {
    const bearer = /^Bearer (.+)$/.exec(req.headers['authorization'] ?? '')?.[1] ?? '';
    const access = this.accessTokens.get(bearer);
    if (!access || access.expiresAt <= Date.now() || access.grant.revoked) {
      return send(401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
    }
    if (url.pathname === '/v4/users/me/identity') return send(200, { name: 'users/me/identity', healthUserId: access.grant.userId, legacyUserId: access.grant.userId.toUpperCase() });
    const type = /^\/v4\/users\/me\/dataTypes\/([a-z-]+)\/dataPoints$/.exec(url.pathname)?.[1] as FakePoint['type'] | undefined;
    if (!type) return send(404, { error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } });
    const once = this.rateLimitOnce?.(url) ?? false;
    if (once) this.rateLimitOnce = null;
    if (this.rateLimitNext > 0 || once) {
      if (!once) this.rateLimitNext -= 1;
      return send(429, { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } }, this.retryAfterSeconds !== null ? { 'retry-after': String(this.retryAfterSeconds) } : {});
    }
    const pageSize = Math.min(this.maxPageSize, Number(url.searchParams.get('pageSize') ?? '25'));
    const filter = url.searchParams.get('filter') ?? '';
    const lower = /(?:>=)\s*"([^"]+)"/.exec(filter)?.[1];
    const upper = /(?:<)\s*"([^"]+)"/.exec(filter)?.[1];
    const offset = Number(url.searchParams.get('pageToken') ?? '0');
    if (!Number.isInteger(offset) || offset < 0) return send(400, { error: { code: 400, message: 'Invalid page token', status: 'INVALID_ARGUMENT' } });
    const matching = (this.points.get(access.grant.userId) ?? [])
      .filter((point) => point.type === type && (!lower || point.time >= lower) && (!upper || point.time < upper))
      .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
    const page = matching.slice(offset, offset + pageSize);
    const next = offset + pageSize < matching.length ? String(offset + pageSize) : undefined;
    send(200, { dataPoints: page.map((point) => wire(point)), ...(next ? { nextPageToken: next } : {}) });
  }
}

const source = { recordingMethod: 'PASSIVELY_MEASURED', platform: 'FITBIT', device: { displayName: 'Charge 6' } };

/** A point as Google writes it: int64 values as strings, times as RFC 3339, most without a name. */
function wire(point: FakePoint): Record<string, unknown> {
  const base = { name: point.name ?? '', dataSource: source };
  switch (point.type) {
    case 'heart-rate':
      return { ...base, heartRate: { beatsPerMinute: String(point.value), sampleTime: { physicalTime: point.time, utcOffset: '3600s' } } };
    case 'oxygen-saturation':
      return { ...base, oxygenSaturation: { percentage: point.value, sampleTime: { physicalTime: point.time, utcOffset: '3600s' } } };
    case 'steps':
      return { ...base, steps: { count: String(point.value), interval: { startTime: point.time, endTime: point.end ?? point.time } } };
    case 'sleep':
      return { ...base, sleep: { interval: { startTime: point.time, endTime: point.end ?? point.time }, summary: { minutesAsleep: String(point.value) } } };
  }
}
