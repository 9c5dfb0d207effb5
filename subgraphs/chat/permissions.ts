import { Role } from '../kit/identity.js';
import { hasRole, type IRules } from '../kit/shield.js';
import { CHAT_STAFF } from './service.js';

/** Patients (their own chats) and their organization's nurses and clinicians; nobody else. */
const participants = hasRole(Role.PATIENT, ...CHAT_STAFF);
const staff = hasRole(...CHAT_STAFF);

export const chatPermissions: IRules = {
  Query: { chatSession: participants, chatHistory: participants },
  Mutation: { startChat: participants, sendChatMessage: participants, joinChat: staff },
  Subscription: { assistantReply: participants, chatMessages: participants },
  ChatSession: participants,
  ChatMessage: participants,
  RedFlag: participants,
  SentChatMessage: participants,
  AssistantReplyChunk: participants,
  Patient: participants,
};
