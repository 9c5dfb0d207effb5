import type { DevicesSettings } from '../kit/config.js';
import type { SubgraphContext, SubgraphDeps } from '../kit/context.js';
import { startMllpListener } from './mllp.js';
import type { SubgraphListener } from '../kit/subgraph.js';

/**
 * Devices' services share this. By concern: hl7/ (the wire format, written once), results.ts
 * (HL7 results in, stored before acknowledged), mllp.ts (the lab's TCP port), observations.ts
 * (reading results, reconciliation, the FHIR view). Who may see what is policies.ts, applied
 * by `ctx.db`.
 */
export type Ctx = Pick<SubgraphContext, 'db' | 'prisma' | 'identity' | 'loaders' | 'log' | 'directory' | 'pubsub' | 'identifierKey'>;

/** DEVICES_MLLP_PORT (with DEVICES_MLLP_ORGANIZATION, DEVICES_MLLP_HOST, DEVICES_MLLP_MAX_FRAME_BYTES, DEVICES_MLLP_IDLE_MS). */
export function devicesSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): DevicesSettings {
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
