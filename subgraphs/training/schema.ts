import type { GraphQLSchema } from 'graphql';
import type { CaseSession } from '../../prisma/generated/client/client.js';
import { createBuilder, toSubgraphSchema } from '../kit/builder.js';
import { assignToCohort, createCase, listCases, publishCaseVersion, reviseCase } from './cases.js';
import { findCohort, listCohortCases, loadCohort, type CohortCase } from './cohorts.js';
import { replyStream, sendLearnerMessage, type ReplyChunk } from './conversation.js';
import type { CaseContent } from './domain/case-content.js';
import type { FlaggedError, ScoreCard, SubScore } from './domain/scoring.js';
import { learnerProfile, type LearnerProfile } from './enrolment.js';
import { launchSession, type LaunchResult } from './launch.js';
import { addOnboardingFields } from './onboarding-schema.js';
import { deleteCohortLearnerData } from './retention.js';
import { findSession, listSessions, loadSession } from './sessions.js';
import { signInWithPartnerSso, startCaseSession, type SsoSignIn } from './sso.js';
import { completeSession, orderInvestigation, rescoreSession, submitDiagnosis, submitManagement } from './workup.js';

/** The training subgraph's types. Resolvers translate; rules live in the domain modules and the access policies. */
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
      score: t.exposeInt('score', { nullable: true, description: '0–100; null when the rubric has nothing in this section. Safety: less 25 points per flagged error of severity SAFETY, never below 0.' }),
    }),
  });

  const TurnRef = builder.prismaObject('SessionTurn', {
    fields: (t) => ({
      id: t.exposeID('id'),
      seq: t.exposeInt('seq', { description: 'Position of the turn in the session, from 1.' }),
      role: t.field({ type: TurnRoleEnum, resolve: (turn) => turn.role }),
      text: t.exposeString('text'),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
    }),
  });

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
  builder.asEntity(CaseSessionRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => loadSession(ctx, ref.id) });
  void TurnRef;

  const CohortCaseRef = builder.objectRef<CohortCase>('CohortCase').implement({
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
      organizationId: t.exposeID('organizationId', { description: 'The organization that runs the cohort.' }),
      partnerId: t.exposeID('partnerId', { description: 'The partner platform its learners launch from.' }),
      archivedAt: t.expose('archivedAt', { type: 'DateTime', nullable: true, description: 'Set once archived: no new launches, sign-ins or assignments.' }),
      cases: t.field({ type: [CohortCaseRef], resolve: (cohort, _args, ctx) => listCohortCases(ctx, cohort.id) }),
    }),
  });
  builder.asEntity(CohortRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => loadCohort(ctx, ref.id) });

  // What an (anonymous) launcher learns about the new session; the learner reads the rest with the access token.
  const LaunchedSessionRef = builder.objectRef<CaseSession>('LaunchedSession').implement({
    fields: (t) => ({ id: t.exposeID('id'), status: t.field({ type: SessionStatusEnum, resolve: (s) => s.status }) }),
  });
  const LaunchResultRef = builder.objectRef<LaunchResult>('LaunchResult').implement({
    fields: (t) => ({
      accessToken: t.exposeString('accessToken', { description: 'A platform session token for the learner (Bearer).' }),
      launchUrl: t.exposeString('launchUrl', { nullable: true, description: 'The partner’s learner app, with `session_id` and `access_token` in the URL fragment; null when the partner has no learner app URL.' }),
      session: t.field({ type: LaunchedSessionRef, resolve: (r) => r.session }),
    }),
  });

  const SsoSignInRef = builder.objectRef<SsoSignIn>('PartnerSsoSignIn').implement({
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

  const ReplyChunkRef = builder.objectRef<ReplyChunk>('PatientReplyChunk').implement({
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
      resolve: (query, _root, _args, ctx) => listCases(ctx, query),
    }),
    rescoreSession: t.field({
      type: ScoreResultRef,
      description: 'Scores a session again from its stored record; always the same as its stored score.',
      args: { sessionId: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => rescoreSession(ctx, String(args.sessionId)),
    }),
  }));

  builder.mutationFields((t) => ({
    createCase: t.prismaField({
      type: 'CaseVersion',
      description: 'A new case with its first draft version. Content that looks like a real identifier is refused.',
      args: { input: t.arg({ type: CreateCaseInput, required: true }) },
      resolve: (query, _root, { input }, ctx) => createCase(ctx, { slug: input.slug, title: input.title, content: input.content }, query),
    }),
    reviseCase: t.prismaField({
      type: 'CaseVersion',
      description: 'Edits the draft, or starts a new version when the latest is published (published versions never change).',
      args: { caseId: t.arg.id({ required: true }), content: t.arg({ type: 'JSON', required: true }) },
      resolve: (query, _root, args, ctx) => reviseCase(ctx, String(args.caseId), args.content, query),
    }),
    publishCaseVersion: t.prismaField({
      type: 'CaseVersion',
      args: { versionId: t.arg.id({ required: true }) },
      resolve: (query, _root, args, ctx) => publishCaseVersion(ctx, String(args.versionId), query),
    }),
    assignToCohort: t.field({
      type: AssignmentRef,
      args: { input: t.arg({ type: AssignmentInput, required: true }) },
      resolve: (_root, { input }, ctx) =>
        assignToCohort(ctx, { cohortId: String(input.cohortId), caseId: input.caseId ? String(input.caseId) : null, caseSetId: input.caseSetId ? String(input.caseSetId) : null, dueAt: input.dueAt ?? null }),
    }),
  }));
  void CaseVersionRef;

  builder.queryFields((t) => ({
    caseSession: t.prismaField({
      type: 'CaseSession',
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: (query, _root, args, ctx) => findSession(ctx, String(args.id), query),
    }),
    caseSessions: t.prismaField({
      type: ['CaseSession'],
      description: 'A learner’s own sessions, or a cohort’s sessions for its partner and staff.',
      args: { cohortId: t.arg.id({ required: false }) },
      resolve: (query, _root, args, ctx) => listSessions(ctx, { cohortId: args.cohortId ? String(args.cohortId) : null }, query),
    }),
    cohort: t.prismaField({
      type: 'Cohort',
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: (query, _root, args, ctx) => findCohort(ctx, String(args.id), query),
    }),
    cohortCases: t.field({
      type: [CohortCaseRef],
      args: { cohortId: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => listCohortCases(ctx, String(args.cohortId)),
    }),
  }));

  builder.mutationFields((t) => ({
    launchSession: t.field({
      type: LaunchResultRef,
      description: 'Verifies a partner-signed launch token and starts a case session for its learner.',
      args: { token: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => launchSession(ctx, args.token),
    }),
    signInWithPartnerSso: t.field({
      type: SsoSignInRef,
      description: 'Signs a learner in with an OpenID Connect ID token from their partner (verified against the partner’s JWKS).',
      args: { idToken: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => signInWithPartnerSso(ctx, args.idToken),
    }),
    startCaseSession: t.prismaField({
      type: 'CaseSession',
      description: 'A signed-in learner starts a case assigned to one of their cohorts (the first assigned when caseId is absent).',
      args: { cohortId: t.arg.id({ required: true }), caseId: t.arg.id({ required: false }) },
      resolve: (query, _root, args, ctx) => startCaseSession(ctx, String(args.cohortId), args.caseId ? String(args.caseId) : null, query),
    }),
    sendLearnerMessage: t.field({
      type: SentMessageRef,
      args: { sessionId: t.arg.id({ required: true }), text: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => sendLearnerMessage(ctx, String(args.sessionId), args.text),
    }),
    orderInvestigation: t.field({
      type: InvestigationResultRef,
      args: { sessionId: t.arg.id({ required: true }), code: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => orderInvestigation(ctx, String(args.sessionId), args.code),
    }),
    submitDiagnosis: t.prismaField({
      type: 'CaseSession',
      args: { sessionId: t.arg.id({ required: true }), diagnosis: t.arg.string({ required: true }) },
      resolve: (query, _root, args, ctx) => submitDiagnosis(ctx, String(args.sessionId), args.diagnosis, query),
    }),
    submitManagement: t.prismaField({
      type: 'CaseSession',
      args: { sessionId: t.arg.id({ required: true }), plan: t.arg.string({ required: true }) },
      resolve: (query, _root, args, ctx) => submitManagement(ctx, String(args.sessionId), args.plan, query),
    }),
    completeSession: t.prismaField({
      type: 'CaseSession',
      args: { sessionId: t.arg.id({ required: true }) },
      resolve: (query, _root, args, ctx) => completeSession(ctx, String(args.sessionId), query),
    }),
    deleteCohortLearnerData: t.field({
      type: DeletedRef,
      description: 'Retention: deletes a cohort’s learner data. Audited.',
      args: { cohortId: t.arg.id({ required: true }), reason: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => deleteCohortLearnerData(ctx, String(args.cohortId), args.reason),
    }),
  }));

  builder.subscriptionFields((t) => ({
    patientReply: t.field({
      type: ReplyChunkRef,
      description: 'The simulated patient’s replies in a session, streamed chunk by chunk.',
      args: { sessionId: t.arg.id({ required: true }) },
      subscribe: (_root, args, ctx) => replyStream(ctx, String(args.sessionId)),
      resolve: (chunk) => chunk,
    }),
  }));

  // A learner is a platform user (identity's User, same id): training adds who they learn with.
  const LearnerProfileRef = builder.objectRef<LearnerProfile>('LearnerProfile').implement({
    fields: (t) => ({
      learnerId: t.exposeID('learnerId'),
      displayName: t.exposeString('displayName', { nullable: true, description: 'As the partner’s launch or sign-in gave it.' }),
      partnerId: t.exposeID('partnerId'),
      cohortIds: t.exposeIDList('cohortIds', { description: 'The cohorts the learner is enrolled in, first enrolment first.' }),
    }),
  });
  builder.externalRef('User', builder.selection<{ id: string }>('id')).implement({
    externalFields: (t) => ({ id: t.id() }),
    fields: (t) => ({
      learner: t.field({ type: LearnerProfileRef, nullable: true, description: 'Set when the user is a learner of a training partner.', resolve: (user, _args, ctx) => learnerProfile(ctx, user.id) }),
    }),
  });

  addOnboardingFields(builder);
  return toSubgraphSchema(builder);
}

export type { CaseContent };
