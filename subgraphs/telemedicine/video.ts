import type { Consultation } from '../../prisma/generated/client/client.js';
import { publicBaseUrl, type SubgraphDeps } from '../kit/context.js';
import { conflict, domainError, forbidden } from '../kit/errors.js';
import { TelemedicineEvents } from '../kit/events/telemedicine.js';
import { errorResponse } from '../kit/http.js';
import { requireSignedIn, Role } from '../kit/identity.js';
import { recordEvent } from '../kit/outbox.js';
import type { SubgraphRoute } from '../kit/subgraph.js';
import type { IceServer } from './adapters/video.js';
import { MeetingProviderError } from './adapters/video.js';
import { isClosed, loadConsultation, refOf, statusWords } from './consultations.js';
import { extraParticipant, MAX_PARTICIPANTS } from './participants.js';
import { meetingProvider, settingsOf, type Ctx } from './service.js';

/**
 * The video room. Only the consultation's patient and clinician (and participants they invited) get an access token, only
 * inside its window (from a few minutes before the start to a grace period after the end),
 * only once the fee is paid; the token is for that room and that participant and expires with
 * the window. The room is opened at the first join (its status callback set to the public
 * `/webhooks/twilio/video`), and its callbacks — verified with `X-Twilio-Signature` against
 * that URL, applied once each — move the consultation: a participant connects → IN_PROGRESS;
 * the room ends → COMPLETED with its duration (or, if nobody ever connected, `tele.session.failed`).
 */
export const CALLBACK_PATH = '/webhooks/twilio/video';
const ICE_SAFETY_SECONDS = 60;

export interface VideoAccess {
  roomName: string;
  identity: string;
  token: string;
  expiresAt: Date;
  iceServers: IceServer[];
}

/** ICE servers until shortly before they expire (one Network Traversal token serves every join meanwhile). */
const iceCache = new WeakMap<object, { servers: IceServer[]; until: number }>();
async function iceServersOf(deps: Pick<SubgraphDeps, 'telemedicine'>): Promise<IceServer[]> {
  const key = settingsOf(deps).twilio as object;
  const cached = iceCache.get(key);
  if (cached && cached.until > Date.now()) return cached.servers;
  const fresh = await meetingProvider(deps).iceServers();
  iceCache.set(key, { servers: fresh.servers, until: Date.now() + Math.max(0, fresh.ttlSeconds - ICE_SAFETY_SECONDS) * 1_000 });
  return fresh.servers;
}

const callbackUrl = (deps: Pick<SubgraphDeps, 'publicUrl'>): string => `${publicBaseUrl(deps)}${CALLBACK_PATH}`;

export async function joinConsultation(ctx: Ctx, id: string): Promise<VideoAccess> {
  const caller = requireSignedIn(ctx.identity);
  const consultation = await loadConsultation(ctx, id);
  const extra = await extraParticipant(ctx, consultation, caller);
  const participant = caller.role === Role.PATIENT ? caller.patientId === consultation.patientId : (caller.role === Role.CLINICIAN && caller.subject === consultation.clinicianId) || extra !== null;
  if (!participant) throw forbidden('Only the consultation’s patient, clinician and invited participants join it');
  if (isClosed(consultation)) throw conflict(`The consultation is ${statusWords(consultation)}`);
  const settings = settingsOf(ctx);
  const opens = consultation.startsAt.getTime() - (settings.joinEarlyMinutes ?? 10) * 60_000;
  const closes = consultation.endsAt.getTime() + (settings.graceMinutes ?? 15) * 60_000;
  const now = Date.now();
  if (now < opens || now >= closes) throw domainError('FORBIDDEN', 'The consultation can be joined only from 10 minutes before its start until shortly after its end', { opensAt: new Date(opens).toISOString() });
  if (!consultation.feePaidAt) throw domainError('FORBIDDEN', 'The consultation fee must be paid before joining', { reason: 'FEE_UNPAID' });
  const provider = meetingProvider(ctx);
  await openRoom(ctx, consultation);
  const identity = `${caller.role === Role.PATIENT ? 'patient' : extra ? extra.role.toLowerCase() : 'clinician'}:${caller.subject}`;
  return {
    roomName: consultation.id, identity,
    token: provider.accessToken({ identity, room: consultation.id, ttlSeconds: Math.ceil((closes - now) / 1_000) }),
    expiresAt: new Date(closes), iceServers: await iceServersOf(ctx),
  };
}

