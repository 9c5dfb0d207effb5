import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyOf, LocalFake } from './local-server.js';

/**
 * A partner telemedicine platform's appointments API, locally over HTTP (the shape
 * `subgraphs/telemedicine/adapters/partners.ts` speaks): `GET /appointments?since=` lists what
 * changed after a cursor, `PUT /appointments/{id}` creates or updates one. An API key is
 * required; it can be taken down (503).
 */
export interface FakeAppointment {
  id: string;
  practitionerId: string;
  start: string;
  end: string;
  status: 'BOOKED' | 'CANCELLED';
}

export class FakePartner extends LocalFake {
  readonly apiKey = `pk_${Math.random().toString(36).slice(2)}`;
  /** Every appointment it holds, with the sequence number of its last change. */
  private readonly appointments = new Map<string, FakeAppointment & { seq: number }>();
  private seq = 0;
  down = false;
  readonly puts: FakeAppointment[] = [];

  constructor(readonly code: string) {
    super(`fake ${code}`);
  }

  /** A booking made on the partner's own side. */
  book(appointment: FakeAppointment): void {
    this.appointments.set(appointment.id, { ...appointment, seq: ++this.seq });
  }

  get(id: string): FakeAppointment | undefined {
    const found = this.appointments.get(id);
    if (!found) return undefined;
    const { seq: _seq, ...appointment } = found;
    return appointment;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = await bodyOf(req);
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (req.headers['x-api-key'] !== this.apiKey) return send(401, { error: 'invalid api key' });
    if (this.down) return send(503, { error: 'maintenance' });
    if (req.method === 'GET' && url.pathname === '/appointments') {
      const since = Number(url.searchParams.get('since') ?? '0');
      const changed = [...this.appointments.values()].filter((a) => a.seq > since).sort((a, b) => a.seq - b.seq);
      return send(200, { appointments: changed.map(({ seq: _seq, ...a }) => a), cursor: String(changed.at(-1)?.seq ?? since) });
    }
    const one = /^\/appointments\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'PUT' && one) {
      const appointment = JSON.parse(body) as FakeAppointment;
      if (appointment.id !== decodeURIComponent(one[1] ?? '')) return send(400, { error: 'id mismatch' });
      this.puts.push(appointment);
      this.book(appointment);
      return send(200, appointment);
    }
    send(404, { error: 'not found' });
  }
}
