import { createHash, timingSafeEqual } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import type { GoogleHealthSettings } from '../../kit/config.js';
import {
  WearableProviderError, type ReadingsPage, type WearableDataType, type WearableNotification, type WearableProviderAdapter, type WearableReading,
  type WearableTokens, type WebhookMessage,
} from './wearables.js';

/**
 * The Google Health API (v4), successor of the retired Fitbit Web API for Fitbit and Pixel
 * data: Google OAuth 2.0 (authorization code with PKCE S256, offline access for a refresh
 * token, revocation) through oauth4webapi, data points per data type from
 * `GET /v4/users/me/dataTypes/{type}/dataPoints` (newest first, filtered with AIP-160), and
 * webhooks whose `Authorization` header carries the secret registered with the subscriber.
 * Endpoints are configurable (tests run a local fake speaking the same wire format).
 */
const GOOGLE = {
  issuer: 'https://accounts.google.com',
  authorization: 'https://accounts.google.com/o/oauth2/v2/auth',
  token: 'https://oauth2.googleapis.com/token',
  revocation: 'https://oauth2.googleapis.com/revoke',
  api: 'https://health.googleapis.com',
};

const SCOPE = {
  metrics: 'https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly',
  activity: 'https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly',
  sleep: 'https://www.googleapis.com/auth/googlehealth.sleep.readonly',
};

/** Per data type: its path segment, the scope it needs, the field its filter names, and how big a page may be (sleep: 25 at most). */
const TYPES: Record<WearableDataType, { path: string; scope: string; timeField: string; pageSize: number }> = {
  HEART_RATE: { path: 'heart-rate', scope: SCOPE.metrics, timeField: 'heart_rate.sample_time.physical_time', pageSize: 500 },
  OXYGEN_SATURATION: { path: 'oxygen-saturation', scope: SCOPE.metrics, timeField: 'oxygen_saturation.sample_time.physical_time', pageSize: 500 },
  STEPS: { path: 'steps', scope: SCOPE.activity, timeField: 'steps.interval.start_time', pageSize: 500 },
  SLEEP: { path: 'sleep', scope: SCOPE.sleep, timeField: 'sleep.interval.start_time', pageSize: 25 },
};

interface Interval { startTime?: string; endTime?: string }
interface DataPoint {
  name?: string;
  dataSource?: unknown;
  heartRate?: { beatsPerMinute?: string | number; sampleTime?: { physicalTime?: string } };
  oxygenSaturation?: { percentage?: string | number; sampleTime?: { physicalTime?: string } };
  steps?: { count?: string | number; interval?: Interval };
  sleep?: { interval?: Interval; summary?: { minutesAsleep?: string | number } };
}

const instant = (value: string | undefined): Date | null => {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
};
const numeric = (value: string | number | undefined): number | null => {
  if (value === undefined || value === null || value === '') return null;
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(number) ? number : null;
};

/** A data point's value and time, or null when it carries none (the point is counted, not guessed at). */
function readPoint(type: WearableDataType, point: DataPoint): Omit<WearableReading, 'key' | 'type'> | null {
  switch (type) {
    case 'HEART_RATE': {
      const value = numeric(point.heartRate?.beatsPerMinute);
      const start = instant(point.heartRate?.sampleTime?.physicalTime);
      return value !== null && start ? { value, start, end: null } : null;
    }
    case 'OXYGEN_SATURATION': {
      const value = numeric(point.oxygenSaturation?.percentage);
      const start = instant(point.oxygenSaturation?.sampleTime?.physicalTime);
      return value !== null && start ? { value, start, end: null } : null;
    }
    case 'STEPS': {
      const value = numeric(point.steps?.count);
      const start = instant(point.steps?.interval?.startTime);
      return value !== null && start ? { value, start, end: instant(point.steps?.interval?.endTime) } : null;
    }
    case 'SLEEP': {
      const value = numeric(point.sleep?.summary?.minutesAsleep);
      const start = instant(point.sleep?.interval?.startTime);
      return value !== null && start ? { value, start, end: instant(point.sleep?.interval?.endTime) } : null;
    }
  }
}

