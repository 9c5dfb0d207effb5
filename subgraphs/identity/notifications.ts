import { createHash } from 'node:crypto';
import type { Notification, NotificationChannel, NotificationStatus, NotificationTemplate, Prisma } from '../../prisma/generated/client/client.js';
import { audit } from '../kit/audit.js';
import { twilioAccountFromEnv, type MessagingSettings } from '../kit/config.js';
import { publicBaseUrl, type SubgraphDeps } from '../kit/context.js';
import { badUserInput, InputProblems } from '../kit/errors.js';
import { BillingEvents } from '../kit/events/billing.js';
import { on, type ConsumedEvent, type EventConsumer } from '../kit/events/consumers.js';
import { IdentityEvents } from '../kit/events/identity.js';
import { TelemedicineEvents } from '../kit/events/telemedicine.js';
import { errorResponse } from '../kit/http.js';
import { requireOwnOrStaff, requireStaffOf, Role, type AuthenticatedIdentity } from '../kit/identity.js';
import { recordEvent, type TransactionClient } from '../kit/outbox.js';
import { doublingDelayMs } from '../kit/poller.js';
import type { SubgraphRoute, SubgraphWorker } from '../kit/subgraph.js';
import { SendFailed, VendorMessageSender, type MessageSender } from './adapters/messaging.js';
import type { Ctx } from './context.js';
import { NOTIFICATION_READERS } from './policies.js';

/**
 * Messages to patients, for every domain: one durable consumer turns other domains' events into
 * scheduled messages — a booking's confirmation, its reminders 24 hours and 1 hour before (with
 * the join link), the follow-up recall after a consultation, a refund's confirmation — on every
 * configured channel (SMS and WhatsApp through Twilio, email over SMTP), in the organization's
 * wording or the built-in one. They are rows, not timers: a reminder due tomorrow survives a
 * restart. A worker sends what is due (leased, so instances never send one twice at once);
 * a failure is retried with a doubling delay, then reported (`identity.notification.failed`).
 * Twilio's status callbacks (verified) move each message forward (queued → sent → delivered, or
 * undelivered / failed, retried); a STOP from a number stops everything to it on that channel.
 * Contact details stay here, with the patient: the messages' rows hold only the facts to fill in.
 */
export const NOTIFICATION_KINDS = ['BOOKING_CONFIRMATION', 'REMINDER_24H', 'REMINDER_1H', 'FOLLOW_UP', 'REFUND_CONFIRMATION'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
const STATUS_PATH = '/webhooks/twilio/messaging';
const INBOUND_PATH = '/webhooks/twilio/inbound';
const LEASE_MS = 2 * 60_000;
const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
const START_WORDS = new Set(['START', 'UNSTOP', 'YES']);

/** The built-in wording; an organization's template replaces it. `{{name}}` is filled in. */
const DEFAULT_WORDING: Record<NotificationKind, { subject: string; body: string }> = {
  BOOKING_CONFIRMATION: { subject: 'Your video consultation is booked', body: 'Hello {{firstName}}, your video consultation with {{organization}} is booked for {{startsAt}}. Pay the fee before joining: {{joinUrl}}' },
  REMINDER_24H: { subject: 'Your consultation is tomorrow', body: 'Hello {{firstName}}, a reminder: your video consultation with {{organization}} is at {{startsAt}}. Join here: {{joinUrl}}' },
  REMINDER_1H: { subject: 'Your consultation starts in an hour', body: 'Hello {{firstName}}, your video consultation with {{organization}} starts at {{startsAt}}. Join here: {{joinUrl}}' },
  FOLLOW_UP: { subject: 'How are you feeling?', body: 'Hello {{firstName}}, it has been a while since your consultation with {{organization}}. Book a follow-up if you need one: {{bookUrl}}' },
  REFUND_CONFIRMATION: { subject: 'Your refund is on its way', body: 'Hello {{firstName}}, {{organization}} has refunded {{amount}} to you.' },
};

// ---------------------------------------------------------------- configuration

/** TWILIO_* (with TWILIO_SMS_FROM, TWILIO_WHATSAPP_FROM), SMTP_URL with MAIL_FROM, APP_URL. */
export function messagingSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): MessagingSettings {
  const settings: MessagingSettings = {};
  const account = twilioAccountFromEnv(env);
  if (account && (env['TWILIO_SMS_FROM'] || env['TWILIO_WHATSAPP_FROM'])) {
    settings.twilio = { ...account, ...(env['TWILIO_SMS_FROM'] ? { smsFrom: env['TWILIO_SMS_FROM'] } : {}), ...(env['TWILIO_WHATSAPP_FROM'] ? { whatsappFrom: env['TWILIO_WHATSAPP_FROM'] } : {}) };
  }
  if (env['SMTP_URL']) settings.smtp = { url: env['SMTP_URL'], from: env['MAIL_FROM'] || 'CareGraph <no-reply@caregraph.local>' };
  if (env['APP_URL']) settings.appUrl = env['APP_URL'];
  return settings;
}