/** Opens the room once (a concurrent join finds it open); the first join moves a scheduled consultation to WAITING. */
async function openRoom(ctx: Ctx, consultation: Consultation): Promise<void> {
  if (consultation.roomSid) return;
  let sid: string;
  try {
    // Recorded only when the clinician asked and the patient consented (both before this moment).
    const record = consultation.recordingRequestedAt !== null && consultation.recordingConsentAt !== null;
    ({ sid } = await meetingProvider(ctx).openRoom({ name: consultation.id, statusCallback: callbackUrl(ctx), maxParticipants: MAX_PARTICIPANTS, record }));
  } catch (error) {
    if (error instanceof MeetingProviderError) throw domainError('SERVICE_UNAVAILABLE', 'The video service could not open the room; try again');
    throw error;
  }
  await ctx.prisma.$transaction(async (tx) => {
    const { count } = await tx.consultation.updateMany({ where: { id: consultation.id, roomSid: null }, data: { roomSid: sid } });
    if (count === 0) return;
    await tx.consultation.updateMany({ where: { id: consultation.id, status: 'SCHEDULED' }, data: { status: 'WAITING' } });
    await recordEvent(tx, TelemedicineEvents.roomCreated, { aggregateId: consultation.id, organizationId: consultation.organizationId, payload: { ...refOf(consultation), roomSid: sid } });
  });
}

/**
 * `POST /webhooks/twilio/video` (public): Twilio's room status callbacks. 403 without a valid
 * `X-Twilio-Signature` for the public URL (nothing stored); each callback (room, event,
 * sequence number) applied once; a callback for a room CareGraph does not know is acknowledged.
 */
export const twilioVideoCallbackRoute: SubgraphRoute = {
  method: 'POST',
  path: CALLBACK_PATH,
  public: true,
  async handle(request, deps) {
    const params = Object.fromEntries(new URLSearchParams(request.body.toString('utf8')));
    const signature = request.headers['x-twilio-signature'];
    let valid = false;
    try {
      valid = meetingProvider(deps).verifyCallback({ signature: typeof signature === 'string' ? signature : undefined, url: callbackUrl(deps), params });
    } catch {
      return errorResponse('NOT_FOUND', 'Video is not configured on this platform');
    }
    if (!valid) return errorResponse('FORBIDDEN', 'The callback does not carry a valid Twilio signature');
    const { RoomSid: roomSid, RoomName: roomName, StatusCallbackEvent: event, SequenceNumber: sequence } = params;
    if (!roomSid || !roomName || !event) return errorResponse('BAD_REQUEST', 'RoomSid, RoomName and StatusCallbackEvent are required');
    const applied = await applyCallback(deps, { roomSid, roomName, event, sequence: sequence ?? '', timestamp: params['Timestamp'], duration: params['RoomDuration'] });
    return { status: 200, body: { applied } };
  },
};

async function applyCallback(deps: SubgraphDeps, callback: { roomSid: string; roomName: string; event: string; sequence: string; timestamp: string | undefined; duration: string | undefined }): Promise<boolean> {
  const at = callback.timestamp && !Number.isNaN(Date.parse(callback.timestamp)) ? new Date(callback.timestamp) : new Date();
  return deps.prisma.$transaction(async (tx) => {
    const consultation = await tx.consultation.findFirst({ where: { id: callback.roomName, roomSid: callback.roomSid } });
    if (!consultation) return false;
    const first = await tx.videoCallback.createMany({ data: [{ key: `${callback.roomSid}:${callback.event}:${callback.sequence}`, consultationId: consultation.id, event: callback.event }], skipDuplicates: true });
    if (first.count === 0) return false;
    const ref = refOf(consultation);
    if (callback.event === 'participant-connected') {
      const { count } = await tx.consultation.updateMany({ where: { id: consultation.id, status: { in: ['SCHEDULED', 'WAITING'] } }, data: { status: 'IN_PROGRESS', startedAt: at } });
      if (count > 0) await recordEvent(tx, TelemedicineEvents.sessionStarted, { aggregateId: consultation.id, organizationId: consultation.organizationId, payload: { ...ref, startedAt: at.toISOString() } });
    } else if (callback.event === 'room-ended') {
      if (consultation.status === 'IN_PROGRESS') {
        const reported = Number(callback.duration);
        const durationSeconds = Number.isInteger(reported) && reported >= 0 ? reported : Math.max(0, Math.round((at.getTime() - (consultation.startedAt ?? at).getTime()) / 1_000));
        await tx.consultation.update({ where: { id: consultation.id }, data: { status: 'COMPLETED', endedAt: at, durationSeconds } });
        await recordEvent(tx, TelemedicineEvents.sessionCompleted, { aggregateId: consultation.id, organizationId: consultation.organizationId, payload: { ...ref, endedAt: at.toISOString(), durationSeconds } });
      } else if (consultation.status === 'WAITING') {
        // Nobody connected before the room closed: a later join opens a new one.
        await tx.consultation.update({ where: { id: consultation.id }, data: { roomSid: null } });
        await recordEvent(tx, TelemedicineEvents.sessionFailed, { aggregateId: consultation.id, organizationId: consultation.organizationId, payload: { ...ref, reason: 'The room ended before anyone connected' } });
      }
    }
    return true;
  });
}
