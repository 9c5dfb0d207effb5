import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build271, build277, build277CA, build999 } from '../../subgraphs/insurance/x12/build.js';
import { generateInterchange } from '../../subgraphs/insurance/x12/generate.js';
import { parseX12, transactionsOf } from '../../subgraphs/insurance/x12/parse.js';
import type { ClaimsView, EligibilityView, StatusView } from '../../subgraphs/insurance/x12/views.js';

/**
 * Local payers for tests, one HTTP server each, speaking what real payers speak: an X12 5010
 * real-time endpoint (270 in, 271 out), a FHIR R4 server (CoverageEligibilityRequest/$submit
 * → CoverageEligibilityResponse) and an HMO's private JSON API. Each knows a few synthetic
 * members, counts what it is asked, and can be told to fail: down (503), slow, malformed, or
 * refusing the credentials.
 */
export interface FakeMember {
  memberId: string;
  plan: string;
  active: boolean;
  /** Amounts as the payer writes them, in major units ("1500.50"). */
  copay?: string;
  coinsurancePercent?: string;
  deductibleRemaining?: string;
}

export type FakeMode = 'ok' | 'down' | 'slow' | 'malformed' | 'reject-all';

/** A claim as the fake payer received it. */
export interface ReceivedClaim {
  claimId: string;
  memberId: string;
  totalCharge: string;
  accepted: boolean;
  payerClaimNumber: string | null;
  /** How it came: an 837P or 837I, a FHIR Claim of that type, the HMO's JSON. */
  kind: 'professional' | 'institutional';
  /** The payer's number of the claim it replaces (REF*F8, Claim.related, originalPayerClaimNumber). */
  replaces: string | null;
  /** The supporting documents that came with it: ids (X12 PWK), titles with their bytes (FHIR, JSON). */
  documents: Array<{ id: string; title: string | null; bytes: number | null }>;
}

/** An appeal as the fake payer received it. */
export interface ReceivedAppeal {
  appealId: string;
  claimId: string;
  reference: string;
  reason: string;
  documents: Array<{ title: string | null; bytes: number | null }>;
}

export class FakePayer {
  readonly requests: Array<{ path: string; body: string; headers: IncomingMessage['headers'] }> = [];
  /** Every claim received, in order (rejected ones too). */
  readonly claims: ReceivedClaim[] = [];
  /** Pre-authorization requests received: approved for members it knows. */
  readonly authorizations: Array<{ requestId: string; memberId: string; approved: boolean; authCode: string | null; body: string; documents: number }> = [];
  readonly appeals: ReceivedAppeal[] = [];

  private appeal(appeal: Omit<ReceivedAppeal, 'reference'>): string {
    const reference = `${this.protocol}-APPEAL-${this.appeals.length + 1}`;
    this.appeals.push({ ...appeal, reference });
    return reference;
  }

  private authorize(requestId: string, memberId: string, body: string, documents: number): { approved: boolean; authCode: string | null } {
    const approved = this.members.has(memberId);
    const authCode = approved ? `${this.protocol}-AUTH-${this.authorizations.length + 1}` : null;
    this.authorizations.push({ requestId, memberId, approved, authCode, body, documents });
    return { approved, authCode };
  }
  mode: FakeMode = 'ok';
  /** Its provider directory: who is in network where, in which tier. */
  network: Array<{ providerNumber: string; name: string; tier: 'Premium' | 'Standard' | 'Teaching'; location: string }> = [];
  slowMs = 2_000;
  baseUrl = '';
  private server: Server | undefined;
  private readonly members = new Map<string, FakeMember>();