const settingsOf = (deps: Pick<SubgraphDeps, 'messaging'>): MessagingSettings => deps.messaging ?? messagingSettingsFromEnv();
const senders = new WeakMap<object, MessageSender>();
function senderOf(deps: Pick<SubgraphDeps, 'messaging'>): MessageSender | null {
  const settings = settingsOf(deps);
  if (!settings.twilio && !settings.smtp) return null;
  let sender = senders.get(settings);
  if (!sender) senders.set(settings, (sender = new VendorMessageSender(settings)));
  return sender;
}
const appUrl = (deps: Pick<SubgraphDeps, 'publicUrl' | 'messaging'>): string => (settingsOf(deps).appUrl ?? publicBaseUrl(deps)).replace(/\/$/, '');
/** Numbers and addresses that said STOP are kept only as digests. */
const addressDigest = (address: string): string => createHash('sha256').update(address.trim().toLowerCase()).digest('hex');

// ---------------------------------------------------------------- scheduling (the consumer)

async function schedule(tx: TransactionClient, deps: Pick<SubgraphDeps, 'messaging'>, event: ConsumedEvent<unknown>, input: { patientId: string; organizationId: string; reference: string | null; variables: Record<string, string>; messages: Array<{ kind: NotificationKind; sendAt: Date }> }): Promise<void> {
  const channels = senderOf(deps)?.channels() ?? [];
  const rows = input.messages.flatMap((message) => channels.map((channel) => ({
    organizationId: input.organizationId, patientId: input.patientId, kind: message.kind, channel, sourceEventId: event.id, reference: input.reference,
    variables: input.variables as Prisma.InputJsonValue, sendAt: message.sendAt,
  })));
  if (rows.length) await tx.notification.createMany({ data: rows, skipDuplicates: true });
}

/** A time as the patient reads it: in the clinician's zone when known, else UTC. */
function readableTime(iso: string, timeZone: string | undefined): string {
  const zone = timeZone ?? 'UTC';
  try {
    return `${new Intl.DateTimeFormat('en-GB', { timeZone: zone, dateStyle: 'full', timeStyle: 'short' }).format(new Date(iso))} (${zone})`;
  } catch {
    return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
  }
}

/** Without the subgraph's settings (a catch-up outside it), messages follow the environment's. */
const NO_DEPS: Pick<SubgraphDeps, 'messaging' | 'publicUrl'> = {};
type Settings = Pick<SubgraphDeps, 'messaging' | 'publicUrl'>;

export const notificationConsumer: EventConsumer = {
  name: 'identity.notifications',
  handlers: [
    on(TelemedicineEvents.consultationBooked, async (event, tx, given) => {
      const deps: Settings = given ?? NO_DEPS;
      const { consultationId, patientId, organizationId, startsAt, timeZone } = event.payload;
      const start = new Date(startsAt).getTime();
      const now = Date.now();
      const messages: Array<{ kind: NotificationKind; sendAt: Date }> = [{ kind: 'BOOKING_CONFIRMATION', sendAt: new Date(now) }];
      if (start - 24 * 3_600_000 > now) messages.push({ kind: 'REMINDER_24H', sendAt: new Date(start - 24 * 3_600_000) });
      if (start - 3_600_000 > now) messages.push({ kind: 'REMINDER_1H', sendAt: new Date(start - 3_600_000) });
      await schedule(tx, deps, event, { patientId, organizationId, reference: consultationId, variables: { startsAt: readableTime(startsAt, timeZone), joinUrl: `${appUrl(deps)}/consultations/${consultationId}` }, messages });
    }),
    on(TelemedicineEvents.consultationCancelled, async (event, tx) => {
      await tx.notification.updateMany({ where: { reference: event.payload.consultationId, status: 'SCHEDULED' }, data: { status: 'CANCELLED', heldUntil: null } });
    }),
    on(TelemedicineEvents.sessionCompleted, async (event, tx, given) => {
      const deps: Settings = given ?? NO_DEPS;
      const { consultationId, patientId, organizationId, endedAt } = event.payload;
      const days = settingsOf(deps).followUpDays ?? 14;
      await schedule(tx, deps, event, { patientId, organizationId, reference: consultationId, variables: { bookUrl: `${appUrl(deps)}/consultations/book` }, messages: [{ kind: 'FOLLOW_UP', sendAt: new Date(new Date(endedAt).getTime() + days * 86_400_000) }] });
    }),
    on(BillingEvents.refundIssued, async (event, tx, given) => {
      const deps: Settings = given ?? NO_DEPS;
      const { patientId, organizationId, amount, currency } = event.payload;
      if (!patientId) return;
      const major = new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(amount / 100);
      await schedule(tx, deps, event, { patientId, organizationId, reference: event.payload.refundId, variables: { amount: major }, messages: [{ kind: 'REFUND_CONFIRMATION', sendAt: new Date() }] });
    }),
  ],
};

