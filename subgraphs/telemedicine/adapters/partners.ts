import type { TelemedicineSettings } from '../../kit/config.js';

/**
 * A partner telemedicine platform's appointments API, as CareGraph speaks to the seed's
 * partners (WellaHealth, Reliance Telemedicine, Mobihealth, Doctoora): JSON over HTTP with an
 * API key. `GET /appointments?since=<cursor>` lists what changed (`{appointments, cursor}`);
 * `PUT /appointments/{id}` creates or updates one of ours (idempotent by its id).
 */
export type PartnerConfig = NonNullable<TelemedicineSettings['partners']>[number];

export interface PartnerAppointmentWire {
  id: string;
  practitionerId: string;
  start: string;
  end: string;
  status: 'BOOKED' | 'CANCELLED';
}

export class PartnerUnavailable extends Error {}

export class PartnerPlatform {
  constructor(private readonly config: PartnerConfig) {}

  get code(): string {
    return this.config.code;
  }

  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      const response = await fetch(`${this.config.baseUrl.replace(/\/$/, '')}${path}`, {
        ...init, headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': this.config.apiKey, ...(init.headers ?? {}) }, signal: AbortSignal.timeout(this.config.timeoutMs ?? 5_000),
      });
      if (!response.ok) throw new PartnerUnavailable(`${this.config.code} answered ${response.status}`);
      return response;
    } catch (error) {
      if (error instanceof PartnerUnavailable) throw error;
      throw new PartnerUnavailable(`${this.config.code} could not be reached (${error instanceof Error ? error.name : 'error'})`);
    }
  }

  /** What changed since the cursor; appointments that do not read are left out (and counted). */
  async changes(cursor: string | null): Promise<{ appointments: PartnerAppointmentWire[]; cursor: string | null; unreadable: number }> {
    const body = (await (await this.call(`/appointments${cursor ? `?since=${encodeURIComponent(cursor)}` : ''}`)).json()) as { appointments?: unknown; cursor?: unknown };
    const list = Array.isArray(body.appointments) ? body.appointments : [];
    const appointments = list.filter((a): a is PartnerAppointmentWire => {
      const x = a as Partial<PartnerAppointmentWire> | null;
      return !!x && typeof x.id === 'string' && typeof x.practitionerId === 'string' && !Number.isNaN(Date.parse(x.start ?? '')) && !Number.isNaN(Date.parse(x.end ?? '')) && (x.status === 'BOOKED' || x.status === 'CANCELLED');
    });
    return { appointments, cursor: typeof body.cursor === 'string' ? body.cursor : cursor, unreadable: list.length - appointments.length };
  }

  async put(appointment: PartnerAppointmentWire): Promise<void> {
    await this.call(`/appointments/${encodeURIComponent(appointment.id)}`, { method: 'PUT', body: JSON.stringify(appointment) });
  }

  practitionerOf(clinicianId: string): string | null {
    return Object.entries(this.config.clinicians).find(([, ours]) => ours === clinicianId)?.[0] ?? null;
  }

  clinicianOf(practitionerId: string): string | null {
    return this.config.clinicians[practitionerId] ?? null;
  }
}
