import { createHash } from 'node:crypto';
import type { DocumentReference } from 'fhir/r4.js';
import { documentReferenceOf as asDocumentReference } from './adapters/fhir.js';
import type { Prisma, SupportingDocument } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import { badUserInput, InputProblems } from '../kit/errors.js';
import { requireSignedIn, requireStaffOf } from '../kit/identity.js';
import type { DocumentToSend } from './adapters/payer.js';
import { readFhir } from './fhir/read.js';
import { INSURANCE_STAFF } from './policies.js';
import type { Ctx } from './service.js';

/**
 * Supporting documents: what a payer needs to see beside a claim, an authorization request or
 * an appeal (a discharge summary, an operative note, a referral). Staff upload a PDF, or give a
 * FHIR R4 DocumentReference (its content inline or by URL), for one patient; claims,
 * authorizations and appeals then cite documents of the same patient by id, and they leave with
 * them: inline in a FHIR Bundle or the HMO's JSON, as PWK attachment control numbers in an 837
 * (the content kept here for the payer's request). Documents are never changed once stored.
 */

/** Decoded bytes; base64 of this fits the gateway's 1 MB request limit. */
export const MAX_DOCUMENT_BYTES = 700_000;
export const MAX_DOCUMENTS = 10;
const PDF = 'application/pdf';

export interface DocumentInput {
  patientId: string;
  title: string;
  /** A PDF, base64. */
  pdfBase64: string | null;
  /** A FHIR R4 DocumentReference, as JSON text. */
  documentReference: string | null;
}

export function loadDocument(ctx: Ctx, id: string): Promise<SupportingDocument> {
  requireSignedIn(ctx.identity);
  return loadVisible<SupportingDocument>(ctx, 'SupportingDocument', id);
}

/** Documents by id, in the order asked, as far as the caller may see them. */
export async function documentsById(ctx: Pick<Ctx, 'db'>, ids: readonly string[]): Promise<SupportingDocument[]> {
  if (ids.length === 0) return [];
  const rows = await ctx.db.supportingDocument.findMany({ where: { id: { in: [...ids] } } });
  return ids.flatMap((id) => rows.filter((row) => row.id === id));
}

export async function uploadDocument(ctx: Ctx, input: DocumentInput): Promise<SupportingDocument> {
  const caller = requireStaffOf(ctx.identity, INSURANCE_STAFF, 'Only billing staff and administrators upload supporting documents');
  const title = input.title.trim();
  if (title.length < 1 || title.length > 200) throw badUserInput('input.title', 'must be 1-200 characters');
  if ((input.pdfBase64 === null) === (input.documentReference === null)) throw badUserInput('input', 'give either pdfBase64 or documentReference');
  const document = input.pdfBase64 !== null ? pdfDocument(input.pdfBase64, 'input.pdfBase64') : referencedDocument(input.documentReference as string);
  await ctx.directory.require('Patient', input.patientId, [caller.organizationId]);
  return ctx.db.supportingDocument.create({
    data: {
      organizationId: caller.organizationId, patientId: input.patientId, title, createdById: caller.subject,
      contentType: document.contentType, content: document.content ? Uint8Array.from(document.content) : null, url: document.url, size: document.size, sha256: document.sha256,
      documentReference: document.documentReference ?? undefined,
    },
  });
}

interface ReadDocument {
  contentType: string;
  content: Buffer | null;
  url: string | null;
  size: number;
  sha256: string;
  documentReference: Prisma.InputJsonValue | null;
}

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** Base64 that decodes to a PDF (its header and end-of-file marker) within the size limit. */
function pdfDocument(base64: string, field: string): ReadDocument {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) throw badUserInput(field, 'is not base64');
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0 || bytes.length > MAX_DOCUMENT_BYTES) throw badUserInput(field, `must be 1-${MAX_DOCUMENT_BYTES} bytes once decoded`);
  // %PDF-1.x at the start and %%EOF in the last kilobyte: a truncated upload is refused.
  if (!bytes.subarray(0, 8).toString('latin1').startsWith('%PDF-') || !bytes.subarray(-1024).toString('latin1').includes('%%EOF')) throw badUserInput(field, 'is not a whole PDF (no %PDF- header or no %%EOF)');
  return { contentType: PDF, content: bytes, url: null, size: bytes.length, sha256: sha256(bytes), documentReference: null };
}