// ---------------------------------------------------------------- sending (the worker)

function render(text: string, variables: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => variables[name] ?? '');
}

const SYSTEM: AuthenticatedIdentity = { kind: 'service', subject: 'identity.notifications', role: Role.SERVICE, organizationId: null };

/** Sends one claimed message: the patient's address and name read (audited), opt-outs honoured, the wording filled in. */
async function deliver(deps: SubgraphDeps, sender: MessageSender, row: Notification): Promise<void> {
  const settings = settingsOf(deps);
  const patient = await deps.prisma.patient.findUnique({ where: { id: row.patientId }, select: { id: true, givenName: true, phone: true, email: true, organization: { select: { name: true } } } });
  await audit(deps.prisma, { ...SYSTEM, organizationId: row.organizationId }, { source: 'identity', action: 'read', entityType: 'Patient', entityIds: [row.patientId], reason: `notification ${row.id}` });
  // Phone numbers as E.164 (spaces and punctuation dropped), as Twilio takes and reports them.
  const address = row.channel === 'EMAIL' ? patient?.email : patient?.phone?.replace(/[^\d+]/g, '');
  if (!patient || !address) return finish(deps, row.id, { status: 'SUPPRESSED', lastError: `the patient has no ${row.channel === 'EMAIL' ? 'email address' : 'phone number'}` });
  const optedOut = await deps.prisma.notificationOptOut.findUnique({ where: { channel_addressDigest: { channel: row.channel, addressDigest: addressDigest(address) } } });
  if (optedOut) return finish(deps, row.id, { status: 'SUPPRESSED', lastError: 'the patient asked for no more messages here (STOP)' });
  const template = await deps.prisma.notificationTemplate.findUnique({ where: { organizationId_kind_channel: { organizationId: row.organizationId, kind: row.kind, channel: row.channel } } });
  const wording = template ?? DEFAULT_WORDING[row.kind as NotificationKind];
  const variables = { ...(row.variables as Record<string, string>), firstName: patient.givenName, organization: patient.organization.name };
  try {
    const sent = await sender.send({ channel: row.channel, to: address, subject: wording.subject ? render(wording.subject, variables) : null, body: render(wording.body, variables), statusCallback: `${publicBaseUrl(deps)}${STATUS_PATH}` });
    await finish(deps, row.id, { status: sent.status, providerId: sent.providerId, sentAt: new Date(), lastError: null });
  } catch (error) {
    if (!(error instanceof SendFailed)) throw error;
    await failOrRetry(deps, row, error.message, error.permanent || row.attempts >= (settings.maxAttempts ?? 4));
  }
}

async function finish(deps: SubgraphDeps, id: string, data: Prisma.NotificationUpdateInput): Promise<void> {
  await deps.prisma.notification.update({ where: { id }, data: { ...data, heldUntil: null } });
}

