import type { GraphQLSchema } from 'graphql';
import type { ChatMessage } from '../../prisma/generated/client/client.js';
import { createBuilder, extendPatient, patientReference, toSubgraphSchema } from '../kit/builder.js';
import type { RedFlag } from '../kit/red-flags/red-flag-detector.js';
import * as chat from './service.js';

/** The chat subgraph's types. Resolvers translate; rules live in service.ts. */
export function buildChatSchema(): GraphQLSchema {
  const builder = createBuilder({ subscriptions: true });

  const RoleEnum = builder.enumType('ChatRole', { values: ['PATIENT', 'ASSISTANT', 'NURSE'] as const });
  const FlagUrgencyEnum = builder.enumType('RedFlagUrgency', { values: { CRITICAL: { value: 'critical' }, HIGH: { value: 'high' } } as const });

  const DetectorEnum = builder.enumType('RedFlagDetector', {
    values: {
      RULES: { description: 'The rules: phrases a clinician can read.' },
      CLASSIFIER: { description: 'The classifier trained on the labelled corpus.' },
      LLM: { description: 'The configured LLM, which may add flags but never remove one.' },
      SAFETY: { description: 'The detectors could not assess the message (failure, timeout, unreadable); a nurse should read it.' },
    } as const,
  });

  const RedFlagRef = builder.objectRef<RedFlag>('RedFlag').implement({
    description: 'An emergency sign in a patient’s message (or a message the detectors could not assess: DETECTION_FAILED, DETECTION_TIMEOUT, UNREADABLE_MESSAGE).',
    fields: (t) => ({
      code: t.exposeString('code'),
      urgency: t.field({ type: FlagUrgencyEnum, resolve: (f) => f.urgency }),
      evidence: t.exposeString('evidence', { description: 'The words of the message that raised it (or what went wrong).' }),
      detectedBy: t.field({ type: [DetectorEnum], description: 'Which detectors raised it.', resolve: (f) => f.detectedBy }),
      signals: t.exposeStringList('signals', { description: 'The classifier’s strongest words for this code, strongest first; empty when it did not fire.' }),
    }),
  });

  /** Messages arrive from pubsub with ISO dates; from the database with Dates. */
  type WireMessage = Omit<ChatMessage, 'createdAt'> & { createdAt: Date | string };
  const ChatMessageRef = builder.objectRef<WireMessage>('ChatMessage').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      sessionId: t.exposeID('sessionId'),
      role: t.field({ type: RoleEnum, resolve: (m) => m.role }),
      authorId: t.exposeID('authorId', { nullable: true }),
      text: t.exposeString('text'),
      redFlags: t.field({ type: [RedFlagRef], resolve: (m) => chat.flagsOf(m as ChatMessage) }),
      createdAt: t.field({ type: 'DateTime', resolve: (m) => new Date(m.createdAt) }),
    }),
  });

  const PatientRef = patientReference(builder);

  const ChatSessionRef = builder.prismaObject('ChatSession', {
    fields: (t) => ({
      id: t.exposeID('id'),
      organizationId: t.exposeID('organizationId'),
      patient: t.field({ type: PatientRef, resolve: (s) => ({ id: s.patientId }) }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      lastMessage: t.field({ type: ChatMessageRef, nullable: true, resolve: (s, _args, ctx) => chat.lastMessages(ctx, s.id) }),
    }),
  });
  builder.asEntity(ChatSessionRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => chat.loadSession(ctx, ref.id) });

  extendPatient(PatientRef, (t) => ({
    chatSessions: t.field({ type: [ChatSessionRef], description: 'The patient’s chats (their own, or their organization’s staff).', resolve: (patient, _args, ctx) => chat.sessionsForPatient(ctx, patient.id) }),
  }));

  const SentRef = builder.objectRef<chat.SentMessage>('SentChatMessage').implement({
    fields: (t) => ({
      message: t.field({ type: ChatMessageRef, resolve: (s) => s.message }),
      redFlags: t.field({ type: [RedFlagRef], resolve: (s) => chat.flagsOf(s.message) }),
      replyMessageId: t.exposeID('replyMessageId', { nullable: true, description: 'The assistant message streaming through assistantReply (emergency guidance is sent at once).' }),
    }),
  });

  const ReplyChunkRef = builder.objectRef<chat.ReplyChunk>('AssistantReplyChunk').implement({
    fields: (t) => ({
      messageId: t.exposeID('messageId'),
      seq: t.exposeInt('seq'),
      delta: t.exposeString('delta'),
      done: t.exposeBoolean('done'),
      text: t.exposeString('text'),
    }),
  });

  builder.queryFields((t) => ({
    chatSession: t.field({ type: ChatSessionRef, nullable: true, args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => chat.loadSession(ctx, String(args.id)) }),
    chatHistory: t.field({
      type: [ChatMessageRef],
      description: 'Every message of a chat, oldest first (audited).',
      args: { sessionId: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => chat.listMessages(ctx, String(args.sessionId)),
    }),
  }));

  builder.mutationFields((t) => ({
    startChat: t.field({
      type: ChatSessionRef,
      description: 'A patient starts a chat; a nurse or clinician starts one on a patient’s behalf (patientId).',
      args: { patientId: t.arg.id({ required: false }) },
      resolve: (_root, args, ctx) => chat.startChat(ctx, args.patientId ? String(args.patientId) : null),
    }),
    sendChatMessage: t.field({
      type: SentRef,
      args: { sessionId: t.arg.id({ required: true }), text: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => chat.sendMessage(ctx, String(args.sessionId), args.text),
    }),
    joinChat: t.field({ type: ChatSessionRef, args: { sessionId: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => chat.joinChat(ctx, String(args.sessionId)) }),
  }));

  builder.subscriptionFields((t) => ({
    assistantReply: t.field({
      type: ReplyChunkRef,
      description: 'The assistant’s replies in a chat, chunk by chunk.',
      args: { sessionId: t.arg.id({ required: true }) },
      subscribe: (_root, args, ctx) => chat.replyStream(ctx, String(args.sessionId)),
      resolve: (chunk) => chunk,
    }),
    chatMessages: t.field({
      type: ChatMessageRef,
      description: 'Every new message in a chat (patient, assistant, nurse), to everyone in it.',
      args: { sessionId: t.arg.id({ required: true }) },
      subscribe: (_root, args, ctx) => chat.messageStream(ctx, String(args.sessionId)),
      resolve: (message) => message,
    }),
  }));

  return toSubgraphSchema(builder);
}