  constructor(readonly protocol: 'X12' | 'FHIR' | 'REST', members: FakeMember[], readonly apiKey = 'fake-key') {
    for (const member of members) this.members.set(member.memberId, member);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ path: req.url ?? '', body, headers: req.headers });
        const answer = () => this.answer(req, res, body);
        if (this.mode === 'down') res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance');
        else if (this.mode === 'slow') setTimeout(answer, this.slowMs);
        else answer();
      });
    });
    await new Promise<void>((done) => this.server?.listen(0, '127.0.0.1', done));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }

  private answer(req: IncomingMessage, res: ServerResponse, body: string): void {
    if (res.destroyed) return;
    const presented = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer /, '');
    if (presented !== this.apiKey) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid credentials"}');
      return;
    }
    if (this.protocol === 'X12') this.x12(req, res, body);
    else if (this.protocol === 'FHIR') this.fhir(req, res, body);
    else this.rest(req, res, body);
  }

  /**
   * Claims are accepted for members it knows and rejected (A7:562, entity not found) for others;
   * a claim whose principal diagnosis is R69 (illness, unspecified) is rejected too (A7:254).
   */
  private judge(claimId: string, memberId: string, totalCharge: string, principal: string | undefined, how: Pick<ReceivedClaim, 'kind' | 'replaces' | 'documents'>): ReceivedClaim {
    const accepted = this.mode !== 'reject-all' && this.members.has(memberId) && principal !== 'R69';
    const received = { claimId, memberId, totalCharge, accepted, payerClaimNumber: accepted ? `${this.protocol}-PCN-${this.claims.length + 1}` : null, ...how };
    this.claims.push(received);
    return received;
  }

  /** Every 837 group of the interchange: a 999 for each, and one 277CA for the claims of the groups it accepted. */
  private x12Claims(res: ServerResponse, body: string): void {
    const document = parseX12(body);
    const groups = (document.interchanges[0]?.groups ?? []).filter((group) => group.transactions.some((transaction) => transaction.view.kind === 'claims'));
    if (groups.length === 0) return void res.writeHead(400).end('no 837');
    const valid = document.valid;
    const judged = valid ? groups.flatMap((group) => group.transactions.flatMap((transaction) => {
      const view = transaction.view as ClaimsView;
      return view.claims.map((claim) => this.judge(claim.claimId, claim.subscriber?.id ?? '', claim.totalCharge, claim.diagnoses[0]?.code, {
        kind: view.variant === 'institutional' ? 'institutional' : 'professional', replaces: claim.originalReference ?? null, documents: claim.attachments.map((id) => ({ id, title: null, bytes: null })),
      }));
    })) : [];
    const firstView = groups[0]?.transactions[0]?.view as ClaimsView;
    const org = (name: string, id: string) => ({ name, id, idQualifier: '46' });
    const text = generateInterchange({
      sender: { qualifier: 'ZZ', id: 'FAKEPAYER' }, receiver: { qualifier: 'ZZ', id: 'CAREGRAPH' }, date: '261205', time: '1200', controlNumber: '78', usage: 'P', acknowledgmentRequested: false,
      groups: [
        ...groups.map((group, index) => ({ functionalId: 'FA', senderCode: 'FAKEPAYER', receiverCode: 'CAREGRAPH', date: '20261205', time: '1200', controlNumber: String(78 + index * 10), version: '005010X231A1', transactions: [build999({
          controlNumber: '0001', group: { functionalId: group.functionalId, controlNumber: group.controlNumber, version: group.version },
          transactions: group.transactions.map((transaction) => ({ type: '837', controlNumber: transaction.controlNumber, implementation: transaction.implementation, code: valid ? 'A' as const : 'R' as const, ...(valid ? {} : { errors: [{ segmentId: 'SE', position: '1', code: '8' }] }) })),
        })] })),
        ...(valid ? [{ functionalId: 'HN', senderCode: 'FAKEPAYER', receiverCode: 'CAREGRAPH', date: '20261205', time: '1200', controlNumber: '79', version: '005010X214', transactions: [build277CA({
          controlNumber: '0002', reference: groups[0]?.controlNumber ?? '1', createdDate: '20261205',
          payer: org('FAKE X12 PAYER', 'FAKEPAYER'), submitter: org('CAREGRAPH', 'CAREGRAPH'), provider: { name: firstView.billingProvider?.name ?? 'PROVIDER', id: firstView.billingProvider?.id ?? '0', idQualifier: 'XX' },
          claims: judged.map((claim) => ({
            patientControlNumber: claim.claimId, patient: { lastName: 'MEMBER', firstName: 'X', memberId: claim.memberId },
            category: claim.accepted ? 'A2' : 'A7', code: claim.accepted ? '20' : this.members.has(claim.memberId) ? '254' : '562', charge: claim.totalCharge,
            ...(claim.payerClaimNumber ? { payerClaimNumber: claim.payerClaimNumber } : {}),
          })),
        })] }] : []),
      ],
    });
    res.writeHead(200, { 'content-type': 'application/edi-x12' }).end(text);
  }

  /** What it knows of a claim: received and accepted ones are pending review (P1:1); others are not found (A4:35). */
  private statusOf(claimId: string): { category: string; code: string; payerClaimNumber: string | null; message: string } {
    const claim = this.claims.find((candidate) => candidate.claimId === claimId);
    if (!claim) return { category: 'A4', code: '35', payerClaimNumber: null, message: 'CLAIM NOT FOUND' };
    if (!claim.accepted) return { category: 'A3', code: '21', payerClaimNumber: null, message: 'CLAIM REJECTED' };
    return { category: 'P1', code: '1', payerClaimNumber: claim.payerClaimNumber, message: 'IN REVIEW' };
  }

  private x12Status(res: ServerResponse, body: string): void {
    const view = transactionsOf(parseX12(body))[0]?.view as StatusView | undefined;
    if (view?.kind !== 'status' || view.direction !== 'request') return void res.writeHead(400).end('no 276');
    const asked = view.levels.filter((level) => level.levelCode === '22');
    const text = generateInterchange({
      sender: { qualifier: 'ZZ', id: 'FAKEPAYER' }, receiver: { qualifier: 'ZZ', id: 'CAREGRAPH' }, date: '261205', time: '1200', controlNumber: '80', usage: 'P', acknowledgmentRequested: false,
      groups: [{ functionalId: 'HN', senderCode: 'FAKEPAYER', receiverCode: 'CAREGRAPH', date: '20261205', time: '1200', controlNumber: '80', version: '005010X212', transactions: [build277({
        controlNumber: '0001', reference: 'STATUS', createdDate: '20261205',
        payer: { name: 'FAKE X12 PAYER', id: 'FAKEPAYER', idQualifier: 'PI' }, provider: { name: 'PROVIDER', id: '0', idQualifier: 'XX' },
        claims: asked.map((level) => {
          const claimId = level.traces[0] ?? '';
          const status = this.statusOf(claimId);
          return { patientControlNumber: claimId, subscriber: { lastName: level.entity?.name ?? '', firstName: level.entity?.firstName ?? '', memberId: level.entity?.id ?? '' }, payerClaimNumber: status.payerClaimNumber, category: status.category, code: status.code, amount: level.amount ?? '0', message: status.message };
        }),
      })] }],
    });
    res.writeHead(200, { 'content-type': 'application/edi-x12' }).end(text);
  }

  private x12(req: IncomingMessage, res: ServerResponse, body: string): void {
    if (req.method !== 'POST' || req.url !== '/x12') return void res.writeHead(404).end();
    if (/GS\*HC\*/.test(body)) return this.x12Claims(res, body);
    if (/GS\*HR\*/.test(body)) return this.x12Status(res, body);
    const inquiry = transactionsOf(parseX12(body)).map((t) => t.view).find((view): view is EligibilityView => view.kind === 'eligibility');
    if (!inquiry?.subscriber?.id) return void res.writeHead(400).end('no 270');
    const member = this.members.get(inquiry.subscriber.id);
    const fraction = (percent: string | undefined) => (percent === undefined ? undefined : String(Number(percent) / 100));
    let text = generateInterchange({
      sender: { qualifier: 'ZZ', id: 'FAKEPAYER' }, receiver: { qualifier: 'ZZ', id: 'CAREGRAPH' }, date: '261205', time: '1200', controlNumber: '77', usage: 'P', acknowledgmentRequested: false,
      groups: [{ functionalId: 'HB', senderCode: 'FAKEPAYER', receiverCode: 'CAREGRAPH', date: '20261205', time: '1200', controlNumber: '77', version: '005010X279A1', transactions: [build271({
        controlNumber: '0001', reference: 'R1', createdDate: '20261205', createdTime: '1200',
        payer: { name: 'FAKE X12 PAYER', id: 'FAKEPAYER', idQualifier: 'PI' },
        provider: { name: inquiry.receiver?.name ?? 'PROVIDER', id: inquiry.receiver?.id ?? '0', idQualifier: 'XX' },
        subscriber: { lastName: inquiry.subscriber.name, firstName: inquiry.subscriber.firstName ?? '', memberId: inquiry.subscriber.id },
        trace: inquiry.traces[0] ?? '',
        ...(member ? {} : { rejection: { reason: '75', followUp: 'C' } }),
        benefits: member ? [
          { code: member.active ? '1' : '6', coverageLevel: 'IND', serviceTypes: inquiry.serviceTypes, planDescription: member.plan },
          ...(member.copay ? [{ code: 'B', serviceTypes: inquiry.serviceTypes, amount: member.copay, inNetwork: 'Y' }] : []),
          ...(member.coinsurancePercent ? [{ code: 'A', serviceTypes: inquiry.serviceTypes, percent: fraction(member.coinsurancePercent) as string, inNetwork: 'Y' }] : []),
          ...(member.deductibleRemaining ? [{ code: 'C', coverageLevel: 'IND', timePeriod: '29', amount: member.deductibleRemaining, inNetwork: 'Y' }] : []),
        ] : [],
      })] }],
    });
    if (this.mode === 'malformed') text = text.replace(/SE\*(\d+)\*/, (_, count: string) => `SE*${Number(count) + 3}*`);
    res.writeHead(200, { 'content-type': 'application/edi-x12' }).end(text);
  }

  private fhir(req: IncomingMessage, res: ServerResponse, body: string): void {
    const directory = /^\/Organization\?address-city=([^&]+)&type=prov$/.exec(req.url ?? '');
    if (req.method === 'GET' && directory) {
      const city = decodeURIComponent(directory[1] ?? '').toLowerCase();
      const entry = this.network.filter((provider) => provider.location.toLowerCase() === city).map((provider) => ({ resource: {
        resourceType: 'Organization', id: provider.providerNumber, identifier: [{ value: provider.providerNumber }], name: provider.name, address: [{ city: provider.location }],
        extension: [{ url: 'https://caregraph.example/fhir/StructureDefinition/network-tier', valueCode: provider.tier.toLowerCase() }],
      } }));
      return void res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: entry.length, entry }));
    }
    const search = /^\/ClaimResponse\?request\.identifier=(.+)$/.exec(req.url ?? '');
    if (req.method === 'GET' && search) {
      const claimId = decodeURIComponent(search[1] ?? '').split('|')[1] ?? '';
      const claim = this.claims.find((candidate) => candidate.claimId === claimId);
      const entry = claim ? [{ resource: {
        resourceType: 'ClaimResponse', id: claim.payerClaimNumber ?? 'rejected', status: 'active', type: { coding: [{ code: 'professional' }] }, use: 'claim',
        patient: { identifier: { value: claim.memberId } }, created: '2026-12-05', insurer: { identifier: { value: 'FAKEFHIR' } },
        outcome: claim.accepted ? 'queued' : 'error', disposition: claim.accepted ? 'In review' : 'Rejected',
      } }] : [];
      return void res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: entry.length, entry }));
    }
    if (req.method === 'POST' && req.url === '/Communication') {
      const communication = JSON.parse(body) as FhirCommunication;
      if (communication.resourceType !== 'Communication') return void res.writeHead(400).end();
      const reference = this.appeal({
        appealId: communication.identifier?.[0]?.value ?? '', claimId: communication.about?.[0]?.identifier?.value ?? '',
        reason: communication.payload?.find((part) => part.contentString)?.contentString ?? '',
        documents: (communication.payload ?? []).filter((part) => part.contentAttachment).map((part) => ({ title: part.contentAttachment?.title ?? null, bytes: part.contentAttachment?.data ? Buffer.from(part.contentAttachment.data, 'base64').length : null })),
      });
      return void res.writeHead(201, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ ...communication, id: reference }));
    }
    const submitted = req.method === 'POST' && req.url === '/Claim/$submit' ? claimOf(body) : undefined;
    if (submitted && submitted.claim.use === 'preauthorization') {
      const request = submitted.claim;
      const memberId = request.patient?.identifier?.value ?? '';
      const { approved, authCode } = this.authorize(request.identifier?.[0]?.value ?? '', memberId, body, submitted.documents.length);
      const response = {
        resourceType: 'ClaimResponse', status: 'active', type: { coding: [{ code: 'professional' }] }, use: 'preauthorization',
        patient: { identifier: { value: memberId } }, created: '2026-12-05', insurer: { identifier: { value: 'FAKEFHIR' } },
        outcome: approved ? 'complete' : 'error', ...(approved ? { preAuthRef: authCode } : { error: [{ code: { coding: [{ code: 'a001' }] } }] }),
      };
      return void res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify(response));
    }
    if (submitted) {
      const claim = submitted.claim;
      const judged = this.judge(claim.identifier?.[0]?.value ?? '', claim.patient?.identifier?.value ?? '', String(claim.total?.value ?? 0), claim.diagnosis?.[0]?.diagnosisCodeableConcept?.coding?.[0]?.code, {
        kind: claim.type?.coding?.[0]?.code === 'institutional' ? 'institutional' : 'professional', replaces: claim.related?.[0]?.claim?.identifier?.value ?? null, documents: submitted.documents,
      });
      const response = {
        resourceType: 'ClaimResponse', id: judged.payerClaimNumber ?? 'rejected', status: 'active', type: { coding: [{ code: 'professional' }] }, use: 'claim',
        patient: { identifier: { value: judged.memberId } }, created: '2026-12-05', insurer: { identifier: { value: 'FAKEFHIR' } },
        request: { identifier: { value: judged.claimId } }, outcome: judged.accepted ? 'queued' : 'error',
        ...(judged.payerClaimNumber ? { identifier: [{ value: judged.payerClaimNumber }] } : { error: [{ code: { coding: [{ code: 'a001' }] } }] }),
      };
      return void res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify(response));
    }
    if (req.method !== 'POST' || req.url !== '/CoverageEligibilityRequest/$submit') return void res.writeHead(404).end();
    const request = JSON.parse(body) as { patient?: { identifier?: { value?: string } }; created?: string };
    const member = this.members.get(request.patient?.identifier?.value ?? '');
    // Written by hand so the decimals go out exactly as a payer writes them (1500.50, not 1500.5).
    const money = (value: string) => `{ "value": ${value}, "currency": "USD" }`;
    const benefits = member ? [
      member.copay ? `{ "type": { "coding": [{ "code": "copay" }] }, "allowedMoney": ${money(member.copay)} }` : '',
      member.coinsurancePercent ? `{ "type": { "coding": [{ "code": "copay-percent" }] }, "allowedUnsignedInt": ${member.coinsurancePercent} }` : '',
      member.deductibleRemaining ? `{ "type": { "coding": [{ "code": "deductible" }] }, "allowedMoney": ${money(member.deductibleRemaining)}, "usedMoney": ${money('0.00')} }` : '',
    ].filter(Boolean) : [];
    const outcome = this.mode === 'malformed' ? '' : `"outcome": "${member ? 'complete' : 'error'}",`;
    const text = `{
      "resourceType": "CoverageEligibilityResponse", "status": "active", "purpose": ["validation", "benefits"],
      "patient": { "identifier": { "value": "${request.patient?.identifier?.value ?? ''}" } }, "created": "${request.created ?? '2026-12-05'}",
      "request": { "identifier": { "value": "inquiry" } }, ${outcome}
      "disposition": "${member ? 'Policy is currently in-force.' : 'Member not found.'}",
      "insurer": { "identifier": { "value": "FAKEFHIR" } },
      ${member ? `"insurance": [{ "coverage": { "identifier": { "value": "${member.memberId}" } }, "inforce": ${member.active}, "item": [{ "name": "${member.plan}", "category": { "coding": [{ "code": "30" }] }, "network": { "coding": [{ "code": "in" }] }, "benefit": [${benefits.join(',')}] }] }]` : `"error": [{ "code": { "coding": [{ "code": "a001" }] } }]`}
    }`;
    res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(text);
  }

  private rest(req: IncomingMessage, res: ServerResponse, body = ''): void {
    const providers = /^\/api\/v1\/providers\?location=(.+)$/.exec(req.url ?? '');
    if (req.method === 'GET' && providers) {
      const city = decodeURIComponent(providers[1] ?? '').toLowerCase();
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ providers: this.network.filter((provider) => provider.location.toLowerCase() === city) }));
    }
    const status = /^\/api\/v1\/claims\/([^/]+)\/status$/.exec(req.url ?? '');
    if (req.method === 'GET' && status) {
      const claim = this.claims.find((candidate) => candidate.claimId === decodeURIComponent(status[1] ?? ''));
      if (!claim) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such claim"}');
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: claim.accepted ? 'IN_REVIEW' : 'REJECTED', reference: claim.payerClaimNumber, message: claim.accepted ? 'Under medical review' : 'Rejected' }));
    }
    const appeal = /^\/api\/v1\/claims\/([^/]+)\/appeals$/.exec(req.url ?? '');
    if (req.method === 'POST' && appeal) {
      const request = JSON.parse(body) as { appealId: string; reason: string; documents: JsonDocument[] };
      const reference = this.appeal({ appealId: request.appealId, claimId: decodeURIComponent(appeal[1] ?? ''), reason: request.reason, documents: request.documents.map(received) });
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ reference }));
    }
    if (req.method === 'POST' && req.url === '/api/v1/preauthorizations') {
      const request = JSON.parse(body) as { requestId: string; member: { memberId: string }; documents: JsonDocument[] };
      const { approved, authCode } = this.authorize(request.requestId, request.member.memberId, body, request.documents.length);
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(approved ? { status: 'APPROVED', authCode } : { status: 'DENIED', reasons: ['ENROLLEE_NOT_FOUND'] }));
    }
    if (req.method === 'POST' && req.url === '/api/v1/claims') {
      const batch = JSON.parse(body) as { claims: Array<{ claimId: string; kind: string; totalCharge: string; subscriber: { memberId: string }; diagnoses: string[]; originalPayerClaimNumber: string | null; documents: JsonDocument[] }> };
      const results = batch.claims.map((claim) => this.judge(claim.claimId, claim.subscriber.memberId, claim.totalCharge, claim.diagnoses[0], {
        kind: claim.kind === 'INSTITUTIONAL' ? 'institutional' : 'professional', replaces: claim.originalPayerClaimNumber, documents: claim.documents.map(received),
      }))
        .map((claim) => ({ claimId: claim.claimId, status: claim.accepted ? 'RECEIVED' : 'REJECTED', reference: claim.payerClaimNumber, reasons: claim.accepted ? [] : [this.members.has(claim.memberId) ? 'DIAGNOSIS_NOT_COVERED' : 'ENROLLEE_NOT_FOUND'] }));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results }));
    }
    const match = /^\/api\/v1\/enrollees\/([^/]+)\/eligibility\?benefit=(\w+)$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !match) return void res.writeHead(404).end('{"error":"no such route"}');
    const member = this.members.get(decodeURIComponent(match[1] ?? ''));
    if (!member) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"enrollee not found"}');
    if (this.mode === 'malformed') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Service temporarily moved</html>');
    const text = `{ "data": { "status": "${member.active ? 'ACTIVE' : 'SUSPENDED'}", "plan": { "name": "${member.plan}" }, "currency": "NGN",
      "copay": ${member.copay ? `"${member.copay}"` : 'null'}, "coinsurancePercent": ${member.coinsurancePercent ?? 'null'},
      "deductible": { "remaining": ${member.deductibleRemaining ?? 'null'} }, "reason": ${member.active ? 'null' : '"premium unpaid"'} } }`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(text);
  }
}