/** Retried after a doubling delay while attempts remain; then FAILED and reported. */
async function failOrRetry(deps: Pick<SubgraphDeps, 'prisma' | 'messaging'>, row: Pick<Notification, 'id' | 'attempts' | 'patientId' | 'organizationId' | 'kind' | 'channel'>, problem: string, final: boolean, status: NotificationStatus = 'FAILED'): Promise<void> {
  const settings = settingsOf(deps);
  if (!final) {
    // Attempts are bounded by maxAttempts: the delay needs no cap of its own.
    const delay = doublingDelayMs(settings.retryBaseMs ?? 60_000, row.attempts, Number.MAX_SAFE_INTEGER);
    await deps.prisma.notification.update({ where: { id: row.id }, data: { status: 'SCHEDULED', heldUntil: new Date(Date.now() + delay), lastError: problem.slice(0, 200) } });
    return;
  }
  await deps.prisma.$transaction(async (tx) => {
    await tx.notification.update({ where: { id: row.id }, data: { status, heldUntil: null, lastError: problem.slice(0, 200) } });
    await recordEvent(tx, IdentityEvents.notificationFailed, {
      aggregateId: row.id, organizationId: row.organizationId,
      payload: { notificationId: row.id, patientId: row.patientId, organizationId: row.organizationId, kind: row.kind, channel: row.channel, attempts: row.attempts },
    });
  });
}

/** What is due (and what a crashed worker left sending), claimed one by one. */
export const notificationSender: SubgraphWorker = {
  name: 'notifications',
  intervalMs: 1_000,
  async step(deps) {
    const sender = senderOf(deps);
    if (!sender) return 0;
    const now = new Date();
    const free = { OR: [{ heldUntil: null }, { heldUntil: { lte: now } }] };
    const due = await deps.prisma.notification.findMany({ where: { AND: [free, { OR: [{ status: 'SCHEDULED', sendAt: { lte: now } }, { status: 'SENDING' }] }] }, orderBy: { sendAt: 'asc' }, take: 20 });
    let sent = 0;
    for (const row of due) {
      const claimed = await deps.prisma.notification.updateMany({ where: { id: row.id, status: row.status, attempts: row.attempts, AND: [free] }, data: { status: 'SENDING', heldUntil: new Date(Date.now() + LEASE_MS), attempts: { increment: 1 } } });
      if (claimed.count === 0) continue;
      await deliver(deps, sender, { ...row, attempts: row.attempts + 1 });
      sent += 1;
    }
    return sent;
  },
};

// ---------------------------------------------------------------- Twilio's callbacks

const RANK: Partial<Record<NotificationStatus, number>> = { SENDING: 0, QUEUED: 1, SENT: 2, DELIVERED: 3 };
const TWILIO_STATUS: Record<string, NotificationStatus> = { accepted: 'QUEUED', queued: 'QUEUED', sending: 'QUEUED', sent: 'SENT', delivered: 'DELIVERED', read: 'DELIVERED', undelivered: 'UNDELIVERED', failed: 'FAILED' };

function verifiedParams(deps: SubgraphDeps, request: Parameters<SubgraphRoute['handle']>[0], path: string): Record<string, string> | null {
  const sender = senderOf(deps);
  const params = Object.fromEntries(new URLSearchParams(request.body.toString('utf8')));
  const signature = request.headers['x-twilio-signature'];
  return sender?.verifyTwilio({ signature: typeof signature === 'string' ? signature : undefined, url: `${publicBaseUrl(deps)}${path}`, params }) ? params : null;
}

/**
 * `POST /webhooks/twilio/messaging` (public): a message's status from Twilio. 403 without a
 * valid signature (nothing stored). Statuses only move forward; a message undelivered or failed
 * is sent again while attempts remain, then reported.
 */
export const messagingStatusRoute: SubgraphRoute = {
  method: 'POST',
  path: STATUS_PATH,
  public: true,
  async handle(request, deps) {
    const params = verifiedParams(deps, request, STATUS_PATH);
    if (!params) return errorResponse('FORBIDDEN', 'The callback does not carry a valid Twilio signature');
    const status = TWILIO_STATUS[params['MessageStatus'] ?? ''];
    const sid = params['MessageSid'];
    if (!status || !sid) return errorResponse('BAD_REQUEST', 'MessageSid and a known MessageStatus are required');
    const row = await deps.prisma.notification.findUnique({ where: { providerId: sid } });
    // A message CareGraph does not know, or one already sent again under a new id: acknowledged.
    if (!row) return { status: 200, body: { applied: false } };
    if (status === 'UNDELIVERED' || status === 'FAILED') {
      const { count } = await deps.prisma.notification.updateMany({ where: { id: row.id, providerId: sid, status: { in: ['QUEUED', 'SENT'] } }, data: { status } });
      if (count > 0) await failOrRetry(deps, row, `Twilio reported the message ${status.toLowerCase()} (${params['ErrorCode'] ?? 'no code'})`, row.attempts >= (settingsOf(deps).maxAttempts ?? 4), status);
      return { status: 200, body: { applied: count > 0 } };
    }
    const forward = Object.entries(RANK).filter(([, rank]) => (rank ?? 0) < (RANK[status] ?? 0)).map(([name]) => name as NotificationStatus);
    const { count } = await deps.prisma.notification.updateMany({ where: { id: row.id, providerId: sid, status: { in: forward } }, data: { status, ...(status === 'DELIVERED' ? { deliveredAt: new Date() } : {}) } });
    return { status: 200, body: { applied: count > 0 } };
  },
};

