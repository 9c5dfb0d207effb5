import { Role } from '../kit/identity.js';
import { allow, hasRole, signedIn, type IRules } from '../kit/shield.js';
import { TRAINING_STAFF } from './access.js';

/**
 * Who may call what in the training subgraph; everything else is denied. Roles are decided
 * here; which cohort or session (own, the partner's, the organization's) by the access policies (access.ts).
 */
const learner = hasRole(Role.LEARNER);
const readers = hasRole(Role.LEARNER, Role.PARTNER, ...TRAINING_STAFF);
/** BI of the cohort's organization reads a cohort's name (for its figures), never its sessions. */
const cohortReaders = hasRole(Role.PARTNER, Role.LEARNER, Role.BI, ...TRAINING_STAFF);
const staff = hasRole(...TRAINING_STAFF);
/** Onboarding changes what a partner may do in the organization's name: its admins only. */
const onboarding = hasRole(Role.ADMIN);
/** A partner reads its own record (the access policies confine it), admins their organization's. */
const partnerReaders = hasRole(Role.ADMIN, Role.PARTNER);

export const trainingPermissions: IRules = {
  Query: {
    caseSession: readers,
    caseSessions: readers,
    cohort: cohortReaders,
    cohortCases: cohortReaders,
    trainingCases: staff,
    partners: partnerReaders,
    ltiPlatforms: onboarding,
    partner: partnerReaders,
    rescoreSession: staff,
  },
  Mutation: {
    // The launch token is the credential: verified in the service, anonymous callers welcome.
    launchSession: allow,
    signInWithPartnerSso: allow,
    startCaseSession: learner,
    sendLearnerMessage: learner,
    orderInvestigation: learner,
    submitDiagnosis: learner,
    submitManagement: learner,
    completeSession: learner,
    deleteCohortLearnerData: hasRole(Role.ADMIN),
    createCase: staff,
    reviseCase: staff,
    publishCaseVersion: staff,
    assignToCohort: hasRole(Role.PARTNER, ...TRAINING_STAFF),
    registerPartner: onboarding,
    registerLtiPlatform: onboarding,
    updatePartner: onboarding,
    rotatePartnerLaunchSecret: onboarding,
    createCohort: onboarding,
    renameCohort: onboarding,
    archiveCohort: onboarding,
  },
  Subscription: {
    patientReply: readers,
  },
  LaunchResult: allow,
  LaunchedSession: allow,
  PartnerSsoSignIn: allow,
  CaseSession: readers,
  SessionTurn: readers,
  SubScore: readers,
  FlaggedError: readers,
  Cohort: cohortReaders,
  CohortCase: cohortReaders,
  InvestigationResult: learner,
  SentLearnerMessage: learner,
  PatientReplyChunk: readers,
  LearnerDataDeletion: hasRole(Role.ADMIN),
  TrainingCase: staff,
  CaseVersion: staff,
  ScoreResult: staff,
  CohortAssignment: hasRole(Role.PARTNER, ...TRAINING_STAFF),
  Partner: partnerReaders,
  // The access policies decide whose learner profile is shown (own, the partner's, the organization's).
  User: signedIn,
  LearnerProfile: signedIn,
  OidcProvider: partnerReaders,
  PartnerWithSecret: onboarding,
  LtiPlatform: onboarding,
};
