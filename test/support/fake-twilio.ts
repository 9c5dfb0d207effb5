import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyOf, LocalFake } from './local-server.js';
import twilio from 'twilio';

/**
 * Twilio, locally, over real HTTP, in its REST wire format, for what telemedicine calls:
 * Video rooms (`POST /v1/Rooms`, 53113 when a room of that name is in progress, `GET
 * /v1/Rooms/{sid or name}`) and Network Traversal tokens (`POST
 * /2010-04-01/Accounts/{sid}/Tokens.json`) and Messaging (`POST …/Messages.json`, 21211 for a
 * number that is not E.164). Requests need the API key's Basic credentials. It signs callbacks
 * as Twilio does (`X-Twilio-Signature`), for tests to deliver.
 */
export interface FakeRoom {
  sid: string;
  uniqueName: string;
  status: 'in-progress' | 'completed';
  statusCallback: string;
  maxParticipants: number;
  recordParticipantsOnConnect: boolean;
}

export class FakeTwilio extends LocalFake {
  constructor() {
    super('fake Twilio');
  }

  readonly accountSid = `AC${randomBytes(16).toString('hex')}`;
  readonly authToken = randomBytes(16).toString('hex');
  readonly apiKeySid = `SK${randomBytes(16).toString('hex')}`;
  readonly apiKeySecret = randomBytes(16).toString('hex');
  readonly rooms: FakeRoom[] = [];
  readonly requests: Array<{ method: string; path: string; status: number }> = [];
  /** Network Traversal tokens issued. */
  traversalTokens = 0;
  /** Answer room creation 503 (Twilio having a bad minute). */
  down = false;
  /** Messages sent (SMS and WhatsApp), in order. */
  readonly messages: Array<{ sid: string; to: string; from: string; body: string; statusCallback: string }> = [];
  /** Answer the next N message sends 503. */
  failMessagesNext = 0;

  settings(): { accountSid: string; authToken: string; apiKeySid: string; apiKeySecret: string; apiBaseUrl: string } {
    return { accountSid: this.accountSid, authToken: this.authToken, apiKeySid: this.apiKeySid, apiKeySecret: this.apiKeySecret, apiBaseUrl: this.url };
  }

  /** A room status callback as Twilio would post it: form parameters and their signature for `url`. */
  signedCallback(url: string, params: Record<string, string>): { body: string; signature: string } {
    return { body: new URLSearchParams(params).toString(), signature: twilio.getExpectedTwilioSignature(this.authToken, url, params) };
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = await bodyOf(req);
    const send = (status: number, json: unknown) => {
      this.requests.push({ method: req.method ?? '', path: url.pathname, status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const expected = `Basic ${Buffer.from(`${this.apiKeySid}:${this.apiKeySecret}`).toString('base64')}`;
    if (req.headers['authorization'] !== expected) return send(401, { code: 20003, message: 'Authenticate', status: 401 });
    const form = Object.fromEntries(new URLSearchParams(body));
    if (req.method === 'POST' && url.pathname === '/v1/Rooms') {
      if (this.down) return send(503, { code: 20500, message: 'Internal Server Error', status: 503 });
      const name = form['UniqueName'] ?? '';
      if (this.rooms.some((room) => room.uniqueName === name && room.status === 'in-progress')) return send(400, { code: 53113, message: 'Room exists', more_info: 'https://www.twilio.com/docs/errors/53113', status: 400 });
      const room: FakeRoom = {
        sid: `RM${randomBytes(16).toString('hex')}`, uniqueName: name, status: 'in-progress', statusCallback: form['StatusCallback'] ?? '',
        maxParticipants: Number(form['MaxParticipants'] ?? 50), recordParticipantsOnConnect: form['RecordParticipantsOnConnect'] === 'true',
      };
      this.rooms.push(room);
      return send(201, this.wire(room));
    }
    const roomPath = /^\/v1\/Rooms\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && roomPath) {
      const key = decodeURIComponent(roomPath[1] ?? '');
      const room = this.rooms.find((r) => r.sid === key || (r.uniqueName === key && r.status === 'in-progress'));
      return room ? send(200, this.wire(room)) : send(404, { code: 20404, message: 'Not found', status: 404 });
    }
    if (req.method === 'POST' && url.pathname === `/2010-04-01/Accounts/${this.accountSid}/Messages.json`) {
      if (this.failMessagesNext > 0) {
        this.failMessagesNext -= 1;
        return send(503, { code: 20500, message: 'Service unavailable', status: 503 });
      }
      const to = form['To'] ?? '';
      if (!/^(whatsapp:)?\+\d{8,15}$/.test(to)) return send(400, { code: 21211, message: `The 'To' number ${to} is not a valid phone number.`, status: 400 });
      const message = { sid: `SM${randomBytes(16).toString('hex')}`, to, from: form['From'] ?? '', body: form['Body'] ?? '', statusCallback: form['StatusCallback'] ?? '' };
      this.messages.push(message);
      return send(201, { sid: message.sid, account_sid: this.accountSid, to, from: message.from, body: message.body, status: 'queued', num_segments: '1', direction: 'outbound-api', date_created: new Date().toUTCString(), uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${message.sid}.json` });
    }
    if (req.method === 'POST' && url.pathname === `/2010-04-01/Accounts/${this.accountSid}/Tokens.json`) {
      this.traversalTokens += 1;
      const username = randomBytes(16).toString('hex');
      const credential = randomBytes(16).toString('base64');
      return send(201, {
        account_sid: this.accountSid, date_created: new Date().toUTCString(), date_updated: new Date().toUTCString(), ttl: form['Ttl'] ?? '86400', username, password: credential,
        ice_servers: [
          { url: 'stun:global.stun.twilio.com:3478', urls: 'stun:global.stun.twilio.com:3478' },
          { url: 'turn:global.turn.twilio.com:3478?transport=udp', urls: 'turn:global.turn.twilio.com:3478?transport=udp', username, credential },
        ],
      });
    }
    send(404, { code: 20404, message: 'Not found', status: 404 });
  }

  /** Ends a room as Twilio does when its last participant leaves. */
  endRoom(sid: string): void {
    const room = this.rooms.find((r) => r.sid === sid);
    if (room) room.status = 'completed';
  }

  private wire(room: FakeRoom): Record<string, unknown> {
    return {
      sid: room.sid, account_sid: this.accountSid, unique_name: room.uniqueName, status: room.status, type: 'group', status_callback: room.statusCallback,
      status_callback_method: 'POST', max_participants: room.maxParticipants, record_participants_on_connect: room.recordParticipantsOnConnect,
      date_created: new Date().toISOString(), date_updated: new Date().toISOString(), url: `${this.url}/v1/Rooms/${room.sid}`, links: {},
    };
  }
}
