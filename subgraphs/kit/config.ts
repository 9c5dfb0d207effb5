/** Settings every process shares, read from the environment in one place. */
export interface SharedConfig {
  databaseUrl?: string;
  redisUrl?: string;
  /** Where embedded data and local dev keys live. */
  dataDir: string;
  production: boolean;
  /** PostgreSQL connect and statement timeouts (ms); kit/database.ts has the defaults. */
  databaseTimeouts: { connectTimeoutMs?: number; queryTimeoutMs?: number };
}

export function readSharedConfig(env: NodeJS.ProcessEnv = process.env): SharedConfig {
  return {
    databaseUrl: env['DATABASE_URL'] || undefined,
    redisUrl: env['REDIS_URL'] || undefined,
    dataDir: env['DATA_DIR'] || '.caregraph',
    production: env['NODE_ENV'] === 'production',
    databaseTimeouts: {
      connectTimeoutMs: env['DATABASE_CONNECT_TIMEOUT_MS'] ? intFromEnv(env, 'DATABASE_CONNECT_TIMEOUT_MS', 0) : undefined,
      queryTimeoutMs: env['DATABASE_QUERY_TIMEOUT_MS'] ? intFromEnv(env, 'DATABASE_QUERY_TIMEOUT_MS', 0) : undefined,
    },
  };
}

export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

export function jsonFromEnv<T>(env: NodeJS.ProcessEnv, name: string, fallback: T): T {
  const raw = env[name];
  return raw ? parseJson<T>(name, raw) : fallback;
}

/** JSON from a setting or a file, failing with the name of where it came from (never its content: it may be a key). */
export function parseJson<T>(name: string, value: string): T {
  try {
    return JSON.parse(value) as T;
  } catch {
    throw new Error(`${name} is not valid JSON`);
  }
}

/**
 * How to reach Stripe (billing's adapter builds the SDK from it). Tests point it at a local
 * fake; without it billing reads STRIPE_* from the environment.
 */
/**
 * Where insurance reaches each payer, by payer code (tests: local fakes). Endpoints and
 * credentials live here, never in the database or the API. Without it, insurance reads
 * INSURANCE_PAYERS (JSON of the same shape) from the environment.
 */
export interface InsuranceSettings {
  payers: Record<string, {
    /** What the payer speaks: FHIR R4, ASC X12 5010 over HTTP, or its own JSON API. */
    protocol: 'FHIR' | 'X12' | 'REST';
    baseUrl: string;
    /** Sent as the mapping's auth header (REST), or as a bearer token (FHIR, X12). */
    apiKey?: string;
    /** Shared with the payer: it signs the remittances it posts to us. */
    webhookSecret?: string;
    /** Per attempt. */
    timeoutMs?: number;
    /** The payer's own identifier for itself (X12 NM109 of the payer, FHIR insurer identifier). */
    payerId?: string;
    /** Currency the payer's amounts are in when the answer does not say (X12 never does). */
    currency?: string;
    /** REST payers: how their private API names things. */
    mapping?: {
      /** Path and query after the base URL; `{memberId}` and `{serviceType}` are filled in (encoded). */
      eligibilityPath: string;
      /** Where claims are POSTed (CareGraph's claim profile), when the payer takes claims by API. */
      claimsPath?: string;
      /** Where pre-authorization requests are POSTed, when the payer takes them by API. */
      preauthorizationPath?: string;
      /** Where a claim's status is read (`{claimId}` filled in), when the payer answers by API. */
      claimStatusPath?: string;
      /** Where appeals are POSTed (`{claimId}` filled in), when the payer takes them by API: answers `{"reference"}`. */
      appealPath?: string;
      /** The provider directory (`{location}` filled in): `{"providers": [{providerNumber, name, tier, location}]}`. */
      networkPath?: string;
      method?: 'GET' | 'POST';
      /** Header carrying the API key, e.g. `x-api-key`; `Authorization` gets `Bearer ` before the key. */
      authHeader?: string;
      /** POST body: their field name → ours (`memberId`, `serviceType`, `lastName`, `firstName`, `birthDate`). */
      requestFields?: Record<string, string>;
      /** Dot paths into their answer; amounts in major units (naira, dollars), as numbers or decimal strings. */
      response: {
        inForce: string;
        /** Values of `inForce` that mean covered (a boolean true always does). */
        inForceValues?: string[];
        planName?: string;
        copay?: string;
        coinsurancePercent?: string;
        deductibleRemaining?: string;
        currency?: string;
        /** A reason given when the member is not covered or not found. */
        rejection?: string;
      };
      /** Remittances the payer posts as JSON in its own shape; without it, CareGraph's JSON profile is expected. */
      remittance?: RemittanceMapping;
    };
  }>;
  /** Where payers drop 835 files, one folder per payer code (INSURANCE_REMITTANCE_DIR). */
  remittanceDropDir?: string;
  /** How long an eligibility answer is served from the cache (default 300 s). */
  eligibilityCacheSeconds?: number;
  /** Retry and circuit timing (tests shorten them). */
  resilience?: { attempts?: number; initialBackoffMs?: number; breakerThreshold?: number; breakerOpenMs?: number; defaultTimeoutMs?: number };
}

/**
 * Where an HMO's JSON remittance keeps each fact, as dot paths: the payment at the top, each
 * claim's facts relative to one element of the `claims` array.
 */