/**
 * A DocumentReference checked at the boundary (R4 rules, then its first attachment): inline
 * data is decoded (and checked as a PDF when it says it is one), a URL is kept as given.
 */
function referencedDocument(text: string): ReadDocument {
  const read = readFhir(text);
  const problems = new InputProblems();
  for (const issue of read.issues.filter((candidate) => candidate.severity === 'error')) problems.add(`input.documentReference${issue.path ? `.${issue.path}` : ''}`, issue.message);
  problems.throwIfAny();
  if (read.resource?.resourceType !== 'DocumentReference') throw badUserInput('input.documentReference.resourceType', 'must be DocumentReference');
  const reference = read.resource as DocumentReference;
  const attachment = reference.content[0]?.attachment;
  if (reference.status !== 'current') throw badUserInput('input.documentReference.status', 'only a current document can support a claim');
  if (!attachment?.contentType) throw badUserInput('input.documentReference.content[0].attachment.contentType', 'is required');
  if (!attachment.data && !attachment.url) throw badUserInput('input.documentReference.content[0].attachment', 'needs data or a url');
  if (attachment.url && !/^https:\/\/[^\s]+$/.test(attachment.url) && !attachment.data) throw badUserInput('input.documentReference.content[0].attachment.url', 'must be an https URL');
  const json = JSON.parse(text) as Prisma.InputJsonValue;
  if (attachment.data) {
    const field = 'input.documentReference.content[0].attachment.data';
    const bytes = attachment.contentType === PDF ? pdfDocument(attachment.data, field).content as Buffer : Buffer.from(attachment.data, 'base64');
    if (bytes.length === 0 || bytes.length > MAX_DOCUMENT_BYTES) throw badUserInput(field, `must be 1-${MAX_DOCUMENT_BYTES} bytes once decoded`);
    return { contentType: attachment.contentType, content: bytes, url: null, size: bytes.length, sha256: sha256(bytes), documentReference: json };
  }
  return { contentType: attachment.contentType, content: null, url: attachment.url as string, size: attachment.size ?? 0, sha256: sha256(text), documentReference: json };
}

/**
 * The documents a claim, authorization or appeal cites: at most ten, each this patient's and
 * visible to the caller; otherwise a precise error naming the one that is not.
 */
export async function checkDocuments(ctx: Pick<Ctx, 'db'>, patientId: string, ids: readonly string[], field: string): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (unique.length > MAX_DOCUMENTS) throw badUserInput(field, `at most ${MAX_DOCUMENTS} documents`);
  const found = await documentsById(ctx, unique);
  const problems = new InputProblems();
  unique.forEach((id, index) => {
    const document = found.find((row) => row.id === id);
    if (!document) problems.add(`${field}[${index}]`, `no document ${id}`);
    else if (document.patientId !== patientId) problems.add(`${field}[${index}]`, 'is another patient’s document');
  });
  problems.throwIfAny();
  return unique;
}

/** Documents as they leave for a payer. */
export function toSend(documents: readonly SupportingDocument[]): DocumentToSend[] {
  return documents.map((document) => ({
    id: document.id, title: document.title, contentType: document.contentType, size: document.size, sha256: document.sha256,
    data: document.content ? Buffer.from(document.content).toString('base64') : null, url: document.url,
  }));
}

/** A stored document as an R4 DocumentReference, without its content (shown, not sent). */
export function documentReferenceOf(document: SupportingDocument): DocumentReference {
  return asDocumentReference({ ...(toSend([document])[0] as DocumentToSend), data: null }, false);
}
