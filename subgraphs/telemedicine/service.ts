import { jsonFromEnv, twilioAccountFromEnv, type TelemedicineSettings } from '../kit/config.js';
import type { SubgraphContext, SubgraphDeps } from '../kit/context.js';
import { domainError } from '../kit/errors.js';
import { TwilioVideo, type MeetingProvider } from './adapters/video.js';

/**
 * Telemedicine's services share this. By concern: availability.ts (clinicians' weekly hours and
 * free slots, in their time zone), triage.ts (urgency before booking), consultations.ts
 * (booking, extending, cancelling, the fee), video.ts (joining the room, the room's callbacks).
 * Who may see what is policies.ts, applied by `ctx.db`.
 */
export type Ctx = Pick<SubgraphContext, 'db' | 'prisma' | 'identity' | 'loaders' | 'log' | 'directory' | 'telemedicine' | 'publicUrl' | 'documents' | 'llm'>;

/** TWILIO_* (kit/config.ts twilioAccountFromEnv), TELE_PARTNERS (JSON list of partner platforms). */
export function telemedicineSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TelemedicineSettings {
  const twilio = twilioAccountFromEnv(env);
  const partners = jsonFromEnv<TelemedicineSettings['partners']>(env, 'TELE_PARTNERS', undefined);
  return { ...(twilio ? { twilio } : {}), ...(partners ? { partners } : {}) };
}

export function settingsOf(deps: Pick<SubgraphDeps, 'telemedicine'>): TelemedicineSettings {
  return deps.telemedicine ?? telemedicineSettingsFromEnv();
}

const providers = new WeakMap<object, MeetingProvider>();
/** The meeting provider; SERVICE_UNAVAILABLE when video is not configured. */
export function meetingProvider(deps: Pick<SubgraphDeps, 'telemedicine'>): MeetingProvider {
  const twilio = settingsOf(deps).twilio;
  if (!twilio) throw domainError('SERVICE_UNAVAILABLE', 'Video consultations are not configured on this platform');
  let provider = providers.get(twilio);
  if (!provider) providers.set(twilio, (provider = new TwilioVideo(twilio)));
  return provider;
}