export interface RemittanceMapping {
  traceNumber: string;
  paymentDate: string;
  paymentAmount: string;
  /** The currency's path; the payer's configured currency when absent. */
  currency?: string;
  claims: string;
  claim: { claimId: string; status: string; charge: string; paid: string; patientResponsibility?: string; reference?: string; reasons?: string };
  /** Values of the claim's status that mean paid, and denied (anything else refuses the remittance). */
  paidValues: string[];
  deniedValues: string[];
  /** How dates are written (default YYYY-MM-DD). */
  dateFormat?: 'YYYY-MM-DD' | 'DD/MM/YYYY';
  /** Amounts in major units (naira, default) or in minor units (kobo). */
  amounts?: 'major' | 'minor';
}

/** Where lab interfaces connect (DEVICES_MLLP_*): off unless a port is given. */
export interface DevicesSettings {
  mllp?: {
    /** Loopback by default. */
    host?: string;
    /** 0 picks a free port (tests). */
    port: number;
    /** The organization whose lab connects here: its results are its patients'. */
    organizationId: string;
    maxFrameBytes?: number;
    idleTimeoutMs?: number;
    /** PEM key and certificate: the listener speaks TLS. */
    tls?: { key: string; cert: string };
  };
  /** Wearables (WEARABLES_*): off unless a provider is configured. */
  wearables?: WearableSettings;
}

export interface WearableSettings {
  /** The Google Health API (Fitbit, Pixel). */
  google?: GoogleHealthSettings;
  /** Device readings beyond these are critical (they reach the nurse queue); defaults in devices/wearables.ts. */
  thresholds?: { heartRateHigh?: number; heartRateLow?: number; oxygenSaturationLow?: number };
  /** How far back a new connection's first sync reaches (default 7 days). */
  backfillDays?: number;
  /** How often an active connection is synced without being notified (default 1 hour). */
  syncIntervalMs?: number;
  /** Backoff after a failure or a 429 without Retry-After: doubled per consecutive failure from the base, capped (defaults 60 s, 1 hour). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export interface GoogleHealthSettings {
  clientId: string;
  clientSecret: string;
  /** The app's page Google sends the patient back to; it calls completeWearableConnection. */
  redirectUri: string;
  /** The secret registered with the webhook subscriber (Google sends it as Authorization). */
  webhookSecret?: string;
  /** Google's by default; a local fake in tests. */
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  revocationEndpoint?: string;
  apiBaseUrl?: string;
  timeoutMs?: number;
}

/** A Twilio account as CareGraph uses it (video for telemedicine, messaging for identity). */
export interface TwilioAccount {
  accountSid: string;
  /** Verifies Twilio's callbacks (X-Twilio-Signature). */
  authToken: string;
  /** An API key: signs access tokens and authenticates REST calls. */
  apiKeySid: string;
  apiKeySecret: string;
  /** Twilio's by default; a local fake in tests (every domain: video, api). */
  apiBaseUrl?: string;
}

/** TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET (TWILIO_API_BASE_URL for another base); none without the account. */
export function twilioAccountFromEnv(env: NodeJS.ProcessEnv): TwilioAccount | undefined {
  const accountSid = env['TWILIO_ACCOUNT_SID'];
  if (!accountSid) return undefined;
  const [authToken, apiKeySid, apiKeySecret] = [env['TWILIO_AUTH_TOKEN'], env['TWILIO_API_KEY_SID'], env['TWILIO_API_KEY_SECRET']];
  if (!authToken || !apiKeySid || !apiKeySecret) throw new Error('TWILIO_ACCOUNT_SID needs TWILIO_AUTH_TOKEN, TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET');
  return { accountSid, authToken, apiKeySid, apiKeySecret, ...(env['TWILIO_API_BASE_URL'] ? { apiBaseUrl: env['TWILIO_API_BASE_URL'] } : {}) };
}

/** Telemedicine's video (TWILIO_*): rooms and tokens unavailable without it. */
export interface TelemedicineSettings {
  twilio?: TwilioAccount;
  /**
   * Telemedicine platforms a clinic also takes bookings on (WellaHealth, Reliance Telemedicine,
   * Mobihealth, Doctoora): their bookings are mirrored in, ours pushed out (TELE_PARTNERS, JSON).
   */
  partners?: Array<{
    code: string;
    baseUrl: string;
    apiKey: string;
    /** The organization whose clinicians they book. */
    organizationId: string;
    /** Their practitioner id → our clinician's user id. */
    clinicians: Record<string, string>;
    timeoutMs?: number;
  }>;
  /** Minutes before the start a participant may join (default 10), and after the end a token stays valid (default 15). */
  joinEarlyMinutes?: number;
  graceMinutes?: number;
}

/** Messages to patients (identity's notifications): Twilio Messaging for SMS and WhatsApp, SMTP for email. */
export interface MessagingSettings {
  twilio?: TwilioAccount & {
    /** The sender number for SMS (E.164), and for WhatsApp. */
    smsFrom?: string;
    whatsappFrom?: string;
  };
  /** `smtp://user:pass@host:port` (or smtps://), and the From address. */
  smtp?: { url: string; from: string };
  /** The patients' app, for links in messages (join a consultation); the public URL otherwise. */
  appUrl?: string;
  /** Attempts per message before it is reported failed (default 4), and the first retry's delay (default 60 s, doubling). */
  maxAttempts?: number;
  retryBaseMs?: number;
  /** Days after a completed consultation the follow-up recall goes (default 14). */
  followUpDays?: number;
}

export interface StripeSettings {
  secretKey?: string;
  webhookSecret?: string;
  /** A non-default API base (a local fake, a proxy): the SDK's host/port/protocol options. */
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
}
