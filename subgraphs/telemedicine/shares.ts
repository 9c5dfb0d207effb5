import { createHash, randomBytes } from 'node:crypto';
import type { Bundle, BundleEntry, Condition, Encounter, MedicationRequest } from 'fhir/r4.js';
import type { Consultation, Prescription, RecordShare } from '../../prisma/generated/client/client.js';
import { audit } from '../kit/audit.js';
import { publicBaseUrl, type SubgraphDeps } from '../kit/context.js';
import { badUserInput, conflict, forbidden, notFound } from '../kit/errors.js';
import { ANONYMOUS, requireSignedIn, Role } from '../kit/identity.js';
import type { SubgraphRoute } from '../kit/subgraph.js';
import type { Ctx } from './service.js';

/**
 * A patient shares their record for a limited time: a link (its secret shown once, only its
 * hash kept) to a summary of their consultations (with the clinician's report) and
 * prescriptions, as a printable HTML page and as a FHIR R4 Bundle. At most 7 days; revocable;
 * every opening audited (the share, and each record shown). Expired or revoked, the link
 * answers 410 and shows nothing; an unknown one 404.
 */
const MAX_HOURS = 7 * 24;
const SHARE_PATH = '/share/:token';
const hashOf = (secret: string): string => createHash('sha256').update(secret).digest('hex');

function requirePatient(ctx: Ctx, patientId: string) {
  const caller = requireSignedIn(ctx.identity);
  if (caller.role !== Role.PATIENT || caller.patientId !== patientId || !caller.organizationId) throw forbidden('Patients share their own record');
  return { ...caller, organizationId: caller.organizationId };
}

export async function createRecordShare(ctx: Ctx, patientId: string, hours: number): Promise<{ share: RecordShare; url: string }> {
  const caller = requirePatient(ctx, patientId);
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_HOURS) throw badUserInput('hours', `must be 1-${MAX_HOURS} (7 days at most)`);
  const secret = randomBytes(32).toString('base64url');
  const share = await ctx.db.recordShare.create({
    data: { organizationId: caller.organizationId, patientId, createdById: caller.subject, tokenHash: hashOf(secret), expiresAt: new Date(Date.now() + hours * 3_600_000) },
  });
  return { share, url: `${publicBaseUrl(ctx)}/share/${secret}` };
}

export async function revokeRecordShare(ctx: Ctx, id: string): Promise<RecordShare> {
  requireSignedIn(ctx.identity);
  const share = await ctx.db.recordShare.findFirst({ where: { id } });
  if (!share) throw notFound('RecordShare');
  requirePatient(ctx, share.patientId);
  const { count } = await ctx.db.recordShare.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  if (count === 0) throw conflict('The link is already revoked');
  return ctx.db.recordShare.findFirstOrThrow({ where: { id } });
}

export function sharesOfPatient(ctx: Ctx, patientId: string): Promise<RecordShare[]> {
  requirePatient(ctx, patientId);
  return ctx.db.recordShare.findMany({ where: { patientId }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] });
}

type Opened = { share: RecordShare; consultations: Consultation[]; prescriptions: Prescription[] };

/** The share behind a link, if it is still open: counted and audited (the share and every record shown). */
async function open(deps: SubgraphDeps, secret: string): Promise<Opened | 'gone' | 'unknown'> {
  const share = await deps.prisma.recordShare.findUnique({ where: { tokenHash: hashOf(secret) } });
  if (!share) return 'unknown';
  if (share.revokedAt || share.expiresAt <= new Date()) return 'gone';
  return deps.prisma.$transaction(async (tx) => {
    // Conditional: a link that expires or is revoked meanwhile shows nothing.
    const { count } = await tx.recordShare.updateMany({ where: { id: share.id, revokedAt: null, expiresAt: { gt: new Date() } }, data: { accessCount: { increment: 1 } } });
    if (count === 0) return 'gone';
    const consultations = await tx.consultation.findMany({ where: { patientId: share.patientId, status: { in: ['COMPLETED', 'IN_PROGRESS', 'SCHEDULED', 'WAITING'] } }, orderBy: { startsAt: 'desc' }, take: 50 });
    const prescriptions = await tx.prescription.findMany({ where: { patientId: share.patientId }, orderBy: { issuedAt: 'desc' }, take: 100 });
    const reason = `shared record link ${share.id}`;
    await audit(tx, ANONYMOUS, { source: 'telemedicine', action: 'read', entityType: 'RecordShare', entityIds: [share.id], reason });
    await audit(tx, ANONYMOUS, { source: 'telemedicine', action: 'read', entityType: 'Consultation', entityIds: consultations.map((c) => c.id), reason });
    await audit(tx, ANONYMOUS, { source: 'telemedicine', action: 'read', entityType: 'Prescription', entityIds: prescriptions.map((p) => p.id), reason });
    return { share, consultations, prescriptions };
  });
}

interface Diagnosis { code?: string; display: string }
const diagnosesOf = (c: Consultation): Diagnosis[] => (Array.isArray(c.diagnoses) ? (c.diagnoses as unknown as Diagnosis[]) : []);

