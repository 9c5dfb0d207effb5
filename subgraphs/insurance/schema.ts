import type { GraphQLSchema } from 'graphql';
import { createBuilder, extendPatient, patientReference, toSubgraphSchema } from '../kit/builder.js';
import type { Benefit } from './adapters/payer.js';
import * as coverages from './coverages.js';
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

  extendPatient(PatientRef, (t) => ({
    coverages: t.field({
      type: [CoverageRef],
      description: 'This patient’s insurance: the caller’s organization’s records for billing staff, their own for the patient.',
      resolve: (patient, _args, ctx) => coverages.coveragesOfPatient(ctx, patient.id),
    }),
  }));

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
