import type { ClinicianSchedule, Prisma } from '../../prisma/generated/client/client.js';
import { badUserInput, InputProblems, notFound } from '../kit/errors.js';
import { requireRole, requireSignedIn, Role } from '../kit/identity.js';
import type { Ctx } from './service.js';

/**
 * Clinicians' video hours: weekly windows of wall-clock time in their own zone (so a clinic in
 * Lagos and its patients in London see the same hours move with daylight saving on the
 * patients' side, not the clinic's), cut into 30-minute slots; a slot is free unless a
 * consultation that is not cancelled overlaps it.
 */
export const SLOT_MINUTES = 30;
const MAX_DAYS = 14;

export interface Window { day: number; start: string; end: string }
export interface Slot { startsAt: Date; endsAt: Date }

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const minutesOf = (hhmm: string): number => {
  const [, h, m] = HHMM.exec(hhmm) ?? [];
  return Number(h) * 60 + Number(m);
};

export function windowsOf(schedule: Pick<ClinicianSchedule, 'windows'>): Window[] {
  return (Array.isArray(schedule.windows) ? schedule.windows : []) as unknown as Window[];
}

/** The wall-clock date and time of an instant in a zone. */
function wallClock(instant: Date, timeZone: string): { year: number; month: number; day: number; weekday: number; minutes: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short' })
      .formatToParts(instant).map((part) => [part.type, part.value]),
  );
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts['weekday'] ?? '') + 1;
  return { year: Number(parts['year']), month: Number(parts['month']), day: Number(parts['day']), weekday, minutes: Number(parts['hour']) * 60 + Number(parts['minute']) };
}

/** The instant at a wall-clock time in a zone (the zone's offset found at that moment). */
function instantAt(date: { year: number; month: number; day: number }, minutes: number, timeZone: string): Date {
  const guess = Date.UTC(date.year, date.month - 1, date.day, 0, minutes);
  const offsetAt = (instant: number) => {
    const wall = wallClock(new Date(instant), timeZone);
    return Date.UTC(wall.year, wall.month - 1, wall.day, 0, wall.minutes) - instant;
  };
  const first = guess - offsetAt(guess);
  return new Date(guess - offsetAt(first));
}

function checkSchedule(input: { timeZone: string; windows: Window[]; feeAmount: number; currency: string }): void {
  const problems = new InputProblems();
  let zoneOk = true;
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: input.timeZone });
  } catch {
    zoneOk = false;
  }
  problems.check(zoneOk, 'input.timeZone', 'must be an IANA time zone (Africa/Lagos)');
  problems.check(input.windows.length <= 21, 'input.windows', 'at most 21 windows');
  input.windows.forEach((window, index) => {
    const ok = Number.isInteger(window.day) && window.day >= 1 && window.day <= 7 && HHMM.test(window.start) && HHMM.test(window.end) && minutesOf(window.end) - minutesOf(window.start) >= SLOT_MINUTES;
    problems.check(ok, `input.windows.${index}`, 'day 1-7 (Monday 1), start and end as HH:MM, at least 30 minutes apart');
  });
  problems.check(Number.isInteger(input.feeAmount) && input.feeAmount >= 0 && input.feeAmount <= 100_000_000, 'input.feeAmount', 'must be whole minor units, 0 or more');
  problems.check(['NGN', 'INR', 'USD'].includes(input.currency), 'input.currency', 'must be NGN, INR or USD');
  problems.throwIfAny();
}

/** A clinician sets their own hours and fee. */
export async function setAvailability(ctx: Ctx, input: { timeZone: string; windows: Window[]; feeAmount: number; currency: string }): Promise<ClinicianSchedule> {
  const caller = requireRole(ctx.identity, [Role.CLINICIAN], 'Clinicians set their own video hours');
  if (!caller.organizationId) throw badUserInput('organization', 'a clinician acts in an organization');
  checkSchedule(input);
  const data = { timeZone: input.timeZone, windows: input.windows as unknown as Prisma.InputJsonValue, feeAmount: input.feeAmount, currency: input.currency };
  return ctx.db.clinicianSchedule.upsert({ where: { clinicianId: caller.subject }, create: { clinicianId: caller.subject, organizationId: caller.organizationId, ...data }, update: data });
}

export async function scheduleOf(ctx: Ctx, clinicianId: string): Promise<ClinicianSchedule> {
  requireSignedIn(ctx.identity);
  const schedule = await ctx.db.clinicianSchedule.findUnique({ where: { clinicianId } });
  if (!schedule) throw notFound('Clinician schedule');
  return schedule;
}

/** Whether [startsAt, endsAt) lies within one of the windows and starts on a slot boundary. */
export function withinHours(schedule: Pick<ClinicianSchedule, 'windows' | 'timeZone'>, startsAt: Date, endsAt: Date): boolean {
  const start = wallClock(startsAt, schedule.timeZone);
  const length = (endsAt.getTime() - startsAt.getTime()) / 60_000;
  return windowsOf(schedule).some((window) => {
    const from = minutesOf(window.start);
    return window.day === start.weekday && start.minutes >= from && (start.minutes - from) % SLOT_MINUTES === 0 && start.minutes + length <= minutesOf(window.end);
  });
}

/** Free slots from `from` over `days` days (at most 14), in time order. */
export async function availableSlots(ctx: Ctx, clinicianId: string, from: Date, days: number): Promise<Slot[]> {
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw badUserInput('days', `must be 1-${MAX_DAYS}`);
  const schedule = await scheduleOf(ctx, clinicianId);
  const now = Date.now();
  const start = new Date(Math.max(from.getTime(), now));
  const until = new Date(start.getTime() + days * 86_400_000);
  // Free/busy only, across platforms: our consultations and partners' bookings (unscoped: not the caller's to hide).
  const booked = [
    ...(await ctx.prisma.consultation.findMany({ where: { clinicianId, status: { notIn: ['CANCELLED'] }, startsAt: { lt: until }, endsAt: { gt: start } }, select: { startsAt: true, endsAt: true } })),
    ...(await ctx.prisma.partnerAppointment.findMany({ where: { clinicianId, direction: 'IN', status: 'BOOKED', startsAt: { lt: until }, endsAt: { gt: start } }, select: { startsAt: true, endsAt: true } })),
  ];
  const slots: Slot[] = [];
  for (let offset = 0; offset <= days; offset += 1) {
    const date = wallClock(new Date(start.getTime() + offset * 86_400_000), schedule.timeZone);
    for (const window of windowsOf(schedule).filter((w) => w.day === date.weekday)) {
      for (let minute = minutesOf(window.start); minute + SLOT_MINUTES <= minutesOf(window.end); minute += SLOT_MINUTES) {
        const slotStart = instantAt(date, minute, schedule.timeZone);
        const slotEnd = new Date(slotStart.getTime() + SLOT_MINUTES * 60_000);
        if (slotStart < start || slotStart >= until) continue;
        if (booked.some((b) => b.startsAt < slotEnd && b.endsAt > slotStart)) continue;
        slots.push({ startsAt: slotStart, endsAt: slotEnd });
      }
    }
  }
  return slots.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime()).filter((slot, index, all) => index === 0 || slot.startsAt.getTime() !== all[index - 1]?.startsAt.getTime());
}
