import { jsonFromEnv, type DevicesSettings, type WearableSettings } from '../kit/config.js';
import type { SubgraphContext, SubgraphDeps } from '../kit/context.js';
import { startMllpListener } from './mllp.js';
import type { SubgraphListener } from '../kit/subgraph.js';

/**
 * Devices' services share this. By concern: hl7/ (the wire format, written once), results.ts
 * (HL7 results in, stored before acknowledged), mllp.ts (the lab's TCP port), observations.ts
 * (reading results, reconciliation, the FHIR view). Who may see what is policies.ts, applied
 * by `ctx.db`.
 */
export type Ctx = Pick<SubgraphContext, 'db' | 'prisma' | 'identity' | 'loaders' | 'log' | 'directory' | 'pubsub' | 'identifierKey' | 'devices' | 'sealer'>;

/**
 * The lab's MLLP port: DEVICES_MLLP_PORT (with DEVICES_MLLP_ORGANIZATION, DEVICES_MLLP_HOST,
 * DEVICES_MLLP_MAX_FRAME_BYTES, DEVICES_MLLP_IDLE_MS). Wearables: WEARABLES_GOOGLE_CLIENT_ID,
 * _CLIENT_SECRET, _REDIRECT_URI and _WEBHOOK_SECRET (the endpoints default to Google's;
 * WEARABLES_GOOGLE_AUTH_URL, _TOKEN_URL, _REVOKE_URL and _API_URL point elsewhere), and
 * WEARABLES_THRESHOLDS (JSON: heartRateHigh, heartRateLow, oxygenSaturationLow).
 */
export function devicesSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): DevicesSettings {
  return { ...mllpFromEnv(env), ...wearablesFromEnv(env) };
}

function wearablesFromEnv(env: NodeJS.ProcessEnv): DevicesSettings {
  const clientId = env['WEARABLES_GOOGLE_CLIENT_ID'];
  if (!clientId) return {};
  const clientSecret = env['WEARABLES_GOOGLE_CLIENT_SECRET'];
  const redirectUri = env['WEARABLES_GOOGLE_REDIRECT_URI'];
  if (!clientSecret || !redirectUri) throw new Error('WEARABLES_GOOGLE_CLIENT_ID needs WEARABLES_GOOGLE_CLIENT_SECRET and WEARABLES_GOOGLE_REDIRECT_URI');
  const optional = (name: string) => env[name] || undefined;
  return {
    wearables: {
      google: {
        clientId, clientSecret, redirectUri, webhookSecret: optional('WEARABLES_GOOGLE_WEBHOOK_SECRET'),
        authorizationEndpoint: optional('WEARABLES_GOOGLE_AUTH_URL'), tokenEndpoint: optional('WEARABLES_GOOGLE_TOKEN_URL'),
        revocationEndpoint: optional('WEARABLES_GOOGLE_REVOKE_URL'), apiBaseUrl: optional('WEARABLES_GOOGLE_API_URL'),
      },
      thresholds: jsonFromEnv<WearableSettings['thresholds']>(env, 'WEARABLES_THRESHOLDS', undefined),
    },
  };
}

function mllpFromEnv(env: NodeJS.ProcessEnv): DevicesSettings {
  const port = env['DEVICES_MLLP_PORT'];
  const organizationId = env['DEVICES_MLLP_ORGANIZATION'];
  if (!port) return {};
  if (!organizationId) throw new Error('DEVICES_MLLP_PORT needs DEVICES_MLLP_ORGANIZATION: the organization whose lab connects');
  const number = (name: string) => (env[name] ? Number(env[name]) : undefined);
  return {
    mllp: {
      port: Number(port), organizationId, host: env['DEVICES_MLLP_HOST'] || '127.0.0.1',
      ...(number('DEVICES_MLLP_MAX_FRAME_BYTES') ? { maxFrameBytes: number('DEVICES_MLLP_MAX_FRAME_BYTES') } : {}),
      ...(number('DEVICES_MLLP_IDLE_MS') ? { idleTimeoutMs: number('DEVICES_MLLP_IDLE_MS') } : {}),
    },
  };
}

/** The MLLP port, when configured (deps.devices, else the environment). */
export const mllpListener: SubgraphListener = {
  name: 'mllp',
  async start(deps: SubgraphDeps) {
    const settings = (deps.devices ?? devicesSettingsFromEnv()).mllp;
    if (!settings) return null;
    const listener = await startMllpListener(deps, settings);
    return { address: `${listener.host}:${listener.port}`, close: () => listener.close() };
  },
};
