import type { GraphQLSchema } from 'graphql';
import type { CaseSession, PrismaClient } from '../../prisma/generated/client/client.js';
import { createBuilder, toSubgraphSchema } from '../kit/builder.js';
import { filterEvents } from '../kit/subscriptions.js';
import type { CaseContent } from './domain/case-content.js';
import type { FlaggedError, ScoreCard, SubScore } from './domain/scoring.js';
import * as training from './service.js';

/** The training subgraph's types. Resolvers translate; rules live in service.ts. */
export function buildTrainingSchema(): GraphQLSchema {
  const builder = createBuilder({ subscriptions: true });

  const SeverityEnum = builder.enumType('ErrorSeverity', { values: { SAFETY: { value: 'safety' }, CRITICAL: { value: 'critical' }, MINOR: { value: 'minor' } } as const });
  const SessionStatusEnum = builder.enumType('CaseSessionStatus', { values: ['ACTIVE', 'COMPLETED'] as const });
  const TurnRoleEnum = builder.enumType('TurnRole', { values: ['LEARNER', 'PATIENT'] as const });

  const FlaggedErrorRef = builder.objectRef<FlaggedError>('FlaggedError').implement({
    fields: (t) => ({
      code: t.exposeString('code'),
      severity: t.field({ type: SeverityEnum, resolve: (e) => e.severity }),
      message: t.exposeString('message'),
    }),
  });
  const SubScoreRef = builder.objectRef<SubScore>('SubScore').implement({
    fields: (t) => ({
      section: t.exposeString('section'),
      score: t.exposeInt('score', { nullable: true, description: '0–100; null when the rubric has nothing in this section' }),
    }),
  });

  const TurnRef = builder.prismaObject('SessionTurn', {
    fields: (t) => ({
      id: t.exposeID('id'),
      seq: t.exposeInt('seq'),
      role: t.field({ type: TurnRoleEnum, resolve: (turn) => turn.role }),
      text: t.exposeString('text'),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
    }),
  });

  /** Mutations change a session, then read it back with the selection the client asked for (one query). */
  const reload = (ctx: { prisma: PrismaClient }, query: object, session: CaseSession) =>
    ctx.prisma.caseSession.findUniqueOrThrow({ ...query, where: { id: session.id } });

  const scoreOf = (session: CaseSession): ScoreCard | null => (session.score as unknown as ScoreCard | null) ?? null;

  const CaseSessionRef = builder.prismaObject('CaseSession', {
    fields: (t) => ({
      id: t.exposeID('id'),
      status: t.field({ type: SessionStatusEnum, resolve: (s) => s.status }),
      cohortId: t.exposeID('cohortId'),
      learnerId: t.exposeID('learnerId'),
      caseId: t.id({ select: { caseVersion: { select: { caseId: true } } }, resolve: (s) => s.caseVersion.caseId }),
      caseVersion: t.int({ select: { caseVersion: { select: { number: true } } }, resolve: (s) => s.caseVersion.number }),
      caseTitle: t.string({ select: { caseVersion: { select: { case: { select: { title: true } } } } }, resolve: (s) => s.caseVersion.case.title }),
      startedAt: t.expose('startedAt', { type: 'DateTime' }),
      endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
      durationSeconds: t.int({ nullable: true, resolve: (s) => (s.endedAt ? Math.round((s.endedAt.getTime() - s.startedAt.getTime()) / 1000) : null) }),
      diagnosis: t.exposeString('diagnosis', { nullable: true }),
      managementPlan: t.exposeString('managementPlan', { nullable: true }),
      totalScore: t.exposeInt('totalScore', { nullable: true }),
      subScores: t.field({ type: [SubScoreRef], resolve: (s) => scoreOf(s)?.subScores ?? [] }),
      flaggedErrors: t.field({ type: [FlaggedErrorRef], description: 'Safety errors first, then critical, then minor.', resolve: (s) => scoreOf(s)?.flaggedErrors ?? [] }),
      turns: t.relation('turns', { query: { orderBy: { seq: 'asc' } } }),
      orderedInvestigations: t.stringList({ select: { orders: { select: { code: true }, orderBy: { orderedAt: 'asc' } } }, resolve: (s) => s.orders.map((o) => o.code) }),
    }),
  });
  builder.asEntity(CaseSessionRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => training.loadSession(ctx, ref.id) });
  void TurnRef;

  const CohortCaseRef = builder.objectRef<Awaited<ReturnType<typeof training.listCohortCases>>[number]>('CohortCase').implement({
    fields: (t) => ({
      caseId: t.exposeID('caseId'),
      slug: t.exposeString('slug'),
      title: t.exposeString('title'),
      versionNumber: t.exposeInt('versionNumber', { nullable: true }),
      dueAt: t.expose('dueAt', { type: 'DateTime', nullable: true }),
    }),
  });

  const CohortRef = builder.prismaObject('Cohort', {
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      organizationId: t.exposeID('organizationId'),
      partnerId: t.exposeID('partnerId'),
      cases: t.field({ type: [CohortCaseRef], resolve: (cohort, _args, ctx) => training.listCohortCases(ctx, cohort.id) }),
    }),
  });
  builder.asEntity(CohortRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => training.loadCohort(ctx, ref.id) });

  // What an (anonymous) launcher learns about the new session; the learner reads the rest with the access token.
  const LaunchedSessionRef = builder.objectRef<CaseSession>('LaunchedSession').implement({
    fields: (t) => ({ id: t.exposeID('id'), status: t.field({ type: SessionStatusEnum, resolve: (s) => s.status }) }),
  });
  const LaunchResultRef = builder.objectRef<training.LaunchResult>('LaunchResult').implement({
    fields: (t) => ({
      accessToken: t.exposeString('accessToken', { description: 'A platform session token for the learner (Bearer).' }),
      launchUrl: t.exposeString('launchUrl', { description: 'A deep link the partner can open in a web view.' }),
      session: t.field({ type: LaunchedSessionRef, resolve: (r) => r.session }),
    }),
  });

  const SsoSignInRef = builder.objectRef<training.SsoSignIn>('PartnerSsoSignIn').implement({
    fields: (t) => ({
      accessToken: t.exposeString('accessToken', { description: 'A platform session token for the learner (Bearer).' }),
      learnerId: t.exposeID('learnerId'),
      cohortIds: t.exposeIDList('cohortIds'),
    }),
  });

  const InvestigationResultRef = builder.objectRef<{ code: string; name: string; result: string }>('InvestigationResult').implement({
    fields: (t) => ({ code: t.exposeString('code'), name: t.exposeString('name'), result: t.exposeString('result') }),
  });

  const SentMessageRef = builder.objectRef<{ learnerTurnId: string; replyTurnId: string }>('SentLearnerMessage').implement({
    fields: (t) => ({
      learnerTurnId: t.exposeID('learnerTurnId'),
      replyTurnId: t.exposeID('replyTurnId', { description: 'The patient reply streamed through patientReply carries this turnId.' }),
    }),
  });

  const ReplyChunkRef = builder.objectRef<training.ReplyChunk>('PatientReplyChunk').implement({
    fields: (t) => ({
      turnId: t.exposeID('turnId'),
      seq: t.exposeInt('seq'),
      delta: t.exposeString('delta'),
      done: t.exposeBoolean('done'),
      text: t.exposeString('text', { description: 'The reply so far; the whole reply when done.' }),
    }),
  });

  const DeletedRef = builder.objectRef<{ sessions: number; learners: number }>('LearnerDataDeletion').implement({
    fields: (t) => ({ sessions: t.exposeInt('sessions'), learners: t.exposeInt('learners') }),
  });

  builder.scalarType('JSON', {
    description: 'Any JSON value (case content: persona, facts, findings, investigations, rubric, safety rules).',
    serialize: (value) => value,
    parseValue: (value) => value,
  });

  const CaseVersionRef = builder.prismaObject('CaseVersion', {
    fields: (t) => ({
      id: t.exposeID('id'),
      caseId: t.exposeID('caseId'),
      number: t.exposeInt('number'),
      status: t.exposeString('status'),
      publishedAt: t.expose('publishedAt', { type: 'DateTime', nullable: true }),
    }),
  });
  builder.prismaObject('Case', {
    name: 'TrainingCase',
    fields: (t) => ({
      id: t.exposeID('id'),
      slug: t.exposeString('slug'),
      title: t.exposeString('title'),
      versions: t.relation('versions', { query: { orderBy: { number: 'asc' } } }),
    }),
  });

  const ScoreResultRef = builder.objectRef<ScoreCard>('ScoreResult').implement({
    fields: (t) => ({
      total: t.exposeInt('total'),
      subScores: t.field({ type: [SubScoreRef], resolve: (card) => card.subScores }),
      flaggedErrors: t.field({ type: [FlaggedErrorRef], resolve: (card) => card.flaggedErrors }),
    }),
  });

  const CreateCaseInput = builder.inputType('CreateCaseInput', {
    fields: (t) => ({ slug: t.string({ required: true }), title: t.string({ required: true }), content: t.field({ type: 'JSON', required: true }) }),
  });
  const AssignmentInput = builder.inputType('CohortAssignmentInput', {
    fields: (t) => ({
      cohortId: t.id({ required: true }),
      caseId: t.id({ required: false }),
      caseSetId: t.id({ required: false }),
      dueAt: t.field({ type: 'DateTime', required: false }),
    }),
  });
  const AssignmentRef = builder.objectRef<{ id: string }>('CohortAssignment').implement({ fields: (t) => ({ id: t.exposeID('id') }) });

  builder.queryFields((t) => ({
    trainingCases: t.prismaField({
      type: ['Case'],
      description: 'The caller’s organization’s cases with their versions (staff).',
      resolve: (query, _root, _args, ctx) => training.listCases(ctx, query),
    }),
    rescoreSession: t.field({
      type: ScoreResultRef,
      description: 'Scores a session again from its stored record; always the same as its stored score.',
      args: { sessionId: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => training.rescoreSession(ctx, String(args.sessionId)),
    }),
  }));

  builder.mutationFields((t) => ({
    createCase: t.prismaField({
      type: 'CaseVersion',
      description: 'A new case with its first draft version. Content that looks like a real identifier is refused.',
      args: { input: t.arg({ type: CreateCaseInput, required: true }) },
      resolve: async (query, _root, { input }, ctx) => {
        const { versionId } = await training.createCase(ctx, { slug: input.slug, title: input.title, content: input.content });
        return ctx.prisma.caseVersion.findUniqueOrThrow({ ...query, where: { id: versionId } });
      },
    }),
    reviseCase: t.prismaField({
      type: 'CaseVersion',
      description: 'Edits the draft, or starts a new version when the latest is published (published versions never change).',
      args: { caseId: t.arg.id({ required: true }), content: t.arg({ type: 'JSON', required: true }) },
      resolve: async (query, _root, args, ctx) => {
        const { versionId } = await training.reviseCase(ctx, String(args.caseId), args.content);
        return ctx.prisma.caseVersion.findUniqueOrThrow({ ...query, where: { id: versionId } });
      },
    }),
    publishCaseVersion: t.prismaField({
      type: 'CaseVersion',
      args: { versionId: t.arg.id({ required: true }) },
      resolve: async (query, _root, args, ctx) => {
        await training.publishCaseVersion(ctx, String(args.versionId));
        return ctx.prisma.caseVersion.findUniqueOrThrow({ ...query, where: { id: String(args.versionId) } });
      },
    }),
    assignToCohort: t.field({
      type: AssignmentRef,
      args: { input: t.arg({ type: AssignmentInput, required: true }) },
      resolve: (_root, { input }, ctx) =>
        training.assignToCohort(ctx, { cohortId: String(input.cohortId), caseId: input.caseId ? String(input.caseId) : null, caseSetId: input.caseSetId ? String(input.caseSetId) : null, dueAt: input.dueAt ?? null }),
    }),
  }));
  void CaseVersionRef;

  builder.queryFields((t) => ({
    caseSession: t.prismaField({
      type: 'CaseSession',
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: async (query, _root, args, ctx) => {
        await training.loadSession(ctx, String(args.id));
        return ctx.prisma.caseSession.findUnique({ ...query, where: { id: String(args.id) } });
      },
    }),
    caseSessions: t.prismaField({
      type: ['CaseSession'],
      description: 'A learner’s own sessions, or a cohort’s sessions for its partner and staff.',
      args: { cohortId: t.arg.id({ required: false }) },
      resolve: (query, _root, args, ctx) => training.listSessions(ctx, { cohortId: args.cohortId ? String(args.cohortId) : null }, query),
    }),
    cohort: t.prismaField({
      type: 'Cohort',
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: (_query, _root, args, ctx) => training.loadCohort(ctx, String(args.id)),
    }),
    cohortCases: t.field({
      type: [CohortCaseRef],
      args: { cohortId: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => training.listCohortCases(ctx, String(args.cohortId)),
    }),
  }));

  builder.mutationFields((t) => ({
    launchSession: t.field({
      type: LaunchResultRef,
      description: 'Verifies a partner-signed launch token and starts a case session for its learner.',
      args: { token: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => training.launchSession(ctx, args.token),
    }),
    signInWithPartnerSso: t.field({
      type: SsoSignInRef,
      description: 'Signs a learner in with an OpenID Connect ID token from their partner (verified against the partner’s JWKS).',
      args: { idToken: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => training.signInWithPartnerSso(ctx, args.idToken),
    }),
    startCaseSession: t.prismaField({
      type: 'CaseSession',
      description: 'A signed-in learner starts a case assigned to one of their cohorts (the first assigned when caseId is absent).',
      args: { cohortId: t.arg.id({ required: true }), caseId: t.arg.id({ required: false }) },
      resolve: async (query, _root, args, ctx) => reload(ctx, query, await training.startCaseSession(ctx, String(args.cohortId), args.caseId ? String(args.caseId) : null)),
    }),
    sendLearnerMessage: t.field({
      type: SentMessageRef,
      args: { sessionId: t.arg.id({ required: true }), text: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => training.sendLearnerMessage(ctx, String(args.sessionId), args.text),
    }),
    orderInvestigation: t.field({
      type: InvestigationResultRef,
      args: { sessionId: t.arg.id({ required: true }), code: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => training.orderInvestigation(ctx, String(args.sessionId), args.code),
    }),
    submitDiagnosis: t.prismaField({
      type: 'CaseSession',
      args: { sessionId: t.arg.id({ required: true }), diagnosis: t.arg.string({ required: true }) },
      resolve: async (query, _root, args, ctx) => reload(ctx, query, await training.submitDiagnosis(ctx, String(args.sessionId), args.diagnosis)),
    }),
    submitManagement: t.prismaField({
      type: 'CaseSession',
      args: { sessionId: t.arg.id({ required: true }), plan: t.arg.string({ required: true }) },
      resolve: async (query, _root, args, ctx) => reload(ctx, query, await training.submitManagement(ctx, String(args.sessionId), args.plan)),
    }),
    completeSession: t.prismaField({
      type: 'CaseSession',
      args: { sessionId: t.arg.id({ required: true }) },
      resolve: async (query, _root, args, ctx) => reload(ctx, query, await training.completeSession(ctx, String(args.sessionId))),
    }),
    deleteCohortLearnerData: t.field({
      type: DeletedRef,
      description: 'Retention: deletes a cohort’s learner data. Audited.',
      args: { cohortId: t.arg.id({ required: true }), reason: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => training.deleteCohortLearnerData(ctx, String(args.cohortId), args.reason),
    }),
  }));

  builder.subscriptionFields((t) => ({
    patientReply: t.field({
      type: ReplyChunkRef,
      description: 'The simulated patient’s replies in a session, streamed chunk by chunk.',
      args: { sessionId: t.arg.id({ required: true }) },
      subscribe: async (_root, args, ctx) => {
        const sessionId = String(args.sessionId);
        await training.authorizeReplyStream(ctx, sessionId);
        const topic = training.replyTopic(sessionId);
        const chunks = ctx.pubsub.subscribe<training.ReplyChunk>(topic);
        await ctx.pubsub.ready(topic);
        return filterEvents(chunks, () => true);
      },
      resolve: (chunk) => chunk,
    }),
  }));

  return toSubgraphSchema(builder);
}

export type { CaseContent };
