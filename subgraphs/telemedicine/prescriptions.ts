import { randomUUID } from 'node:crypto';
import QRCode from 'qrcode';
import type { Prescription } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import type { SubgraphDeps } from '../kit/context.js';
import { conflict, domainError, forbidden, InputProblems } from '../kit/errors.js';
import { TelemedicineEvents } from '../kit/events/telemedicine.js';
import { requireOwnOrStaff, requireSignedIn, Role } from '../kit/identity.js';
import { recordEvent } from '../kit/outbox.js';
import type { SubgraphRoute } from '../kit/subgraph.js';
import type { DocumentSigner } from '../kit/tokens.js';
import { loadConsultation } from './consultations.js';
import { TELE_STAFF } from './policies.js';
import type { Ctx } from './service.js';

/**
 * E-prescriptions. The consultation's clinician issues one during or after it; the platform
 * signs it as a compact JWS (its key, issuer `…/documents`, audience `caregraph-rx`, type
 * `rx+jwt`) holding only what the paper shows — medication, dose, quantity, refills, dates —
 * never the patient's name. The QR code carries the token; `GET /rx/verify?token=…` (public)
 * says VALID, REVOKED, EXPIRED, UNKNOWN (signed by us, not on record) or INVALID (tampered,
 * forged), and for a signed one repeats what the token itself says, nothing more. Revocation
 * is the prescriber's or an administrator's; the pharmacy hears of both through events.
 */
export const RX_AUDIENCE = 'caregraph-rx';
export const RX_TYPE = 'rx+jwt';
const DEFAULT_VALID_DAYS = 30;

export interface PrescriptionInput {
  medication: string;
  dose: string;
  quantity: number;
  refills: number;
  instructions: string | null;
  validDays: number | null;
}

function signer(deps: Pick<SubgraphDeps, 'documents'>): DocumentSigner {
  if (!deps.documents) throw domainError('SERVICE_UNAVAILABLE', 'This process has no signing key: prescriptions cannot be signed here');
  return deps.documents;
}

function checkInput(input: PrescriptionInput): void {
  const problems = new InputProblems();
  const text = (value: string, field: string, max: number) => problems.check(value.trim().length >= 1 && value.trim().length <= max, field, `must be 1-${max} characters`);
  text(input.medication, 'input.medication', 200);
  text(input.dose, 'input.dose', 200);
  problems.check(Number.isInteger(input.quantity) && input.quantity >= 1 && input.quantity <= 1_000, 'input.quantity', 'must be 1-1000');
  problems.check(Number.isInteger(input.refills) && input.refills >= 0 && input.refills <= 12, 'input.refills', 'must be 0-12');
  if (input.instructions !== null) problems.check(input.instructions.length <= 1_000, 'input.instructions', 'at most 1000 characters');
  if (input.validDays !== null) problems.check(Number.isInteger(input.validDays) && input.validDays >= 1 && input.validDays <= 365, 'input.validDays', 'must be 1-365');
  problems.throwIfAny();
}

export async function issuePrescription(ctx: Ctx, consultationId: string, input: PrescriptionInput): Promise<Prescription> {
  const caller = requireSignedIn(ctx.identity);
  const consultation = await loadConsultation(ctx, consultationId);
  if (caller.role !== Role.CLINICIAN || caller.subject !== consultation.clinicianId) throw forbidden('The consultation’s clinician prescribes');
  if (!['IN_PROGRESS', 'COMPLETED'].includes(consultation.status)) throw conflict('Prescriptions are issued during or after the consultation');
  checkInput(input);
  const id = randomUUID();
  const issuedAt = new Date();
  const expiresAt = new Date(issuedAt.getTime() + (input.validDays ?? DEFAULT_VALID_DAYS) * 86_400_000);
  const rx = { medication: input.medication.trim(), dose: input.dose.trim(), quantity: input.quantity, refills: input.refills };
  const token = await signer(ctx).sign({ rx }, { type: RX_TYPE, audience: RX_AUDIENCE, id, expiresAt });
  return ctx.db.$transaction(async (tx) => {
    const created = await tx.prescription.create({
      data: { id, organizationId: consultation.organizationId, consultationId, patientId: consultation.patientId, prescriberId: caller.subject, ...rx, instructions: input.instructions?.trim() || null, token, issuedAt, expiresAt },
    });
    await recordEvent(tx, TelemedicineEvents.prescriptionIssued, {
      aggregateId: id, organizationId: created.organizationId,
      payload: { prescriptionId: id, consultationId, organizationId: created.organizationId, patientId: created.patientId, prescriberId: caller.subject, quantity: rx.quantity, refills: rx.refills, expiresAt: expiresAt.toISOString() },
    });
    return created;
  });
}

