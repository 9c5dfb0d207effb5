import type { Prisma } from '../../prisma/generated/client/client.js';
import { NOTHING, type AccessPolicies } from '../kit/access.js';
import { forbidden } from '../kit/errors.js';
import { isAuthenticated, requireSignedIn, requireStaffOf, Role, type Identity } from '../kit/identity.js';
import { CHAT_STAFF } from './service.js';

/**
 * Which chats a caller reaches: a patient their own; the nurses and clinicians of the chat's
 * organization theirs; nobody else any. Messages and participants follow their chat.
 */
export function chatsOf(identity: Identity): Prisma.ChatSessionWhereInput {
  if (!isAuthenticated(identity)) return NOTHING;
  if (identity.role === Role.PATIENT) return identity.patientId ? { patientId: identity.patientId } : NOTHING;
  if (CHAT_STAFF.includes(identity.role) && identity.organizationId) return { organizationId: identity.organizationId };
  return NOTHING;
}

export const chatPolicies: AccessPolicies = {
  ChatSession: {
    audited: true,
    read: (scope) => chatsOf(scope.identity),
    create: (scope, data) => {
      const caller = requireSignedIn(scope.identity);
      const own = caller.role === Role.PATIENT
        ? data['patientId'] === caller.patientId && data['organizationId'] === caller.organizationId
        : CHAT_STAFF.includes(caller.role) && data['organizationId'] === caller.organizationId;
      if (!own || data['startedById'] !== caller.subject) throw forbidden('You may not start this chat');
    },
  },
  ChatMessage: {
    audited: true,
    read: (scope) => ({ session: chatsOf(scope.identity) }),
    // Part of the clinical record: never edited. Messages are appended through their chat (its
    // write policy decides), so there is no direct create either.
    write: () => NOTHING,
  },
  ChatParticipant: {
    read: (scope) => ({ session: chatsOf(scope.identity) }),
    // Staff join as themselves; nobody changes another's participation.
    write: (scope) => ({ session: chatsOf(scope.identity), userId: isAuthenticated(scope.identity) ? scope.identity.subject : { in: [] } }),
    create: async (scope, data) => {
      const caller = requireStaffOf(scope.identity, CHAT_STAFF, 'Only nurses and clinicians join chats');
      if (data['userId'] !== caller.subject) throw forbidden('You may join chats only as yourself');
      const sessionId = data['sessionId'];
      const reachable = typeof sessionId === 'string' ? await scope.system.chatSession.count({ where: { AND: [{ id: sessionId }, chatsOf(caller)] } }) : 0;
      if (reachable === 0) throw forbidden('You may not join this chat');
    },
  },
};
