import type { GraphQLSchema } from 'graphql';
import { createBuilder, extendPatient, patientReference, toSubgraphSchema } from '../kit/builder.js';
import type { Benefit, InstitutionalDetails } from './adapters/payer.js';
import * as appeals from './appeals.js';
import * as claims from './claims.js';
import * as documents from './documents.js';
import * as coverages from './coverages.js';
import * as networks from './networks.js';
import * as preauthorizations from './preauthorizations.js';
import * as eligibility from './eligibility.js';

/** The insurance subgraph's types. Resolvers translate; rules live in the services, access in policies.ts. */
export function buildInsuranceSchema(): GraphQLSchema {
  const builder = createBuilder();

  const ProtocolEnum = builder.enumType('PayerProtocol', { values: ['FHIR', 'X12', 'REST'] as const, description: 'What the payer speaks: FHIR R4, ASC X12 5010, or its own JSON API.' });
  const CoverageStatusEnum = builder.enumType('CoverageStatus', { values: ['ACTIVE', 'CANCELLED', 'ENTERED_IN_ERROR'] as const });
  const RelationshipEnum = builder.enumType('SubscriberRelationship', { values: ['SELF', 'SPOUSE', 'CHILD', 'OTHER'] as const });

  const PatientRef = patientReference(builder);

  const PayerRef = builder.prismaObject('Payer', {
    description: 'An insurer or HMO. How it is reached is configuration, not data.',
    fields: (t) => ({
      id: t.exposeID('id'),
      code: t.exposeString('code'),
      name: t.exposeString('name'),
      country: t.exposeString('country', { description: 'ISO 3166-1 alpha-2.' }),
      protocol: t.field({ type: ProtocolEnum, resolve: (p) => p.protocol }),
      currency: t.exposeString('currency', { description: 'ISO 4217: the currency of its amounts.' }),
    }),
  });
  builder.asEntity(PayerRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => coverages.loadPayer(ctx, ref.id) });

  const BenefitRef = builder.objectRef<Benefit>('EligibilityBenefit').implement({
    fields: (t) => ({
      code: t.exposeString('code', { description: 'X12 EB01 vocabulary: 1 active coverage, 6 inactive, A co-insurance, B co-payment, C deductible, F limitation.' }),
      serviceTypes: t.exposeStringList('serviceTypes'),
      amount: t.exposeInt('amount', { nullable: true, description: 'Minor units of the answer’s currency.' }),
      percent: t.exposeString('percent', { nullable: true }),
      inNetwork: t.exposeBoolean('inNetwork', { nullable: true }),
      description: t.exposeString('description', { nullable: true }),
    }),
  });

  const EligibilityRef = builder.objectRef<eligibility.EligibilityResult>('Eligibility').implement({
    description: 'A payer’s answer about a coverage for one service type.',
    fields: (t) => ({
      id: t.id({ resolve: (r) => r.check.id }),
      serviceType: t.string({ resolve: (r) => r.check.serviceType }),
      inForce: t.boolean({ resolve: (r) => r.check.inForce }),
      planName: t.string({ nullable: true, resolve: (r) => r.check.planName }),
      currency: t.string({ resolve: (r) => r.check.currency }),
      copay: t.int({ nullable: true, description: 'Minor units.', resolve: (r) => r.check.copay }),
      coinsurancePercent: t.string({ nullable: true, resolve: (r) => r.check.coinsurancePercent }),
      deductibleRemaining: t.int({ nullable: true, description: 'Minor units.', resolve: (r) => r.check.deductibleRemaining }),
      benefits: t.field({ type: [BenefitRef], resolve: (r) => eligibility.benefitsOf(r.check) }),
      rejection: t.string({ nullable: true, description: 'Why the payer could not confirm cover.', resolve: (r) => r.check.rejection }),
      protocol: t.field({ type: ProtocolEnum, resolve: (r) => r.check.protocol }),
      checkedAt: t.field({ type: 'DateTime', description: 'When the payer gave this answer.', resolve: (r) => r.check.checkedAt }),
      cached: t.boolean({ description: 'Served from the five-minute cache: the payer was not asked again.', resolve: (r) => r.cached }),
      stale: t.boolean({ description: 'The payer could not be asked now; this is its last answer (see error).', resolve: (r) => r.stale }),
      error: t.string({ nullable: true, resolve: (r) => r.error }),
    }),
  });

  const SubscriberRef = builder.objectRef<{ firstName: string; lastName: string; birthDate: Date | null; relationship: 'SELF' | 'SPOUSE' | 'CHILD' | 'OTHER' }>('Subscriber').implement({
    fields: (t) => ({
      firstName: t.exposeString('firstName'),
      lastName: t.exposeString('lastName'),
      birthDate: t.field({ type: 'Date', nullable: true, resolve: (s) => s.birthDate }),
      relationship: t.field({ type: RelationshipEnum, resolve: (s) => s.relationship }),
    }),
  });

  const CoverageRef = builder.prismaObject('Coverage', {
    fields: (t) => ({
      id: t.exposeID('id'),
      organizationId: t.exposeID('organizationId'),
      patient: t.field({ type: PatientRef, resolve: (c) => ({ id: c.patientId }) }),
      payer: t.field({ type: PayerRef, resolve: async (c, _args, ctx) => (await coverages.payerOf(ctx, c.payerId)) ?? Promise.reject(new Error('coverage without payer')) }),
      memberId: t.exposeString('memberId'),
      plan: t.exposeString('plan'),
      subscriber: t.field({ type: SubscriberRef, resolve: (c) => ({ firstName: c.subscriberFirstName, lastName: c.subscriberLastName, birthDate: c.subscriberBirthDate, relationship: c.relationship }) }),
      periodStart: t.field({ type: 'Date', resolve: (c) => c.periodStart }),
      periodEnd: t.field({ type: 'Date', nullable: true, resolve: (c) => c.periodEnd }),
      status: t.field({ type: CoverageStatusEnum, resolve: (c) => c.status }),
      lastEligibility: t.field({
        type: EligibilityRef, nullable: true, description: 'The payer’s latest answer about this coverage.',
        resolve: async (c, _args, ctx) => {
          const check = await eligibility.latestCheck(ctx, c.id);
          return check ? { check, cached: false, stale: false, error: null } : null;
        },
      }),
    }),
  });
  builder.asEntity(CoverageRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => coverages.loadCoverage(ctx, ref.id) });

  const ClaimStatusEnum = builder.enumType('ClaimStatus', { values: ['DRAFT', 'SUBMITTED', 'ACCEPTED', 'REJECTED', 'ADJUDICATED', 'APPEALED', 'PAID', 'CLOSED'] as const });
  const ClaimKindEnum = builder.enumType('ClaimKind', { values: ['PROFESSIONAL', 'INSTITUTIONAL'] as const, description: 'Professional (837P, CMS-1500) or institutional (837I, UB-04).' });
  const AppealStatusEnum = builder.enumType('AppealStatus', {
    values: ['PREPARED', 'SENT', 'UPHELD', 'OVERTURNED'] as const,
    description: 'PREPARED: recorded, not delivered (the payer takes appeals only through its own channel, or could not be reached); SENT: delivered; then the payer’s decision.',
  });

  const DocumentRef = builder.prismaObject('SupportingDocument', {
    description: 'A supporting document (a PDF, or a FHIR DocumentReference) for a patient’s claims, authorizations and appeals.',
    fields: (t) => ({
      id: t.exposeID('id'),
      patient: t.field({ type: PatientRef, resolve: (d) => ({ id: d.patientId }) }),
      title: t.exposeString('title'),
      contentType: t.exposeString('contentType'),
      size: t.exposeInt('size', { description: 'Bytes.' }),
      sha256: t.exposeString('sha256', { description: 'Hex SHA-256 of the content (of the DocumentReference when it points at a URL).' }),
      url: t.exposeString('url', { nullable: true }),
      documentReference: t.string({ description: 'The document as a FHIR R4 DocumentReference (JSON), without its content.', resolve: (d) => JSON.stringify(documents.documentReferenceOf(d)) }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
    }),
  });
  builder.asEntity(DocumentRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => documents.loadDocument(ctx, ref.id) });

  const AttendingRef = builder.objectRef<InstitutionalDetails['attending']>('AttendingProvider').implement({
    fields: (t) => ({ lastName: t.exposeString('lastName'), firstName: t.exposeString('firstName'), npi: t.exposeString('npi') }),
  });
  const AdmissionRef = builder.objectRef<NonNullable<InstitutionalDetails['admission']>>('Admission').implement({
    fields: (t) => ({
      at: t.exposeString('at', { description: 'YYYY-MM-DDTHH:MM, the facility’s local time.' }),
      type: t.exposeString('type', { description: 'Admission type code (1 emergency, 2 urgent, 3 elective…).' }),
      source: t.exposeString('source', { description: 'Point of origin code.' }),
    }),
  });
  const InstitutionalRef = builder.objectRef<InstitutionalDetails>('InstitutionalDetails').implement({
    fields: (t) => ({
      facilityType: t.exposeString('facilityType', { description: 'The first two digits of the bill type (11 hospital inpatient, 13 outpatient…).' }),
      admission: t.field({ type: AdmissionRef, nullable: true, resolve: (d) => d.admission }),
      dischargeStatus: t.exposeString('dischargeStatus', { description: 'Patient status code (01 discharged home…).' }),
      attending: t.field({ type: AttendingRef, resolve: (d) => d.attending }),
    }),
  });
  const AdjudicationEnum = builder.enumType('ClaimAdjudication', { values: ['APPROVED', 'PARTIALLY_APPROVED', 'DENIED'] as const });

  const ClaimLineRef = builder.prismaObject('ClaimLine', {
    fields: (t) => ({
      position: t.exposeInt('position'),
      procedureCode: t.exposeString('procedureCode'),
      revenueCode: t.exposeString('revenueCode', { nullable: true, description: 'Institutional lines: the revenue code.' }),
      modifiers: t.exposeStringList('modifiers'),
      charge: t.exposeInt('charge', { description: 'Minor units.' }),
      units: t.exposeInt('units'),
      diagnosisPointers: t.exposeIntList('diagnosisPointers'),
      serviceDate: t.field({ type: 'Date', resolve: (l) => l.serviceDate }),
    }),
  });
  const TransitionRef = builder.prismaObject('ClaimTransition', {
    fields: (t) => ({
      from: t.field({ type: ClaimStatusEnum, nullable: true, resolve: (r) => r.from }),
      to: t.field({ type: ClaimStatusEnum, resolve: (r) => r.to }),
      reason: t.exposeString('reason', { nullable: true }),
      at: t.expose('at', { type: 'DateTime' }),
    }),
  });
  const ClaimRef = builder.prismaObject('Claim', {
    fields: (t) => ({
      id: t.exposeID('id'),
      organizationId: t.exposeID('organizationId'),
      patient: t.field({ type: PatientRef, resolve: (c) => ({ id: c.patientId }) }),
      coverage: t.field({ type: CoverageRef, resolve: (c, _args, ctx) => coverages.loadCoverage(ctx, c.coverageId) }),
      payer: t.field({ type: PayerRef, resolve: async (c, _args, ctx) => (await coverages.payerOf(ctx, c.payerId)) ?? Promise.reject(new Error('claim without payer')) }),
      status: t.field({ type: ClaimStatusEnum, resolve: (c) => c.status }),
      adjudication: t.field({ type: AdjudicationEnum, nullable: true, resolve: (c) => c.adjudication }),
      currency: t.exposeString('currency'),
      totalCharge: t.exposeInt('totalCharge', { description: 'Minor units.' }),
      approvedAmount: t.exposeInt('approvedAmount', { nullable: true }),
      paidAmount: t.exposeInt('paidAmount', { nullable: true }),
      patientResponsibility: t.exposeInt('patientResponsibility', { nullable: true }),
      diagnoses: t.exposeStringList('diagnoses'),
      kind: t.field({ type: ClaimKindEnum, resolve: (c) => c.kind }),
      placeOfService: t.exposeString('placeOfService', { nullable: true, description: 'Professional claims.' }),
      institutional: t.field({ type: InstitutionalRef, nullable: true, description: 'Institutional claims.', resolve: (c) => claims.institutionalOf(c) }),
      priorAuthorization: t.exposeString('priorAuthorization', { nullable: true }),
      payerClaimNumber: t.exposeString('payerClaimNumber', { nullable: true }),
      reasons: t.exposeStringList('reasons', { description: 'The payer’s codes for a rejection or denial.' }),
      outOfNetwork: t.exposeBoolean('outOfNetwork', { nullable: true, description: 'The provider was outside the payer’s network when drafted (null: unknown).' }),
      lines: t.field({ type: [ClaimLineRef], resolve: (c, _args, ctx) => claims.linesOf(ctx, c.id) }),
      history: t.field({ type: [TransitionRef], description: 'Every change of status, oldest first.', resolve: (c, _args, ctx) => claims.historyOf(ctx, c.id) }),
      documents: t.field({ type: [DocumentRef], description: 'Supporting documents that travel with the claim.', resolve: (c, _args, ctx) => documents.documentsById(ctx, c.documentIds) }),
      fhirBundle: t.string({
        description: 'The claim as a FHIR R4 Bundle (JSON): the Claim citing each supporting DocumentReference, as FHIR payers receive it (here without the documents’ content).',
        resolve: (c, _args, ctx) => claims.fhirBundleOf(ctx, c.id),
      }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
    }),
  });
  const AppealRef = builder.prismaObject('ClaimAppeal', {
    fields: (t) => ({
      id: t.exposeID('id'),
      claim: t.field({ type: ClaimRef, resolve: (a, _args, ctx) => claims.loadClaim(ctx, a.claimId) }),
      reason: t.exposeString('reason'),
      status: t.field({ type: AppealStatusEnum, resolve: (a) => a.status }),
      payerReference: t.exposeString('payerReference', { nullable: true }),
      approvedAmount: t.exposeInt('approvedAmount', { nullable: true, description: 'Minor units, when overturned.' }),
      decisionNote: t.exposeString('decisionNote', { nullable: true }),
      documents: t.field({ type: [DocumentRef], resolve: (a, _args, ctx) => documents.documentsById(ctx, a.documentIds) }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    }),
  });
  const DeliveryErrorRef = builder.objectRef<NonNullable<appeals.AppealOutcome['deliveryError']>>('AppealDeliveryError').implement({
    fields: (t) => ({ code: t.exposeString('code'), reason: t.exposeString('reason', { description: 'NOT_SUPPORTED: the payer takes appeals only through its own channel.' }), message: t.exposeString('message') }),
  });
  const AppealOutcomeRef = builder.objectRef<appeals.AppealOutcome>('AppealOutcome').implement({
    fields: (t) => ({
      appeal: t.field({ type: AppealRef, resolve: (o) => o.appeal }),
      deliveryError: t.field({ type: DeliveryErrorRef, nullable: true, description: 'Why it was not delivered; the appeal is kept PREPARED (send it again with sendAppeal).', resolve: (o) => o.deliveryError }),
    }),
  });
  // Added after both types exist: a claim names its correction and appeals, which name it back.
  builder.objectFields(ClaimRef, (t) => ({
    replaces: t.field({ type: ClaimRef, nullable: true, description: 'The claim this one corrects.', resolve: (c, _args, ctx) => (c.replacesClaimId ? claims.loadClaim(ctx, c.replacesClaimId) : null) }),
    correctedBy: t.field({ type: ClaimRef, nullable: true, description: 'The correction of this claim, if one was drafted.', resolve: (c, _args, ctx) => claims.correctionOf(ctx, c.id) }),
    appeals: t.field({ type: [AppealRef], description: 'Appeals of this claim, oldest first.', resolve: (c, _args, ctx) => appeals.appealsOf(ctx, c.id) }),
  }));
  builder.asEntity(ClaimRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => claims.loadClaim(ctx, ref.id) });

  extendPatient(PatientRef, (t) => ({
    coverages: t.field({
      type: [CoverageRef],
      description: 'This patient’s insurance: the caller’s organization’s records for billing staff, their own for the patient.',
      resolve: (patient, _args, ctx) => coverages.coveragesOfPatient(ctx, patient.id),
    }),
    priorAuthorizations: t.field({
      type: [AuthorizationRef],
      description: 'This patient’s pre-authorization requests and their answers.',
      resolve: (patient, _args, ctx) => preauthorizations.preAuthorizationsOfPatient(ctx, patient.id),
    }),
    claims: t.field({
      type: [ClaimRef],
      description: 'This patient’s claims: the organization’s for billing staff, their own sent ones for the patient.',
      resolve: (patient, _args, ctx) => claims.claimsOfPatient(ctx, patient.id),
    }),
  }));

  const AuthorizationStatusEnum = builder.enumType('PriorAuthorizationStatus', { values: ['REQUESTED', 'APPROVED', 'DENIED', 'PENDED'] as const });
  const EstimateRef = builder.objectRef<preauthorizations.ServiceEstimate>('ServiceEstimate').implement({
    fields: (t) => ({ procedureCode: t.exposeString('procedureCode'), units: t.exposeInt('units'), estimatedCost: t.exposeInt('estimatedCost', { description: 'Minor units, for all units.' }) }),
  });
  const AuthorizationRef = builder.prismaObject('PriorAuthorization', {
    fields: (t) => ({
      id: t.exposeID('id'),
      patient: t.field({ type: PatientRef, resolve: (a) => ({ id: a.patientId }) }),
      payer: t.field({ type: PayerRef, resolve: async (a, _args, ctx) => (await coverages.payerOf(ctx, a.payerId)) ?? Promise.reject(new Error('authorization without payer')) }),
      status: t.field({ type: AuthorizationStatusEnum, resolve: (a) => a.status }),
      authCode: t.exposeString('authCode', { nullable: true, description: 'The payer’s code, which claims for these services cite.' }),
      services: t.field({ type: [EstimateRef], resolve: (a) => preauthorizations.servicesOf(a) }),
      estimatedTotal: t.exposeInt('estimatedTotal'),
      currency: t.exposeString('currency'),
      documents: t.field({ type: [DocumentRef], description: 'Supporting documents sent with the request.', resolve: (a, _args, ctx) => documents.documentsById(ctx, a.documentIds) }),
      reasons: t.exposeStringList('reasons'),
      approvedAt: t.expose('approvedAt', { type: 'DateTime', nullable: true }),
      expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'Thirty days after approval.' }),
    }),
  });
  builder.asEntity(AuthorizationRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => preauthorizations.loadPreAuthorization(ctx, ref.id) });
  const EstimateInput = builder.inputType('ServiceEstimateInput', {
    fields: (t) => ({ procedureCode: t.string({ required: true }), units: t.int({ required: true }), estimatedCost: t.int({ required: true, description: 'Minor units, for all units.' }) }),
  });
  const AuthorizationInput = builder.inputType('PreAuthorizationInput', {
    fields: (t) => ({
      patientId: t.id({ required: true }),
      payerId: t.id({ required: true }),
      diagnoses: t.stringList({ required: true }),
      services: t.field({ type: [EstimateInput], required: true }),
      documentIds: t.idList({ required: false, description: 'Supporting documents of the same patient (uploadSupportingDocument).' }),
    }),
  });

  const StatusRef = builder.objectRef<claims.StatusResult>('ClaimStatusAnswer').implement({
    description: 'What the payer says of a sent claim now (X12 claim status categories and codes: A acknowledged, P pending, F finalized…).',
    fields: (t) => ({
      claim: t.field({ type: ClaimRef, resolve: (r) => r.claim }),
      category: t.exposeString('category'),
      code: t.exposeString('code'),
      message: t.exposeString('message', { nullable: true }),
      payerClaimNumber: t.exposeString('payerClaimNumber', { nullable: true }),
      checkedAt: t.expose('checkedAt', { type: 'DateTime' }),
    }),
  });

  const TierEnum = builder.enumType('NetworkTier', { values: ['PREMIUM', 'STANDARD', 'TEACHING'] as const });
  const NetworkProviderRef = builder.objectRef<networks.ProviderNetwork['providers'][number]>('NetworkProvider').implement({
    fields: (t) => ({ providerNumber: t.exposeString('providerNumber'), name: t.exposeString('name'), tier: t.field({ type: TierEnum, resolve: (p) => p.tier }), location: t.exposeString('location') }),
  });
  const NetworkRef = builder.objectRef<networks.ProviderNetwork>('ProviderNetwork').implement({
    fields: (t) => ({
      payer: t.field({ type: PayerRef, resolve: async (n, _args, ctx) => (await coverages.payerOf(ctx, n.payerId)) ?? Promise.reject(new Error('network without payer')) }),
      location: t.exposeString('location'),
      providers: t.field({ type: [NetworkProviderRef], resolve: (n) => n.providers }),
      cached: t.exposeBoolean('cached', { description: 'Served from the 24-hour cache.' }),
      fetchedAt: t.expose('fetchedAt', { type: 'DateTime' }),
    }),
  });

  const FailureRef = builder.objectRef<claims.BatchResult['failed'][number]>('ClaimSubmissionFailure').implement({
    fields: (t) => ({ claimId: t.exposeID('claimId'), code: t.exposeString('code'), message: t.exposeString('message') }),
  });
  const BatchRef = builder.objectRef<claims.BatchResult>('ClaimBatchResult').implement({
    fields: (t) => ({
      submitted: t.field({ type: [ClaimRef], description: 'Sent and acknowledged (accepted or rejected by the payer).', resolve: (r) => r.submitted }),
      failed: t.field({ type: [FailureRef], description: 'Not sent, each with why; these claims are unchanged and can be sent again.', resolve: (r) => r.failed }),
    }),
  });
  const LineInput = builder.inputType('ClaimLineInput', {
    fields: (t) => ({
      procedureCode: t.string({ required: true }),
      revenueCode: t.string({ required: false, description: 'Institutional lines: the four-digit revenue code (0450 emergency room…).' }),
      modifiers: t.stringList({ required: false }),
      charge: t.int({ required: true, description: 'Minor units of the payer’s currency.' }),
      units: t.int({ required: true }),
      diagnosisPointers: t.intList({ required: true, description: '1-based positions in diagnoses.' }),
      serviceDate: t.field({ type: 'Date', required: true }),
    }),
  });
  const AttendingInput = builder.inputType('AttendingProviderInput', {
    fields: (t) => ({ lastName: t.string({ required: true }), firstName: t.string({ required: true }), npi: t.string({ required: true }) }),
  });
  const AdmissionInput = builder.inputType('AdmissionInput', {
    fields: (t) => ({ at: t.string({ required: true, description: 'YYYY-MM-DDTHH:MM.' }), type: t.string({ required: true }), source: t.string({ required: true }) }),
  });
  const InstitutionalInput = builder.inputType('InstitutionalDetailsInput', {
    fields: (t) => ({
      facilityType: t.string({ required: true }),
      admission: t.field({ type: AdmissionInput, required: false, description: 'Required for inpatient facility types.' }),
      dischargeStatus: t.string({ required: true }),
      attending: t.field({ type: AttendingInput, required: true }),
    }),
  });
  const contentFields = (t: Parameters<Parameters<typeof builder.inputType>[1]['fields']>[0]) => ({
    kind: t.field({ type: ClaimKindEnum, required: false, description: 'PROFESSIONAL when absent.' }),
    diagnoses: t.stringList({ required: true, description: 'ICD-10 codes, the principal first.' }),
    placeOfService: t.string({ required: false, description: 'Professional claims: the two-digit place of service.' }),
    institutional: t.field({ type: InstitutionalInput, required: false, description: 'Institutional claims.' }),
    priorAuthorization: t.string({ required: false }),
    documentIds: t.idList({ required: false, description: 'Supporting documents of the same patient.' }),
    lines: t.field({ type: [LineInput], required: true }),
  });
  const ClaimInput = builder.inputType('CreateClaimInput', {
    fields: (t) => ({ patientId: t.id({ required: true }), payerId: t.id({ required: true }), ...contentFields(t) }),
  });
  const CorrectionInput = builder.inputType('ClaimCorrectionInput', { description: 'The corrected claim, whole.', fields: (t) => contentFields(t) });
  const AppealInput = builder.inputType('AppealClaimInput', {
    fields: (t) => ({ reason: t.string({ required: true }), documentIds: t.idList({ required: false }) }),
  });
  const DecisionEnum = builder.enumType('AppealDecision', { values: ['UPHELD', 'OVERTURNED'] as const });
  const DecisionInput = builder.inputType('AppealDecisionInput', {
    fields: (t) => ({
      outcome: t.field({ type: DecisionEnum, required: true }),
      approvedAmount: t.int({ required: false, description: 'Overturned: what the payer now approves in all, minor units.' }),
      note: t.string({ required: false }),
    }),
  });
  const DocumentInput = builder.inputType('SupportingDocumentInput', {
    description: 'One of pdfBase64 or documentReference.',
    fields: (t) => ({
      patientId: t.id({ required: true }),
      title: t.string({ required: true }),
      pdfBase64: t.string({ required: false, description: `A PDF, base64 (at most ${documents.MAX_DOCUMENT_BYTES} bytes decoded).` }),
      documentReference: t.string({ required: false, description: 'A FHIR R4 DocumentReference as JSON: its content inline (data) or at an https URL.' }),
    }),
  });

  const CoverageInput = builder.inputType('AddCoverageInput', {
    fields: (t) => ({
      patientId: t.id({ required: true }),
      payerId: t.id({ required: true }),
      memberId: t.string({ required: true }),
      plan: t.string({ required: true }),
      subscriberFirstName: t.string({ required: true }),
      subscriberLastName: t.string({ required: true }),
      subscriberBirthDate: t.field({ type: 'Date', required: false }),
      relationship: t.field({ type: RelationshipEnum, required: false, description: 'SELF when absent.' }),
      periodStart: t.field({ type: 'Date', required: true }),
      periodEnd: t.field({ type: 'Date', required: false }),
    }),
  });

  builder.queryFields((t) => ({
    priorAuthorization: t.field({ type: AuthorizationRef, args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => preauthorizations.loadPreAuthorization(ctx, String(args.id)) }),
    claim: t.field({ type: ClaimRef, args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => claims.loadClaim(ctx, String(args.id)) }),
    providerNetwork: t.field({
      type: NetworkRef,
      description: 'The providers in a payer’s network at a place (a city), with their tiers; kept 24 hours.',
      args: { payerId: t.arg.id({ required: true }), location: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => networks.providerNetwork(ctx, String(args.payerId), args.location),
    }),
    claimStatus: t.field({
      type: StatusRef,
      description: 'Asks the payer where it has got to with a sent claim (276 → 277, a ClaimResponse search, the HMO’s API).',
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => claims.claimStatus(ctx, String(args.id)),
    }),
    claims: t.field({
      type: [ClaimRef],
      description: 'The organization’s claims, newest first (billing staff and administrators).',
      args: { status: t.arg({ type: [ClaimStatusEnum], required: false }), first: t.arg.int({ required: false }) },
      resolve: (_root, args, ctx) => claims.listClaims(ctx, args.status, args.first ?? 50),
    }),
    payers: t.field({ type: [PayerRef], resolve: (_root, _args, ctx) => coverages.listPayers(ctx) }),
    coverage: t.field({ type: CoverageRef, args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => coverages.loadCoverage(ctx, String(args.id)) }),
    checkEligibility: t.field({
      type: EligibilityRef,
      description: 'Asks the patient’s payer whether their coverage is in force for a service type (X12 codes: 30 plan coverage, 98 professional visit…). Answers are reused for five minutes.',
      args: { patientId: t.arg.id({ required: true }), payerId: t.arg.id({ required: true }), serviceType: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => eligibility.checkEligibility(ctx, String(args.patientId), String(args.payerId), args.serviceType),
    }),
  }));

  builder.mutationFields((t) => ({
    requestPreAuthorization: t.field({
      type: AuthorizationRef,
      description: 'Asks the patient’s payer to authorize services before care; estimates are checked against the plan’s tariff first. An approval is valid 30 days.',
      args: { input: t.arg({ type: AuthorizationInput, required: true }) },
      resolve: (_root, { input }, ctx) => preauthorizations.requestPreAuthorization(ctx, {
        patientId: String(input.patientId), payerId: String(input.payerId), diagnoses: input.diagnoses,
        services: input.services.map((service) => ({ procedureCode: service.procedureCode, units: service.units, estimatedCost: service.estimatedCost })),
        documentIds: (input.documentIds ?? []).map(String),
      }),
    }),
    createClaim: t.field({
      type: ClaimRef,
      args: { input: t.arg({ type: ClaimInput, required: true }) },
      resolve: (_root, { input }, ctx) => claims.createClaim(ctx, { patientId: String(input.patientId), payerId: String(input.payerId), ...claimContent(input) }),
    }),
    correctClaim: t.field({
      type: ClaimRef,
      description: 'Drafts the corrected version of a denied, partly paid or rejected claim; sent, it replaces the original, which is closed once the payer accepts it.',
      args: { id: t.arg.id({ required: true }), input: t.arg({ type: CorrectionInput, required: true }) },
      resolve: (_root, { id, input }, ctx) => claims.correctClaim(ctx, String(id), claimContent(input)),
    }),
    appealClaim: t.field({
      type: AppealOutcomeRef,
      description: 'Asks the payer to reconsider a denied or partly paid claim, with reasons and documents.',
      args: { id: t.arg.id({ required: true }), input: t.arg({ type: AppealInput, required: true }) },
      resolve: (_root, { id, input }, ctx) => appeals.appealClaim(ctx, String(id), { reason: input.reason, documentIds: (input.documentIds ?? []).map(String) }),
    }),
    sendAppeal: t.field({
      type: AppealOutcomeRef,
      description: 'Delivers an appeal left PREPARED because the payer could not be reached.',
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => appeals.sendAppeal(ctx, String(args.id)),
    }),
    recordAppealDecision: t.field({
      type: AppealRef,
      description: 'Records the payer’s decision on an appeal that came by letter or portal (remittances record theirs themselves).',
      args: { id: t.arg.id({ required: true }), input: t.arg({ type: DecisionInput, required: true }) },
      resolve: (_root, { id, input }, ctx) => appeals.recordAppealDecision(ctx, String(id), { outcome: input.outcome, approvedAmount: input.approvedAmount ?? null, note: input.note ?? null }),
    }),
    closeClaim: t.field({
      type: ClaimRef,
      description: 'Closes a claim staff are done with (a denial written off, a payment reconciled, a draft abandoned).',
      args: { id: t.arg.id({ required: true }), reason: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => claims.closeClaim(ctx, String(args.id), args.reason),
    }),
    uploadSupportingDocument: t.field({
      type: DocumentRef,
      description: 'Stores a supporting document for a patient; claims, authorizations and appeals cite it by id.',
      args: { input: t.arg({ type: DocumentInput, required: true }) },
      resolve: (_root, { input }, ctx) => documents.uploadDocument(ctx, { patientId: String(input.patientId), title: input.title, pdfBase64: input.pdfBase64 ?? null, documentReference: input.documentReference ?? null }),
    }),
    attachClaimDocuments: t.field({
      type: ClaimRef,
      description: 'Adds supporting documents to a claim; they go with its next transmission or appeal.',
      args: { id: t.arg.id({ required: true }), documentIds: t.arg.idList({ required: true }) },
      resolve: (_root, args, ctx) => claims.attachClaimDocuments(ctx, String(args.id), args.documentIds.map(String)),
    }),
    submitClaim: t.field({
      type: ClaimRef,
      description: 'Sends a draft (or a corrected rejected claim) to its payer; the answer is the claim as the payer acknowledged it.',
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => claims.submitClaim(ctx, String(args.id)),
    }),
    submitClaimBatch: t.field({
      type: BatchRef,
      description: 'Sends up to 500 claims, one transmission per payer; a result for each.',
      args: { ids: t.arg.idList({ required: true }) },
      resolve: (_root, args, ctx) => claims.submitClaimBatch(ctx, args.ids.map(String)),
    }),
    addCoverage: t.field({
      type: CoverageRef,
      args: { input: t.arg({ type: CoverageInput, required: true }) },
      resolve: (_root, { input }, ctx) => coverages.addCoverage(ctx, {
        patientId: String(input.patientId), payerId: String(input.payerId), memberId: input.memberId, plan: input.plan,
        subscriberFirstName: input.subscriberFirstName, subscriberLastName: input.subscriberLastName,
        subscriberBirthDate: input.subscriberBirthDate ?? null, relationship: input.relationship ?? 'SELF',
        periodStart: input.periodStart, periodEnd: input.periodEnd ?? null,
      }),
    }),
  }));

  return toSubgraphSchema(builder);
}

/** A claim's content as the GraphQL input gives it. */
function claimContent(input: {
  kind?: 'PROFESSIONAL' | 'INSTITUTIONAL' | null; diagnoses: string[]; placeOfService?: string | null; priorAuthorization?: string | null; documentIds?: Array<string | number> | null;
  institutional?: { facilityType: string; admission?: { at: string; type: string; source: string } | null; dischargeStatus: string; attending: InstitutionalDetails['attending'] } | null;
  lines: Array<{ procedureCode: string; revenueCode?: string | null; modifiers?: string[] | null; charge: number; units: number; diagnosisPointers: number[]; serviceDate: string }>;
}): claims.ClaimContent {
  return {
    kind: input.kind ?? 'PROFESSIONAL',
    diagnoses: input.diagnoses,
    placeOfService: input.placeOfService ?? null,
    institutional: input.institutional ? { ...input.institutional, admission: input.institutional.admission ?? null } : null,
    priorAuthorization: input.priorAuthorization ?? null,
    documentIds: (input.documentIds ?? []).map(String),
    lines: input.lines.map((line) => ({ procedureCode: line.procedureCode, revenueCode: line.revenueCode ?? null, modifiers: line.modifiers ?? [], charge: line.charge, units: line.units, diagnosisPointers: line.diagnosisPointers, serviceDate: line.serviceDate })),
  };
}
