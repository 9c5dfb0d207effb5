import twilio from 'twilio';
import type { TelemedicineSettings } from '../../kit/config.js';

/**
 * What telemedicine needs of a meeting provider: a room per consultation (calling back on its
 * status), a participant's access token for that room, ICE servers for clients behind NATs,
 * and a check that a callback is the provider's. Twilio Video is the provider (`twilio` SDK).
 */
export interface IceServer {
  urls: string;
  username?: string;
  credential?: string;
}

export interface MeetingProvider {
  /** Opens the room (or finds it open): its provider id. */
  openRoom(input: { name: string; statusCallback: string; maxParticipants: number; record: boolean }): Promise<{ sid: string }>;
  /** A token for one participant of one room, valid `ttlSeconds`. */
  accessToken(input: { identity: string; room: string; ttlSeconds: number }): string;
  /** STUN/TURN servers, and how long they are good for. */
  iceServers(): Promise<{ servers: IceServer[]; ttlSeconds: number }>;
  /** Whether a callback (form-encoded POST to `url`) carries the provider's signature. */
  verifyCallback(input: { signature: string | undefined; url: string; params: Record<string, string> }): boolean;
}

export class MeetingProviderError extends Error {}

export class TwilioVideo implements MeetingProvider {
  private readonly client: twilio.Twilio;

  constructor(private readonly settings: NonNullable<TelemedicineSettings['twilio']>) {
    this.client = twilio(settings.apiKeySid, settings.apiKeySecret, { accountSid: settings.accountSid, autoRetry: false });
    if (settings.apiBaseUrl) {
      // Every Twilio domain the platform uses, at the configured base (a local fake in tests).
      this.client.video.baseUrl = settings.apiBaseUrl;
      this.client.api.baseUrl = settings.apiBaseUrl;
    }
  }

  async openRoom(input: { name: string; statusCallback: string; maxParticipants: number; record: boolean }): Promise<{ sid: string }> {
    try {
      const room = await this.client.video.v1.rooms.create({
        uniqueName: input.name, type: 'group', statusCallback: input.statusCallback, statusCallbackMethod: 'POST',
        maxParticipants: input.maxParticipants, recordParticipantsOnConnect: input.record,
      });
      return { sid: room.sid };
    } catch (error) {
      // 53113: a room of that name is already in progress (opened by an earlier join): use it.
      if ((error as { code?: number }).code === 53113) return { sid: (await this.client.video.v1.rooms(input.name).fetch()).sid };
      throw new MeetingProviderError(`Twilio did not open the room (${(error as { status?: number }).status ?? 'unreachable'})`);
    }
  }

  accessToken(input: { identity: string; room: string; ttlSeconds: number }): string {
    const token = new twilio.jwt.AccessToken(this.settings.accountSid, this.settings.apiKeySid, this.settings.apiKeySecret, { identity: input.identity, ttl: input.ttlSeconds });
    token.addGrant(new twilio.jwt.AccessToken.VideoGrant({ room: input.room }));
    return token.toJwt();
  }

  async iceServers(): Promise<{ servers: IceServer[]; ttlSeconds: number }> {
    try {
      const token = await this.client.tokens.create({ ttl: 3_600 });
      const servers = (token.iceServers ?? []).flatMap((server): IceServer[] => {
        const urls = server.urls ?? server.url;
        return urls ? [{ urls, ...(server.username ? { username: server.username } : {}), ...(server.credential ? { credential: server.credential } : {}) }] : [];
      });
      return { servers, ttlSeconds: Number(token.ttl) || 3_600 };
    } catch (error) {
      throw new MeetingProviderError(`Twilio did not issue ICE servers (${(error as { status?: number }).status ?? 'unreachable'})`);
    }
  }

  verifyCallback(input: { signature: string | undefined; url: string; params: Record<string, string> }): boolean {
    if (!input.signature) return false;
    return twilio.validateRequest(this.settings.authToken, input.signature, input.url, input.params);
  }
}
