import { hasRole, type IRules } from '../kit/shield.js';
import { DASHBOARD_VIEWERS, QUEUE_STAFF } from './service.js';

/** Nurses and clinicians work their organization's queue; admins also see its figures. Nobody else. */
const staff = hasRole(...QUEUE_STAFF);
const viewers = hasRole(...DASHBOARD_VIEWERS);

export const nursePermissions: IRules = {
  Query: { nurseQueue: staff, queueEntry: staff, nurseDashboard: viewers },
  Mutation: { createQueueEntry: staff, claimQueueEntry: staff, releaseQueueEntry: staff, actOnQueueEntry: staff },
  Subscription: { queueUpdated: staff, redFlagAlerts: staff },
  QueueEntry: staff,
  QueueEntryConnection: staff,
  QueueEntryEdge: staff,
  NurseAction: staff,
  QueueEvent: staff,
  Patient: staff,
  User: viewers,
  NurseDashboard: viewers,
  UrgencyCount: viewers,
  StatusCount: viewers,
  NurseActivity: viewers,
  PageInfo: staff,
};