export async function revokePrescription(ctx: Ctx, id: string, reason: string): Promise<Prescription> {
  const caller = requireSignedIn(ctx.identity);
  const current = await loadVisible<Prescription>(ctx, 'Prescription', id);
  if (!(caller.role === Role.ADMIN || (caller.role === Role.CLINICIAN && caller.subject === current.prescriberId))) throw forbidden('The prescriber or an administrator revokes a prescription');
  const problems = new InputProblems();
  problems.check(reason.trim().length >= 3 && reason.trim().length <= 500, 'reason', 'must be 3-500 characters');
  problems.throwIfAny();
  return ctx.db.$transaction(async (tx) => {
    const { count } = await tx.prescription.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date(), revokedReason: reason.trim() } });
    if (count === 0) throw conflict('The prescription is already revoked');
    await recordEvent(tx, TelemedicineEvents.prescriptionRevoked, { aggregateId: id, organizationId: current.organizationId, payload: { prescriptionId: id, organizationId: current.organizationId, patientId: current.patientId } });
    return tx.prescription.findUniqueOrThrow({ where: { id } });
  });
}

export function loadPrescription(ctx: Ctx, id: string): Promise<Prescription> {
  requireSignedIn(ctx.identity);
  return loadVisible<Prescription>(ctx, 'Prescription', id);
}

export function prescriptionsOfConsultation(ctx: Ctx, consultationId: string): Promise<Prescription[]> {
  return ctx.db.prescription.findMany({ where: { consultationId }, orderBy: [{ issuedAt: 'asc' }, { id: 'asc' }] });
}

export function prescriptionsOfPatient(ctx: Ctx, patientId: string): Promise<Prescription[]> {
  requireOwnOrStaff(ctx.identity, patientId, TELE_STAFF, 'prescriptions');
  return ctx.db.prescription.findMany({ where: { patientId }, orderBy: [{ issuedAt: 'desc' }, { id: 'asc' }], take: 100 });
}

/** The QR code of the token, as SVG text or a PNG (medium error correction: survives a crease). */
export const qrSvg = (prescription: Pick<Prescription, 'token'>): Promise<string> => QRCode.toString(prescription.token, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
export const qrPng = async (prescription: Pick<Prescription, 'token'>): Promise<Buffer> => QRCode.toBuffer(prescription.token, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 4 });

export type RxStatus = 'VALID' | 'REVOKED' | 'EXPIRED' | 'UNKNOWN' | 'INVALID';
export interface RxCheck {
  status: RxStatus;
  /** What the paper shows (from the token), for a token the platform signed. */
  prescription?: { id: string; medication: string; dose: string; quantity: number; refills: number; issuedAt: string; expiresAt: string };
}

/** What a token is worth now: signature, record, revocation, expiry. */
export async function checkPrescriptionToken(deps: Pick<SubgraphDeps, 'documents' | 'prisma'>, token: string): Promise<RxCheck & { record: Prescription | null }> {
  const checked = await signer(deps).verify(token, { type: RX_TYPE, audience: RX_AUDIENCE });
  if (checked.status === 'invalid' || typeof checked.payload.jti !== 'string') return { status: 'INVALID', record: null };
  const record = await deps.prisma.prescription.findUnique({ where: { id: checked.payload.jti } });
  if (!record || record.token !== token) return { status: 'UNKNOWN', record: null };
  const rx = checked.payload['rx'] as { medication: string; dose: string; quantity: number; refills: number };
  const shown = { id: record.id, ...rx, issuedAt: new Date((checked.payload.iat ?? 0) * 1_000).toISOString(), expiresAt: new Date((checked.payload.exp ?? 0) * 1_000).toISOString() };
  const status: RxStatus = record.revokedAt ? 'REVOKED' : checked.status === 'expired' || record.expiresAt <= new Date() ? 'EXPIRED' : 'VALID';
  return { status, prescription: shown, record };
}

/** `GET /rx/verify?token=…` (public, no credential): the token's status, and what its paper shows. Never the patient. */
export const rxVerifyRoute: SubgraphRoute = {
  method: 'GET',
  path: '/rx/verify',
  public: true,
  async handle(request, deps) {
    const token = request.url.searchParams.get('token') ?? '';
    if (!token || token.length > 4_000) return { status: 400, body: { status: 'INVALID' }, headers: { 'cache-control': 'no-store' } };
    const { record: _record, ...check } = await checkPrescriptionToken(deps, token);
    return { status: 200, body: check, headers: { 'cache-control': 'no-store' } };
  },
};