/** `POST /webhooks/twilio/inbound` (public): a patient's reply. STOP (and its synonyms) opts the number out of that channel; START opts it back in. */
export const messagingInboundRoute: SubgraphRoute = {
  method: 'POST',
  path: INBOUND_PATH,
  public: true,
  async handle(request, deps) {
    const params = verifiedParams(deps, request, INBOUND_PATH);
    if (!params) return errorResponse('FORBIDDEN', 'The message does not carry a valid Twilio signature');
    const from = params['From'] ?? '';
    const word = (params['Body'] ?? '').trim().toUpperCase();
    const channel: NotificationChannel = from.startsWith('whatsapp:') ? 'WHATSAPP' : 'SMS';
    const key = { channel, addressDigest: addressDigest(from.replace(/^whatsapp:/, '')) };
    if (STOP_WORDS.has(word)) await deps.prisma.notificationOptOut.upsert({ where: { channel_addressDigest: key }, create: key, update: {} });
    else if (START_WORDS.has(word)) await deps.prisma.notificationOptOut.deleteMany({ where: key });
    return { status: 200, body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', headers: { 'content-type': 'text/xml; charset=utf-8' } };
  },
};

// ---------------------------------------------------------------- reading, and the organization's wording

export function notificationsOfPatient(ctx: Ctx, patientId: string): Promise<Notification[]> {
  requireOwnOrStaff(ctx.identity, patientId, NOTIFICATION_READERS, 'messages');
  return ctx.db.notification.findMany({ where: { patientId }, orderBy: [{ sendAt: 'desc' }, { id: 'asc' }], take: 100 });
}

export function templatesOf(ctx: Ctx): Promise<NotificationTemplate[]> {
  requireStaffOf(ctx.identity, [Role.ADMIN], 'Administrators manage their organization’s messages');
  return ctx.db.notificationTemplate.findMany({ orderBy: [{ kind: 'asc' }, { channel: 'asc' }] });
}

export async function setTemplate(ctx: Ctx, input: { kind: string; channel: NotificationChannel; subject: string | null; body: string }): Promise<NotificationTemplate> {
  const caller = requireStaffOf(ctx.identity, [Role.ADMIN], 'Administrators manage their organization’s messages');
  const problems = new InputProblems();
  problems.check((NOTIFICATION_KINDS as readonly string[]).includes(input.kind), 'input.kind', `must be one of ${NOTIFICATION_KINDS.join(', ')}`);
  problems.check(input.body.trim().length >= 1 && input.body.length <= (input.channel === 'EMAIL' ? 10_000 : 1_600), 'input.body', input.channel === 'EMAIL' ? 'must be 1-10000 characters' : 'must be 1-1600 characters (10 SMS segments)');
  if (input.channel === 'EMAIL') problems.check(!!input.subject && input.subject.length <= 200, 'input.subject', 'an email needs a subject of at most 200 characters');
  const unknown = [...input.body.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).filter((name) => !['firstName', 'organization', 'startsAt', 'joinUrl', 'bookUrl', 'amount'].includes(name ?? ''));
  if (unknown.length) throw badUserInput('input.body', `unknown placeholders: ${unknown.join(', ')}`);
  problems.throwIfAny();
  const data = { subject: input.subject, body: input.body };
  return ctx.db.notificationTemplate.upsert({
    where: { organizationId_kind_channel: { organizationId: caller.organizationId, kind: input.kind, channel: input.channel } },
    create: { organizationId: caller.organizationId, kind: input.kind, channel: input.channel, ...data }, update: data,
  });
}
