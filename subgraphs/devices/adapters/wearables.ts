/**
 * What devices needs from a wearable vendor, whoever it is: OAuth 2.0 (authorization code with
 * PKCE, refresh, revocation), the account's id, readings of each data type page by page, and
 * its webhooks. Google Health (Fitbit, Pixel) is the one there is; another vendor joins by
 * implementing this and naming itself in `WearableProvider`.
 */
export type WearableDataType = 'HEART_RATE' | 'STEPS' | 'SLEEP' | 'OXYGEN_SATURATION';
export const WEARABLE_DATA_TYPES: readonly WearableDataType[] = ['HEART_RATE', 'STEPS', 'SLEEP', 'OXYGEN_SATURATION'];

export interface WearableTokens {
  accessToken: string;
  /** Absent on a refresh that kept the same refresh token. */
  refreshToken: string | null;
  expiresAt: Date;
  /** What the patient granted. */
  scopes: string[];
}

/** One data point as the vendor gave it. */
export interface WearableReading {
  /** Stable across syncs: the vendor's id for the point, or one derived from what identifies it. */
  key: string;
  type: WearableDataType;
  value: number;
  /** The sample's time, or the start of the period it covers. */
  start: Date;
  end: Date | null;
}

export interface ReadingsPage {
  readings: WearableReading[];
  /** Newest first: more pages follow while this is set. */
  nextPageToken: string | null;
  /** Points the vendor sent that carried no usable value (counted, never guessed at). */
  unreadable: number;
}

/** What a vendor's webhook says changed. */
export interface WearableNotification {
  providerUserId: string;
  type: WearableDataType;
  operation: 'UPSERT' | 'DELETE';
  intervals: Array<{ start: Date; end: Date }>;
}

export type WebhookMessage = { kind: 'verification' } | { kind: 'notifications'; notifications: WearableNotification[]; ignored: number };

export interface WearableProviderAdapter {
  /** Where the patient consents; the vendor sends them back to the configured redirect URI with `code` and `state`. */
  authorizationUrl(input: { state: string; codeChallenge: string; types: readonly WearableDataType[] }): string;
  /** Checks the callback (state, error) and exchanges its code with the PKCE verifier. */
  exchangeCode(input: { callback: URLSearchParams; expectedState: string; codeVerifier: string }): Promise<WearableTokens>;
  refresh(refreshToken: string): Promise<WearableTokens>;
  revoke(token: string): Promise<void>;
  /** The vendor's id for the account (what its webhooks name). */
  accountId(accessToken: string): Promise<string>;
  /** The data types the granted scopes allow. */
  grantedTypes(scopes: readonly string[]): WearableDataType[];
  /** Readings of one type at or after `since`, a page at a time. */
  readings(accessToken: string, type: WearableDataType, query: { since: Date; until?: Date; pageToken: string | null }): Promise<ReadingsPage>;
  /** Whether a webhook request is the vendor's, as the vendor specifies. */
  verifyWebhook(headers: Readonly<Record<string, string | string[] | undefined>>): boolean;
  /** The webhook's body; throws WearableProviderError('MALFORMED') when it is not what the vendor sends. */
  readWebhook(body: unknown): WebhookMessage;
}

/**
 * A vendor's answer the sync must act on: RATE_LIMITED (back off, keep the cursor),
 * UNAUTHORIZED (refresh, then retry once), REVOKED (the refresh token is no longer honoured:
 * the patient must connect again), CONSENT (the callback carried an error, or a state that is
 * not ours), MALFORMED, UNAVAILABLE (anything else: retry later).
 */
export type WearableProblem = 'RATE_LIMITED' | 'UNAUTHORIZED' | 'REVOKED' | 'CONSENT' | 'MALFORMED' | 'UNAVAILABLE';

export class WearableProviderError extends Error {
  constructor(
    readonly problem: WearableProblem,
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}