interface FhirCommunication {
  resourceType: string;
  identifier?: Array<{ value?: string }>;
  about?: Array<{ identifier?: { value?: string } }>;
  payload?: Array<{ contentString?: string; contentAttachment?: { title?: string; data?: string } }>;
}

interface FhirClaimSent {
  use?: string;
  identifier?: Array<{ value?: string }>;
  type?: { coding?: Array<{ code?: string }> };
  patient?: { identifier?: { value?: string } };
  total?: { value?: number };
  related?: Array<{ claim?: { identifier?: { value?: string } } }>;
  diagnosis?: Array<{ diagnosisCodeableConcept?: { coding?: Array<{ code?: string }> } }>;
}

/** A $submit body: a Claim alone, or a Bundle with the Claim first and its DocumentReferences. */
function claimOf(body: string): { claim: FhirClaimSent; documents: ReceivedClaim['documents'] } {
  const json = JSON.parse(body) as FhirClaimSent & { resourceType: string; entry?: Array<{ resource: { resourceType: string; id?: string; content?: Array<{ attachment?: { title?: string; data?: string } }> } }> };
  if (json.resourceType !== 'Bundle') return { claim: json, documents: [] };
  const resources = (json.entry ?? []).map((entry) => entry.resource);
  return {
    claim: resources.find((resource) => resource.resourceType === 'Claim') as FhirClaimSent,
    documents: resources.filter((resource) => resource.resourceType === 'DocumentReference').map((reference) => {
      const attachment = reference.content?.[0]?.attachment;
      return { id: reference.id ?? '', title: attachment?.title ?? null, bytes: attachment?.data ? Buffer.from(attachment.data, 'base64').length : null };
    }),
  };
}

interface JsonDocument {
  id: string;
  title: string;
  data: string | null;
}

const received = (document: JsonDocument) => ({ id: document.id, title: document.title, bytes: document.data ? Buffer.from(document.data, 'base64').length : null });

/** The JSON mapping of the fake HMO's API (what a deployment writes in its payer endpoint configuration). */
export const FAKE_HMO_MAPPING = {
  eligibilityPath: '/api/v1/enrollees/{memberId}/eligibility?benefit={serviceType}',
  claimsPath: '/api/v1/claims',
  preauthorizationPath: '/api/v1/preauthorizations',
  claimStatusPath: '/api/v1/claims/{claimId}/status',
  appealPath: '/api/v1/claims/{claimId}/appeals',
  networkPath: '/api/v1/providers?location={location}',
  authHeader: 'x-api-key',
  response: {
    inForce: 'data.status', inForceValues: ['ACTIVE'], planName: 'data.plan.name', copay: 'data.copay', coinsurancePercent: 'data.coinsurancePercent',
    deductibleRemaining: 'data.deductible.remaining', currency: 'data.currency', rejection: 'data.reason',
  },
};