/** The summary as an R4 collection Bundle: an Encounter per consultation (virtual), its Conditions, a MedicationRequest per prescription. */
export function summaryBundle(opened: Opened): Bundle {
  const patient = { reference: `Patient/${opened.share.patientId}` };
  const entries: BundleEntry[] = [];
  for (const c of opened.consultations) {
    const encounter: Encounter = {
      resourceType: 'Encounter', id: c.id, status: c.status === 'COMPLETED' ? 'finished' : c.status === 'IN_PROGRESS' ? 'in-progress' : 'planned',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' }, subject: patient,
      period: { start: (c.startedAt ?? c.startsAt).toISOString(), end: (c.endedAt ?? c.endsAt).toISOString() },
      ...(c.reportNotes ? { text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${escapeHtml(c.reportNotes)}</div>` } } : {}),
    };
    entries.push({ fullUrl: `urn:uuid:${c.id}`, resource: encounter });
    diagnosesOf(c).forEach((d, index) => {
      const condition: Condition = {
        resourceType: 'Condition', id: `${c.id}-dx-${index + 1}`, subject: patient, encounter: { reference: `Encounter/${c.id}` },
        code: { ...(d.code ? { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: d.code, display: d.display }] } : {}), text: d.display },
      };
      entries.push({ fullUrl: `urn:uuid:${c.id}-dx-${index + 1}`, resource: condition });
    });
  }
  for (const p of opened.prescriptions) {
    const request: MedicationRequest = {
      resourceType: 'MedicationRequest', id: p.id, status: p.revokedAt ? 'cancelled' : p.expiresAt <= new Date() ? 'stopped' : 'active', intent: 'order', subject: patient,
      encounter: { reference: `Encounter/${p.consultationId}` }, authoredOn: p.issuedAt.toISOString(), medicationCodeableConcept: { text: p.medication },
      dosageInstruction: [{ text: [p.dose, p.instructions].filter(Boolean).join('. ') }],
      dispenseRequest: { quantity: { value: p.quantity }, numberOfRepeatsAllowed: p.refills, validityPeriod: { start: p.issuedAt.toISOString(), end: p.expiresAt.toISOString() } },
    };
    entries.push({ fullUrl: `urn:uuid:${p.id}`, resource: request });
  }
  return { resourceType: 'Bundle', type: 'collection', timestamp: new Date().toISOString(), entry: entries };
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
const day = (date: Date): string => date.toISOString().slice(0, 16).replace('T', ' ');

/** A printable page: consultations with their reports, then prescriptions. */
export function summaryHtml(opened: Opened): string {
  const consultations = opened.consultations.map((c) => `<tr><td>${day(c.startsAt)} UTC</td><td>${escapeHtml(c.status.toLowerCase().replace('_', ' '))}</td><td>${escapeHtml(c.reportNotes ?? '')}</td><td>${diagnosesOf(c).map((d) => escapeHtml(d.display)).join('<br>')}</td></tr>`).join('');
  const prescriptions = opened.prescriptions.map((p) => `<tr><td>${day(p.issuedAt)} UTC</td><td>${escapeHtml(p.medication)}</td><td>${escapeHtml(p.dose)}</td><td>${p.quantity}</td><td>${p.refills}</td><td>${p.revokedAt ? 'revoked' : p.expiresAt <= new Date() ? 'expired' : 'active'}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Shared health record</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#111}table{border-collapse:collapse;width:100%;margin-bottom:2rem}td,th{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}@media print{a{display:none}}</style></head>
<body><h1>Shared health record</h1><p>Shared by the patient until ${day(opened.share.expiresAt)} UTC. Every opening of this page is recorded.</p>
<h2>Consultations</h2><table><tr><th>When</th><th>Status</th><th>Report</th><th>Diagnoses</th></tr>${consultations || '<tr><td colspan="4">None</td></tr>'}</table>
<h2>Prescriptions</h2><table><tr><th>Issued</th><th>Medication</th><th>Dose</th><th>Quantity</th><th>Refills</th><th>Status</th></tr>${prescriptions || '<tr><td colspan="6">None</td></tr>'}</table>
</body></html>`;
}

const GONE = { status: 410, body: { errors: [{ message: 'This link has expired or was revoked', extensions: { code: 'GONE' } }] }, headers: { 'cache-control': 'no-store' } };
const UNKNOWN = { status: 404, body: { errors: [{ message: 'No such link', extensions: { code: 'NOT_FOUND' } }] }, headers: { 'cache-control': 'no-store' } };

/** `GET /share/:token` (public): the printable page. */
export const sharePageRoute: SubgraphRoute = {
  method: 'GET',
  path: SHARE_PATH,
  public: true,
  async handle(request, deps) {
    const opened = await open(deps, request.params['token'] ?? '');
    if (opened === 'gone') return GONE;
    if (opened === 'unknown') return UNKNOWN;
    return { status: 200, body: summaryHtml(opened), headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-robots-tag': 'noindex', 'referrer-policy': 'no-referrer' } };
  },
};

/** `GET /share/:token/fhir` (public): the same summary as a FHIR R4 Bundle. */
export const shareFhirRoute: SubgraphRoute = {
  method: 'GET',
  path: `${SHARE_PATH}/fhir`,
  public: true,
  async handle(request, deps) {
    const opened = await open(deps, request.params['token'] ?? '');
    if (opened === 'gone') return GONE;
    if (opened === 'unknown') return UNKNOWN;
    return { status: 200, body: JSON.stringify(summaryBundle(opened)), headers: { 'content-type': 'application/fhir+json; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } };
  },
};
