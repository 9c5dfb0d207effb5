import { createHash, randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import type { Prisma, WearableConnection, WearableProvider } from '../../prisma/generated/client/client.js';
import type { WearableSettings } from '../kit/config.js';
import type { SubgraphDeps } from '../kit/context.js';
import { loadVisible } from '../kit/access.js';
import { badUserInput, conflict, domainError, forbidden } from '../kit/errors.js';
import { errorResponse } from '../kit/http.js';
import { requireSignedIn, Role } from '../kit/identity.js';
import type { TransactionClient } from '../kit/outbox.js';
import { doublingDelayMs } from '../kit/poller.js';
import type { Sealer } from '../kit/sealing.js';
import type { SubgraphRoute, SubgraphWorker } from '../kit/subgraph.js';
import { GoogleHealthAdapter } from './adapters/google-health.js';
import { WEARABLE_DATA_TYPES, WearableProviderError, type WearableDataType, type WearableProviderAdapter, type WearableReading, type WearableTokens, type WebhookMessage } from './adapters/wearables.js';
import { devicesSettingsFromEnv, type Ctx } from './service.js';
import { announce, announcedOf, insertObservations, type ObservationRow } from './store.js';

/**
 * Wearables: a patient connects their account at a vendor (Google Health for Fitbit and Pixel)
 * and its heart rate, steps, sleep and SpO2 become observations.
 *
 * - **Consent**: authorization code with PKCE; the state is single-use, expires, and is bound to
 *   the user who started it (only its hash is stored). Tokens are sealed (kit/sealing.ts).
 * - **Sync** (`wearableSync` worker, or `syncWearable` at once): per data type a cursor
 *   (`since`, the page being read) kept in the same transaction as the page's observations, so a
 *   sync that fails resumes where it stopped and a point synced twice is stored once (its source
 *   key). The access token is refreshed before it expires and on a 401. A 429 holds the
 *   connection for Retry-After or a doubling backoff, cursor kept: nothing is dropped.
 * - **Webhooks** say which periods changed: UPSERT queues a durable sync request for each,
 *   DELETE marks the readings of the period entered-in-error.
 * - **Disconnect** revokes at the vendor and erases the tokens; a revocation the vendor did not
 *   take is retried by the worker until it does.
 * - Readings past the configured thresholds are critical: they reach the nurse queue.
 */

/** What the sync and the worker use (a request's context has it too). */
type WearableDeps = Pick<SubgraphDeps, 'prisma' | 'log' | 'devices' | 'sealer'>;

const PENDING_CONSENT_MS = 10 * 60_000;
/** Refresh when the access token has less than this left. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** How long a worker owns a connection it syncs (a crash frees it after this). */
const LEASE_MS = 5 * 60_000;
const MAX_PAGES_PER_SYNC = 200;

export const DEFAULT_THRESHOLDS = { heartRateHigh: 150, heartRateLow: 40, oxygenSaturationLow: 90 };

const LOINC = 'http://loinc.org';
/** How each data type is written as an observation: LOINC code, display and UCUM unit. */
const CODING: Record<WearableDataType, { code: string; display: string; unit: string }> = {
  HEART_RATE: { code: '8867-4', display: 'Heart rate', unit: '/min' },
  STEPS: { code: '55423-8', display: 'Number of steps', unit: '{steps}' },
  SLEEP: { code: '93832-4', display: 'Sleep duration', unit: 'min' },
  OXYGEN_SATURATION: { code: '59408-5', display: 'Oxygen saturation by pulse oximetry', unit: '%' },
};

interface Cursor {
  /** ISO instant: readings at or after it are (re)read. */
  since: string;
  /** The next page of the pass under way (the provider's token), null between passes. */
  pageToken: string | null;
  /** The newest reading seen in the pass under way: the next pass starts there. */
  newest: string | null;
}
type Cursors = Partial<Record<WearableDataType, Cursor>>;

// ---------------------------------------------------------------- configuration

function settingsOf(deps: Pick<SubgraphDeps, 'devices'>): WearableSettings {
  return (deps.devices ?? devicesSettingsFromEnv()).wearables ?? {};
}

const adapters = new WeakMap<object, WearableProviderAdapter>();
/** The configured provider's adapter; null when it is not configured. */
function adapterOf(deps: Pick<SubgraphDeps, 'devices'>, provider: WearableProvider): WearableProviderAdapter | null {
  const settings = settingsOf(deps);
  if (provider !== 'GOOGLE_HEALTH' || !settings.google) return null;
  let adapter = adapters.get(settings.google);
  if (!adapter) adapters.set(settings.google, (adapter = new GoogleHealthAdapter(settings.google)));
  return adapter;
}

function requireAdapter(deps: Pick<SubgraphDeps, 'devices'>, provider: WearableProvider): WearableProviderAdapter {
  const adapter = adapterOf(deps, provider);
  if (!adapter) throw domainError('SERVICE_UNAVAILABLE', `${provider} is not configured on this platform`, { provider });
  return adapter;
}

function requireSealer(deps: Pick<SubgraphDeps, 'sealer'>): Sealer {
  if (!deps.sealer) throw new Error('wearables need the platform’s sealer (kit/sealing.ts)');
  return deps.sealer;
}

/** Where a sealed value lives: it opens only there. */
const place = (connectionId: string, field: 'verifier' | 'access' | 'refresh'): string => `devices.WearableConnection:${connectionId}:${field}`;
const hashOf = (state: string): string => createHash('sha256').update(state).digest('hex');

// ---------------------------------------------------------------- consent

/** A patient starts connecting: a pending connection, and where to send them to consent. */
export async function connectWearable(ctx: Ctx, patientId: string, provider: WearableProvider): Promise<{ connection: WearableConnection; authorizationUrl: string }> {
  const caller = requireSignedIn(ctx.identity);
  if (caller.role !== Role.PATIENT || caller.patientId !== patientId || !caller.organizationId) throw forbidden('Patients connect their own wearables');
  const adapter = requireAdapter(ctx, provider);
  const sealer = requireSealer(ctx);
  const existing = await ctx.db.wearableConnection.findUnique({ where: { patientId_provider: { patientId, provider } } });
  if (existing?.status === 'ACTIVE') throw conflict('This wearable is already connected; disconnect it first');
  if (existing?.status === 'DISCONNECTED' && existing.sealedRefreshToken) throw conflict('The last disconnection is still being revoked at the provider; try again shortly');
  const id = existing?.id ?? randomUUID();
  const state = oauth.generateRandomState();
  const verifier = oauth.generateRandomCodeVerifier();
  const pending = {
    status: 'PENDING' as const, userId: caller.subject, organizationId: caller.organizationId,
    stateHash: hashOf(state), stateExpiresAt: new Date(Date.now() + PENDING_CONSENT_MS),
    sealedVerifier: sealer.seal(verifier, place(id, 'verifier')), sealingKeyId: sealer.currentKeyId,
    sealedAccessToken: null, sealedRefreshToken: null, accessExpiresAt: null, heldUntil: null, nextSyncAt: null,
  };
  const connection = existing
    ? await ctx.db.wearableConnection.update({ where: { id }, data: pending })
    : await ctx.db.wearableConnection.create({ data: { id, patientId, provider, ...pending } });
  const authorizationUrl = adapter.authorizationUrl({ state, codeChallenge: await oauth.calculatePKCECodeChallenge(verifier), types: WEARABLE_DATA_TYPES });
  return { connection, authorizationUrl };
}

/**
 * The patient is back from the provider (`code` and `state`, or `error`): the state must be a
 * pending one of theirs, unexpired; the code is exchanged with the PKCE verifier; the account
 * must not be another patient's connection. Then the connection is ACTIVE and syncs at once.
 */
export async function completeWearableConnection(ctx: Ctx, input: { state: string; code: string | null; error: string | null }): Promise<WearableConnection> {
  const caller = requireSignedIn(ctx.identity);
  const sealer = requireSealer(ctx);
  const stateHash = hashOf(input.state);
  // Found by the state's hash, then checked to be the caller's: whose it is never shows.
  const row = await ctx.prisma.wearableConnection.findUnique({ where: { stateHash } });
  if (!row || row.status !== 'PENDING' || row.userId !== caller.subject || !row.stateExpiresAt || row.stateExpiresAt < new Date() || !row.sealedVerifier) {
    throw badUserInput('state', 'No consent of yours is pending with this state (expired, already used, or not yours): connect again');
  }
  const adapter = requireAdapter(ctx, row.provider);
  // Single use: whatever happens next, this state is spent.
  const spent = await ctx.db.wearableConnection.updateMany({ where: { id: row.id, stateHash, status: 'PENDING' }, data: { stateHash: null, stateExpiresAt: null } });
  if (spent.count === 0) throw badUserInput('state', 'This consent was completed meanwhile');
  const callback = new URLSearchParams({ state: input.state, ...(input.code ? { code: input.code } : {}), ...(input.error ? { error: input.error } : {}) });
  let tokens: WearableTokens;
  let accountId: string;
  try {
    tokens = await adapter.exchangeCode({ callback, expectedState: input.state, codeVerifier: sealer.open(row.sealedVerifier, place(row.id, 'verifier')) });
    if (!tokens.refreshToken) {
      await adapter.revoke(tokens.accessToken).catch(() => undefined);
      throw new WearableProviderError('CONSENT', 'the provider gave no refresh token (offline access was not granted)');
    }
    if (adapter.grantedTypes(tokens.scopes).length === 0) {
      await adapter.revoke(tokens.refreshToken).catch(() => undefined);
      throw new WearableProviderError('CONSENT', 'no data type was granted: allow at least one (heart rate, steps, sleep, SpO2)');
    }
    accountId = await adapter.accountId(tokens.accessToken);
  } catch (error) {
    throw consentError(error);
  }
  const other = await ctx.prisma.wearableConnection.findFirst({ where: { provider: row.provider, providerUserId: accountId, status: 'ACTIVE', id: { not: row.id } }, select: { id: true } });
  if (other) {
    await adapter.revoke(tokens.refreshToken ?? tokens.accessToken).catch(() => undefined);
    throw conflict('This account is connected to another patient: its readings cannot be someone else’s too');
  }
  return ctx.db.wearableConnection.update({
    where: { id: row.id },
    data: {
      status: 'ACTIVE', sealedVerifier: null, ...sealedTokens(sealer, row.id, tokens), scopes: tokens.scopes, providerUserId: accountId,
      // The same account again resumes where it stopped; another starts afresh.
      ...(row.providerUserId === accountId ? {} : { cursors: {} }),
      nextSyncAt: new Date(), heldUntil: null, failures: 0, lastError: null, connectedAt: new Date(), disconnectedAt: null,
    },
  });
}

function consentError(error: unknown): Error {
  if (!(error instanceof WearableProviderError)) return error instanceof Error ? error : new Error(String(error));
  if (error.problem === 'CONSENT' || error.problem === 'MALFORMED') return badUserInput('code', `The provider did not grant access: ${error.message}`);
  return domainError('SERVICE_UNAVAILABLE', 'The provider could not be reached to finish connecting; connect again');
}

function sealedTokens(sealer: Sealer, id: string, tokens: WearableTokens): Prisma.WearableConnectionUpdateInput {
  return {
    sealedAccessToken: sealer.seal(tokens.accessToken, place(id, 'access')),
    ...(tokens.refreshToken ? { sealedRefreshToken: sealer.seal(tokens.refreshToken, place(id, 'refresh')) } : {}),
    sealingKeyId: sealer.currentKeyId, accessExpiresAt: tokens.expiresAt,
  };
}

// ---------------------------------------------------------------- reading and disconnecting

async function ownConnection(ctx: Ctx, id: string): Promise<WearableConnection> {
  const caller = requireSignedIn(ctx.identity);
  const row = await loadConnection(ctx, id);
  if (caller.role !== Role.PATIENT || caller.patientId !== row.patientId) throw forbidden('Patients manage their own wearables');
  return row;
}

/** FORBIDDEN when it exists out of the caller's sight, NOT_FOUND when it does not exist. */
export function loadConnection(ctx: Ctx, id: string): Promise<WearableConnection> {
  requireSignedIn(ctx.identity);
  return loadVisible<WearableConnection>(ctx, 'WearableConnection', id);
}

export function connectionsOfPatient(ctx: Ctx, patientId: string): Promise<WearableConnection[]> {
  return ctx.db.wearableConnection.findMany({ where: { patientId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

export function dataTypesOf(deps: Pick<SubgraphDeps, 'devices'>, connection: WearableConnection): WearableDataType[] {
  return connection.status === 'ACTIVE' ? (adapterOf(deps, connection.provider)?.grantedTypes(connection.scopes) ?? []) : [];
}

/**
 * Stops syncing at once and erases the access token; the refresh token is revoked at the
 * provider (which ends the grant) and then erased, once: the request holds the connection's
 * lease while it revokes. If the provider does not take the revocation now, the worker retries
 * until it does. Readings already synced stay: they are
 * the patient's record.
 */
export async function disconnectWearable(ctx: Ctx, id: string): Promise<WearableConnection> {
  const row = await ownConnection(ctx, id);
  if (row.status === 'DISCONNECTED') return row;
  await ctx.db.wearableConnection.update({
    where: { id },
    data: {
      status: 'DISCONNECTED', disconnectedAt: new Date(), stateHash: null, stateExpiresAt: null, sealedVerifier: null, sealedAccessToken: null, accessExpiresAt: null,
      // Held by this request while it revokes (the worker would otherwise revoke the same token at once); free when there is nothing to revoke.
      nextSyncAt: null, heldUntil: row.sealedRefreshToken ? new Date(Date.now() + LEASE_MS) : null, failures: 0, lastError: null, ...(row.sealedRefreshToken ? {} : { sealingKeyId: null }),
    },
  });
  await ctx.prisma.wearableSyncRequest.deleteMany({ where: { connectionId: id } });
  if (row.sealedRefreshToken) await revokeDisconnected(ctx, id);
  return ctx.db.wearableConnection.findFirstOrThrow({ where: { id } });
}

/** Revokes a disconnected connection's refresh token and erases it; on failure holds it for a retry. */
async function revokeDisconnected(deps: WearableDeps, id: string): Promise<boolean> {
  const row = await deps.prisma.wearableConnection.findUnique({ where: { id } });
  if (!row || row.status !== 'DISCONNECTED' || !row.sealedRefreshToken) return false;
  try {
    await requireAdapter(deps, row.provider).revoke(requireSealer(deps).open(row.sealedRefreshToken, place(id, 'refresh')));
  } catch (error) {
    await holdAfterFailure(deps, row, error);
    return false;
  }
  await deps.prisma.wearableConnection.update({ where: { id }, data: { sealedRefreshToken: null, sealingKeyId: null, heldUntil: null, failures: 0, lastError: null } });
  return true;
}

// ---------------------------------------------------------------- sync

/** Sync now, for the patient (at most what the provider allows: a connection held by a backoff waits). */
export async function syncWearable(ctx: Ctx, id: string): Promise<WearableConnection> {
  const row = await ownConnection(ctx, id);
  if (row.status !== 'ACTIVE') throw conflict(row.status === 'REAUTHORIZE' ? 'The provider no longer honours this connection: connect again' : 'This wearable is not connected');
  await ctx.prisma.wearableConnection.update({ where: { id }, data: { nextSyncAt: new Date() } });
  if (await claim(ctx, row.id)) await syncClaimed(ctx, row.id);
  else await untilRunningSyncEnds(ctx, id);
  return ctx.db.wearableConnection.findFirstOrThrow({ where: { id } });
}

/**
 * A sync already running (the worker's lease, no failure recorded) is what the patient asked
 * for: wait for it to end (at most 15 s) rather than answer before it has. A connection held
 * back after a failure answers at once, with its retry time.
 */
async function untilRunningSyncEnds(deps: Pick<SubgraphDeps, 'prisma'>, id: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const current = await deps.prisma.wearableConnection.findUnique({ where: { id }, select: { heldUntil: true, failures: true } });
    if (!current?.heldUntil || current.heldUntil <= new Date() || current.failures > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function claim(deps: Pick<SubgraphDeps, 'prisma'>, id: string): Promise<boolean> {
  const now = new Date();
  const claimed = await deps.prisma.wearableConnection.updateMany({ where: { id, OR: [{ heldUntil: null }, { heldUntil: { lte: now } }] }, data: { heldUntil: new Date(now.getTime() + LEASE_MS) } });
  return claimed.count === 1;
}

/** The connection went away while it was being synced (disconnected): stop without writing. */
class ConnectionGone extends Error {}

/** Syncs a connection this process has claimed: the regular pass of each granted type, then the periods webhooks asked for. */
async function syncClaimed(deps: WearableDeps, id: string): Promise<number> {
  const row = await deps.prisma.wearableConnection.findUnique({ where: { id } });
  if (!row || row.status !== 'ACTIVE' || !row.sealedAccessToken || !row.sealedRefreshToken || !row.providerUserId) return 0;
  const settings = settingsOf(deps);
  const adapter = requireAdapter(deps, row.provider);
  const sealer = requireSealer(deps);
  const session = new TokenSession(deps, sealer, adapter, row);
  let stored = 0;
  try {
    const cursors = (row.cursors ?? {}) as Cursors;
    const backfillFrom = new Date(Date.now() - (settings.backfillDays ?? 7) * 86_400_000).toISOString();
    for (const type of adapter.grantedTypes(row.scopes)) {
      let cursor: Cursor = cursors[type] ?? { since: backfillFrom, pageToken: null, newest: null };
      for (let page = 0; page < MAX_PAGES_PER_SYNC; page += 1) {
        const read = await readPage(session, type, cursor);
        const newest = [cursor.newest, ...read.readings.map((reading) => reading.start.toISOString())].filter((value): value is string => value !== null).sort().at(-1) ?? null;
        const next: Cursor = read.nextPageToken ? { since: cursor.since, pageToken: read.nextPageToken, newest } : { since: newest ?? cursor.since, pageToken: null, newest: null };
        stored += await storeReadings(deps, row, read.readings, { type, cursor: next });
        cursor = next;
        if (!read.nextPageToken) break;
      }
    }
    for (const request of await deps.prisma.wearableSyncRequest.findMany({ where: { connectionId: id }, orderBy: { createdAt: 'asc' }, take: 50 })) {
      const type = request.dataType as WearableDataType;
      let pageToken: string | null = null;
      for (let page = 0; page < MAX_PAGES_PER_SYNC; page += 1) {
        const read = await session.call((token) => adapter.readings(token, type, { since: request.start, until: request.end, pageToken }));
        stored += await storeReadings(deps, row, read.readings, { type, request: read.nextPageToken ? null : request.id });
        pageToken = read.nextPageToken;
        if (!pageToken) break;
      }
    }
    const remaining = await deps.prisma.wearableSyncRequest.count({ where: { connectionId: id } });
    await deps.prisma.wearableConnection.updateMany({
      where: { id, status: 'ACTIVE' },
      data: { lastSyncAt: new Date(), nextSyncAt: new Date(Date.now() + (remaining > 0 ? 0 : (settings.syncIntervalMs ?? 3_600_000))), heldUntil: null, failures: 0, lastError: null },
    });
  } catch (error) {
    if (error instanceof ConnectionGone) return stored;
    if (error instanceof WearableProviderError && error.problem === 'REVOKED') {
      // The patient revoked access at the provider, or the grant lapsed: they must connect again.
      await deps.prisma.wearableConnection.updateMany({ where: { id, status: 'ACTIVE' }, data: { status: 'REAUTHORIZE', sealedAccessToken: null, sealedRefreshToken: null, sealingKeyId: null, accessExpiresAt: null, heldUntil: null, nextSyncAt: null, lastError: 'The provider no longer honours the connection: connect again' } });
      return stored;
    }
    await holdAfterFailure(deps, row, error);
  }
  return stored;
}

/** A page of the regular pass; a page token the provider no longer takes restarts the pass from `since`. */
async function readPage(session: TokenSession, type: WearableDataType, cursor: Cursor) {
  const read = (pageToken: string | null) => session.call((token) => session.adapter.readings(token, type, { since: new Date(cursor.since), pageToken }));
  try {
    return await read(cursor.pageToken);
  } catch (error) {
    if (!(error instanceof WearableProviderError) || error.problem !== 'MALFORMED' || !cursor.pageToken) throw error;
    cursor.pageToken = null;
    cursor.newest = null;
    return read(null);
  }
}

/** Backoff after a failure: Retry-After when the provider gave it, else doubling from the base; the cursor stays. */
async function holdAfterFailure(deps: WearableDeps, row: WearableConnection, error: unknown): Promise<void> {
  const settings = settingsOf(deps);
  const failures = row.failures + 1;
  const base = settings.retryBaseMs ?? 60_000;
  const backoff = doublingDelayMs(base, failures, Math.min(settings.retryMaxMs ?? 3_600_000, base * 2 ** 16));
  const wait = error instanceof WearableProviderError && error.retryAfterMs !== null ? error.retryAfterMs : backoff;
  const problem = error instanceof WearableProviderError ? `${error.problem}: ${error.message}` : 'internal error';
  await deps.prisma.wearableConnection.update({ where: { id: row.id }, data: { failures, lastError: problem.slice(0, 200), heldUntil: new Date(Date.now() + wait) } });
  deps.log.warn({ connectionId: row.id, provider: row.provider, failures, problem: problem.slice(0, 200), retryInMs: wait }, 'wearable sync held back; will retry');
}

/**
 * The connection's tokens while it syncs: refreshed before the access token expires and once
 * on a 401, each refresh sealed and stored at once (a refresh token may rotate).
 */
class TokenSession {
  private accessToken: string;
  private refreshToken: string;
  private expiresAt: Date | null;
  private refreshed = false;

  constructor(private readonly deps: WearableDeps, private readonly sealer: Sealer, readonly adapter: WearableProviderAdapter, private readonly row: WearableConnection) {
    this.accessToken = sealer.open(row.sealedAccessToken as string, place(row.id, 'access'));
    this.refreshToken = sealer.open(row.sealedRefreshToken as string, place(row.id, 'refresh'));
    this.expiresAt = row.accessExpiresAt;
  }

  async call<T>(request: (accessToken: string) => Promise<T>): Promise<T> {
    // Before the first call, a token close to expiry is refreshed; after that, only one that has
    // expired (a provider issuing tokens shorter than the margin must not be asked at every call).
    const margin = this.refreshed ? 0 : REFRESH_MARGIN_MS;
    if (!this.expiresAt || this.expiresAt.getTime() - Date.now() < margin) await this.refresh();
    try {
      return await request(this.accessToken);
    } catch (error) {
      if (!(error instanceof WearableProviderError) || error.problem !== 'UNAUTHORIZED') throw error;
      await this.refresh();
      return request(this.accessToken);
    }
  }

  private async refresh(): Promise<void> {
    const tokens = await this.adapter.refresh(this.refreshToken);
    const saved = await this.deps.prisma.wearableConnection.updateMany({
      where: { id: this.row.id, status: 'ACTIVE' },
      data: { ...(sealedTokens(this.sealer, this.row.id, tokens) as Prisma.WearableConnectionUpdateManyMutationInput), ...(tokens.scopes.length ? { scopes: tokens.scopes } : {}) },
    });
    if (saved.count === 0) {
      // Disconnected meanwhile: the new grant is not kept.
      await this.adapter.revoke(tokens.refreshToken ?? tokens.accessToken).catch(() => undefined);
      throw new ConnectionGone();
    }
    this.accessToken = tokens.accessToken;
    this.refreshToken = tokens.refreshToken ?? this.refreshToken;
    this.expiresAt = tokens.expiresAt;
    this.refreshed = true;
  }
}

/** Readings as observations of the connection's patient; the type's cursor (or the finished request) in the same transaction. */
async function storeReadings(deps: WearableDeps, row: WearableConnection, readings: readonly WearableReading[], progress: { type: WearableDataType; cursor?: Cursor; request?: string | null }): Promise<number> {
  const thresholds = { ...DEFAULT_THRESHOLDS, ...settingsOf(deps).thresholds };
  const rows = readings.map((reading) => observationRow(row, reading, thresholds));
  return deps.prisma.$transaction(async (tx) => {
    // Still ACTIVE (not disconnected meanwhile), and the cursor moved with the page.
    const still = progress.cursor
      ? await tx.$executeRaw`UPDATE "devices"."WearableConnection" SET "cursors" = jsonb_set("cursors", ARRAY[${progress.type}], ${JSON.stringify(progress.cursor)}::jsonb), "updatedAt" = now() WHERE "id" = ${row.id} AND "status" = 'ACTIVE'`
      : await tx.wearableConnection.count({ where: { id: row.id, status: 'ACTIVE' } });
    if (still === 0) throw new ConnectionGone();
    if (progress.request) await tx.wearableSyncRequest.deleteMany({ where: { id: progress.request } });
    const inserted = await insertObservations(tx, rows);
    await announce(tx, row.patientId, rows.filter((observation) => inserted.has(observation.id)).map(announcedOf));
    return inserted.size;
  });
}

function observationRow(connection: WearableConnection, reading: WearableReading, thresholds: typeof DEFAULT_THRESHOLDS): ObservationRow {
  const coding = CODING[reading.type];
  const flag = flagOf(reading, thresholds);
  return {
    id: randomUUID(), organizationId: connection.organizationId, patientId: connection.patientId, source: 'DEVICE', messageId: null, connectionId: connection.id,
    sourceKey: `wearable:${connection.provider}:${connection.providerUserId}:${reading.key}`.slice(0, 500),
    code: coding.code, codeSystem: LOINC, display: coding.display, valueType: 'NM', valueText: String(reading.value), valueNumber: String(reading.value), comparator: null,
    unit: coding.unit, unitSystem: 'UCUM', referenceRange: rangeOf(reading.type, thresholds), interpretation: flag ? [flag] : [], status: 'FINAL',
    effectiveAt: reading.start, effectiveEndAt: reading.end, placerOrderId: null, fillerOrderId: null, orderCode: null,
    sourcePatientId: connection.providerUserId ?? '', sourcePatientName: '', critical: flag !== null, notes: [],
  };
}

/** Past a configured threshold: HH or LL, which make the reading critical. */
function flagOf(reading: WearableReading, thresholds: typeof DEFAULT_THRESHOLDS): 'HH' | 'LL' | null {
  if (reading.type === 'HEART_RATE') return reading.value > thresholds.heartRateHigh ? 'HH' : reading.value < thresholds.heartRateLow ? 'LL' : null;
  if (reading.type === 'OXYGEN_SATURATION') return reading.value < thresholds.oxygenSaturationLow ? 'LL' : null;
  return null;
}

function rangeOf(type: WearableDataType, thresholds: typeof DEFAULT_THRESHOLDS): string | null {
  if (type === 'HEART_RATE') return `${thresholds.heartRateLow}-${thresholds.heartRateHigh}`;
  if (type === 'OXYGEN_SATURATION') return `>=${thresholds.oxygenSaturationLow}`;
  return null;
}

// ---------------------------------------------------------------- webhooks

/**
 * What a provider's notifications change, in one transaction (all or nothing): UPSERT queues a
 * sync request per period for the worker, DELETE marks that period's readings entered-in-error.
 * Accounts CareGraph does not hold (or no longer syncs) are acknowledged and ignored.
 */
export async function applyNotifications(deps: WearableDeps, provider: WearableProvider, notifications: ReadonlyArray<{ providerUserId: string; type: WearableDataType; operation: 'UPSERT' | 'DELETE'; intervals: ReadonlyArray<{ start: Date; end: Date }> }>): Promise<{ applied: number; ignored: number }> {
  const accounts = [...new Set(notifications.map((notification) => notification.providerUserId))];
  const connections = await deps.prisma.wearableConnection.findMany({ where: { provider, providerUserId: { in: accounts }, status: 'ACTIVE' } });
  const byAccount = new Map(connections.map((connection) => [connection.providerUserId, connection]));
  let applied = 0;
  let ignored = 0;
  await deps.prisma.$transaction(async (tx: TransactionClient) => {
    for (const notification of notifications) {
      const connection = byAccount.get(notification.providerUserId);
      if (!connection || !adapterOf(deps, provider)?.grantedTypes(connection.scopes).includes(notification.type)) {
        ignored += 1;
        continue;
      }
      if (notification.operation === 'UPSERT') {
        await tx.wearableSyncRequest.createMany({ data: notification.intervals.map((interval) => ({ connectionId: connection.id, dataType: notification.type, start: interval.start, end: interval.end })) });
      } else {
        for (const interval of notification.intervals) {
          await tx.observation.updateMany({ where: { connectionId: connection.id, code: CODING[notification.type].code, effectiveAt: { gte: interval.start, lte: interval.end } }, data: { status: 'ENTERED_IN_ERROR' } });
        }
      }
      applied += 1;
    }
  });
  return { applied, ignored };
}

// ---------------------------------------------------------------- the worker

/**
 * Syncs connections that are due (their interval passed, or a webhook asked), retries
 * revocations the provider did not take, and seals again what an older key sealed. Each
 * connection is claimed first (a lease), so instances never sync the same one twice at once.
 */
export async function wearableStep(deps: WearableDeps): Promise<number> {
  const settings = settingsOf(deps);
  if (!settings.google) return 0;
  const now = new Date();
  const free = { OR: [{ heldUntil: null }, { heldUntil: { lte: now } }] };
  const due = await deps.prisma.wearableConnection.findMany({
    where: {
      AND: [free, { OR: [{ status: 'ACTIVE', OR: [{ nextSyncAt: { lte: now } }, { syncRequests: { some: {} } }] }, { status: 'DISCONNECTED', sealedRefreshToken: { not: null } }] }],
    },
    orderBy: { nextSyncAt: 'asc' }, take: 10, select: { id: true, status: true },
  });
  let done = 0;
  for (const connection of due) {
    if (!(await claim(deps, connection.id))) continue;
    if (connection.status === 'DISCONNECTED') done += (await revokeDisconnected(deps, connection.id)) ? 1 : 0;
    else {
      await syncClaimed(deps, connection.id);
      done += 1;
    }
  }
  return done + (await resealStale(deps));
}

/** Rotation: values sealed with an older key, sealed again with the newest (a batch at a time). */
export async function resealStale(deps: WearableDeps): Promise<number> {
  const sealer = requireSealer(deps);
  const stale = await deps.prisma.wearableConnection.findMany({ where: { sealingKeyId: { not: sealer.currentKeyId } }, take: 50 });
  let resealed = 0;
  for (const row of stale) {
    try {
      resealed += await resealOne(deps, sealer, row);
    } catch (error) {
      // A key removed before its values were sealed again: they stay unreadable until it is configured again.
      deps.log.error({ connectionId: row.id, sealingKeyId: row.sealingKeyId, err: error }, 'wearable secrets could not be sealed again');
    }
  }
  return resealed;
}

async function resealOne(deps: WearableDeps, sealer: Sealer, row: WearableConnection): Promise<number> {
  const again = (value: string | null, field: 'verifier' | 'access' | 'refresh') => (value ? sealer.seal(sealer.open(value, place(row.id, field)), place(row.id, field)) : null);
  const changed = await deps.prisma.wearableConnection.updateMany({
    // Unchanged meanwhile (a refresh may have sealed new tokens).
    where: { id: row.id, sealingKeyId: row.sealingKeyId, sealedAccessToken: row.sealedAccessToken, sealedRefreshToken: row.sealedRefreshToken, sealedVerifier: row.sealedVerifier },
    data: { sealedVerifier: again(row.sealedVerifier, 'verifier'), sealedAccessToken: again(row.sealedAccessToken, 'access'), sealedRefreshToken: again(row.sealedRefreshToken, 'refresh'), sealingKeyId: sealer.currentKeyId },
  });
  return changed.count;
}

export const wearableSync: SubgraphWorker = { name: 'wearable-sync', intervalMs: 1_000, step: wearableStep };

/**
 * `POST /webhooks/wearables/google-health` (public): Google Health's notifications. Google sends
 * the subscriber's secret as `Authorization`, and checks the endpoint when the subscriber is
 * registered: `{"type":"verification"}` with the secret must get 201, without it 401. Anything
 * without the secret: 401, nothing applied. A body that is not Google's notification shape:
 * 400, nothing applied. Otherwise 200 with how many were applied and ignored.
 */
export const googleHealthWebhookRoute: SubgraphRoute = {
  method: 'POST',
  path: '/webhooks/wearables/google-health',
  public: true,
  vendorAuthorization: true,
  async handle(request, deps) {
    const adapter = adapterOf(deps, 'GOOGLE_HEALTH');
    if (!adapter) return errorResponse('NOT_FOUND', 'Google Health is not configured on this platform');
    if (!adapter.verifyWebhook(request.headers)) return errorResponse('UNAUTHENTICATED', 'The notification does not carry the subscriber’s secret');
    let message: WebhookMessage;
    try {
      message = adapter.readWebhook(JSON.parse(request.body.toString('utf8')) as unknown);
    } catch (error) {
      return errorResponse('BAD_REQUEST', error instanceof WearableProviderError ? error.message : 'The notification is not JSON');
    }
    if (message.kind === 'verification') return { status: 201, body: { verified: true } };
    const result = await applyNotifications(deps, 'GOOGLE_HEALTH', message.notifications);
    return { status: 200, body: { applied: result.applied, ignored: result.ignored + message.ignored } };
  },
};