/** Most data points have no name: what identifies one is its type, its time and where it came from. */
function keyOf(type: WearableDataType, point: DataPoint, reading: Omit<WearableReading, 'key' | 'type'>): string {
  if (point.name) return point.name;
  const identity = JSON.stringify([type, reading.start.toISOString(), reading.end?.toISOString() ?? null, point.dataSource ?? null]);
  return `${TYPES[type].path}/${createHash('sha256').update(identity).digest('base64url')}`;
}

/** Webhook data types as Google writes them (`heart-rate`, `heartRate`, `HEART_RATE`) → ours. */
function dataTypeOf(name: unknown): WearableDataType | null {
  if (typeof name !== 'string') return null;
  const normalized = name.replace(/[-_\s]/g, '').toLowerCase();
  const found = (Object.keys(TYPES) as WearableDataType[]).find((type) => type.replace(/_/g, '').toLowerCase() === normalized);
  return found ?? null;
}

/** `Retry-After` in seconds or as an HTTP date, when given. */
function retryAfterMs(response: Response): number | null {
  const header = response.headers.get('retry-after');
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

export class GoogleHealthAdapter implements WearableProviderAdapter {
  private readonly as: oauth.AuthorizationServer;
  private readonly client: oauth.Client;
  private readonly clientAuth: oauth.ClientAuth;
  private readonly apiBaseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly settings: GoogleHealthSettings) {
    this.as = {
      issuer: GOOGLE.issuer,
      authorization_endpoint: settings.authorizationEndpoint ?? GOOGLE.authorization,
      token_endpoint: settings.tokenEndpoint ?? GOOGLE.token,
      revocation_endpoint: settings.revocationEndpoint ?? GOOGLE.revocation,
    };
    this.client = { client_id: settings.clientId };
    this.clientAuth = oauth.ClientSecretPost(settings.clientSecret);
    this.apiBaseUrl = (settings.apiBaseUrl ?? GOOGLE.api).replace(/\/$/, '');
    this.timeoutMs = settings.timeoutMs ?? 10_000;
  }

  /** Plain HTTP only for a local fake: oauth4webapi refuses it unless told. */
  private options(): { signal: AbortSignal; [oauth.allowInsecureRequests]?: boolean } {
    const insecure = [this.as.token_endpoint, this.as.revocation_endpoint].some((url) => url?.startsWith('http:'));
    return { signal: AbortSignal.timeout(this.timeoutMs), ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}) };
  }

  authorizationUrl(input: { state: string; codeChallenge: string; types: readonly WearableDataType[] }): string {
    const url = new URL(this.as.authorization_endpoint as string);
    const scopes = [...new Set(input.types.map((type) => TYPES[type].scope))];
    url.search = new URLSearchParams({
      client_id: this.settings.clientId, redirect_uri: this.settings.redirectUri, response_type: 'code', scope: scopes.join(' '),
      state: input.state, code_challenge: input.codeChallenge, code_challenge_method: 'S256',
      // A refresh token, and the consent screen again on reconnect (Google gives a refresh token only then).
      access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true',
    }).toString();
    return url.toString();
  }

  async exchangeCode(input: { callback: URLSearchParams; expectedState: string; codeVerifier: string }): Promise<WearableTokens> {
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(this.as, this.client, input.callback, input.expectedState);
    } catch (error) {
      throw new WearableProviderError('CONSENT', error instanceof oauth.AuthorizationResponseError ? `Google answered ${error.error}` : 'the consent callback does not match this connection');
    }
    const response = await this.call(() => oauth.authorizationCodeGrantRequest(this.as, this.client, this.clientAuth, params, this.settings.redirectUri, input.codeVerifier, this.options()));
    try {
      return tokensFrom(await oauth.processAuthorizationCodeResponse(this.as, this.client, response), null);
    } catch (error) {
      throw tokenProblem(error, 'CONSENT');
    }
  }

  async refresh(refreshToken: string): Promise<WearableTokens> {
    const response = await this.call(() => oauth.refreshTokenGrantRequest(this.as, this.client, this.clientAuth, refreshToken, this.options()));
    if (response.status === 429) throw new WearableProviderError('RATE_LIMITED', 'Google rate-limited the token refresh', retryAfterMs(response));
    try {
      return tokensFrom(await oauth.processRefreshTokenResponse(this.as, this.client, response), refreshToken);
    } catch (error) {
      throw tokenProblem(error, 'UNAVAILABLE');
    }
  }

  async revoke(token: string): Promise<void> {
    const response = await this.call(() => oauth.revocationRequest(this.as, this.client, this.clientAuth, token, this.options()));
    // A token already revoked or expired is gone, which is what was asked.
    if (response.status === 400) return;
    try {
      await oauth.processRevocationResponse(response);
    } catch {
      throw new WearableProviderError('UNAVAILABLE', `Google did not revoke the token (${response.status})`);
    }
  }

  async accountId(accessToken: string): Promise<string> {
    const body = await this.get(accessToken, '/v4/users/me/identity');
    const id = (body as { healthUserId?: unknown }).healthUserId;
    if (typeof id !== 'string' || !id) throw new WearableProviderError('MALFORMED', 'Google’s identity answer has no healthUserId');
    return id;
  }

  grantedTypes(scopes: readonly string[]): WearableDataType[] {
    return (Object.keys(TYPES) as WearableDataType[]).filter((type) => scopes.includes(TYPES[type].scope));
  }

  async readings(accessToken: string, type: WearableDataType, query: { since: Date; until?: Date; pageToken: string | null }): Promise<ReadingsPage> {
    const spec = TYPES[type];
    const filter = [`${spec.timeField} >= "${query.since.toISOString()}"`, ...(query.until ? [`${spec.timeField} < "${query.until.toISOString()}"`] : [])].join(' AND ');
    const params = new URLSearchParams({ pageSize: String(spec.pageSize), filter });
    if (query.pageToken) params.set('pageToken', query.pageToken);
    const body = (await this.get(accessToken, `/v4/users/me/dataTypes/${spec.path}/dataPoints?${params}`)) as { dataPoints?: unknown; nextPageToken?: unknown };
    if (body.dataPoints !== undefined && !Array.isArray(body.dataPoints)) throw new WearableProviderError('MALFORMED', 'Google’s dataPoints is not a list');
    const readings: WearableReading[] = [];
    let unreadable = 0;
    for (const point of (body.dataPoints ?? []) as DataPoint[]) {
      const reading = point && typeof point === 'object' ? readPoint(type, point) : null;
      if (!reading) {
        unreadable += 1;
        continue;
      }
      readings.push({ ...reading, type, key: keyOf(type, point, reading) });
    }
    return { readings, nextPageToken: typeof body.nextPageToken === 'string' && body.nextPageToken ? body.nextPageToken : null, unreadable };
  }

  /** Google sends the subscriber's secret, exactly, as the Authorization header (no scheme). */
  verifyWebhook(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
    const secret = this.settings.webhookSecret;
    const given = headers['authorization'];
    if (!secret || typeof given !== 'string') return false;
    const a = createHash('sha256').update(given).digest();
    const b = createHash('sha256').update(secret).digest();
    return timingSafeEqual(a, b);
  }

  readWebhook(body: unknown): WebhookMessage {
    if (body && typeof body === 'object' && !Array.isArray(body) && (body as { type?: unknown }).type === 'verification') return { kind: 'verification' };
    const entries = Array.isArray(body) ? body : body && typeof body === 'object' ? [body] : null;
    if (!entries) throw new WearableProviderError('MALFORMED', 'a notification is a JSON object or a list of them');
    const notifications: WearableNotification[] = [];
    let ignored = 0;
    entries.forEach((entry: unknown, index) => {
      const data = (entry as { data?: Record<string, unknown> } | null)?.data;
      const where = `notification ${index + 1}`;
      if (!data || typeof data !== 'object') throw new WearableProviderError('MALFORMED', `${where} has no data`);
      const { healthUserId, operation, dataType, intervals } = data as { healthUserId?: unknown; operation?: unknown; dataType?: unknown; intervals?: unknown };
      if (typeof healthUserId !== 'string' || !healthUserId) throw new WearableProviderError('MALFORMED', `${where} has no healthUserId`);
      if (operation !== 'UPSERT' && operation !== 'DELETE') throw new WearableProviderError('MALFORMED', `${where}: operation must be UPSERT or DELETE`);
      if (!Array.isArray(intervals) || intervals.length === 0) throw new WearableProviderError('MALFORMED', `${where} has no intervals`);
      const read = intervals.map((interval: unknown, position) => {
        const period = (interval as { physicalTimeInterval?: Interval } | null)?.physicalTimeInterval;
        const start = instant(period?.startTime);
        const end = instant(period?.endTime);
        if (!start || !end || end < start) throw new WearableProviderError('MALFORMED', `${where}, interval ${position + 1}: startTime and endTime must be instants, in order`);
        return { start, end };
      });
      const type = dataTypeOf(dataType);
      // Types CareGraph does not sync (exercise, weight…) are acknowledged and left alone.
      if (!type) ignored += 1;
      else notifications.push({ providerUserId: healthUserId, type, operation, intervals: read });
    });
    return { kind: 'notifications', notifications, ignored };
  }

  private async get(accessToken: string, path: string): Promise<unknown> {
    const response = await this.call(() => fetch(`${this.apiBaseUrl}${path}`, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) }));
    if (response.status === 429) throw new WearableProviderError('RATE_LIMITED', 'Google Health rate-limited the request', retryAfterMs(response));
    if (response.status === 401) throw new WearableProviderError('UNAUTHORIZED', 'Google Health refused the access token');
    if (response.status === 400) throw new WearableProviderError('MALFORMED', 'Google Health refused the request (400)');
    if (response.status === 403) throw new WearableProviderError('CONSENT', 'Google Health refused access to this data (403)');
    if (!response.ok) throw new WearableProviderError('UNAVAILABLE', `Google Health answered ${response.status}`);
    try {
      return await response.json();
    } catch {
      throw new WearableProviderError('MALFORMED', 'Google Health answered something other than JSON');
    }
  }

  /** Network failures and timeouts are the provider being unavailable. */
  private async call(request: () => Promise<Response>): Promise<Response> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof WearableProviderError) throw error;
      throw new WearableProviderError('UNAVAILABLE', `Google could not be reached (${error instanceof Error ? error.name : 'error'})`);
    }
  }
}

function tokensFrom(result: oauth.TokenEndpointResponse, previousRefreshToken: string | null): WearableTokens {
  return {
    accessToken: result.access_token,
    refreshToken: result.refresh_token ?? previousRefreshToken,
    expiresAt: new Date(Date.now() + (result.expires_in ?? 3_600) * 1_000),
    scopes: (result.scope ?? '').split(' ').filter(Boolean),
  };
}

/** invalid_grant: the code (or refresh token) is no longer honoured. */
function tokenProblem(error: unknown, otherwise: 'CONSENT' | 'UNAVAILABLE'): WearableProviderError {
  if (error instanceof oauth.ResponseBodyError) {
    if (error.error === 'invalid_grant') return new WearableProviderError(otherwise === 'CONSENT' ? 'CONSENT' : 'REVOKED', `Google answered invalid_grant`);
    if (error.status === 429) return new WearableProviderError('RATE_LIMITED', 'Google rate-limited the token request');
    return new WearableProviderError(otherwise, `Google answered ${error.error}`);
  }
  return new WearableProviderError(otherwise === 'CONSENT' ? 'UNAVAILABLE' : otherwise, 'Google’s token answer could not be read');
}
