import { randomUUID } from 'node:crypto';
import { createBuilder, toSubgraphSchema } from '../../subgraphs/kit/builder.js';
import { forbidden, unauthenticated } from '../../subgraphs/kit/errors.js';
import { isAuthenticated, type Identity } from '../../subgraphs/kit/identity.js';
import { RedisPubSub } from '../../subgraphs/kit/pubsub.js';
import { hasRole } from '../../subgraphs/kit/shield.js';
import { filterEvents } from '../../subgraphs/kit/subscriptions.js';
import type { SubgraphDefinition } from '../../subgraphs/kit/subgraph.js';
import { PATIENTS } from '../../prisma/seed-data.js';

/**
 * A small second subgraph for tests only: it owns visits, extends the identity subgraph's
 * Patient with `visits`, and points back to Patient, so a query can join two subgraphs
 * through the gateway before the real domain subgraphs exist. It keeps its data in memory.
 */
interface Visit {
  id: string;
  patientId: string;
  organizationId: string;
  reason: string;
}

export const VISITS: Visit[] = [
  { id: 'visit-1', patientId: PATIENTS.amaraNorth.id, organizationId: PATIENTS.amaraNorth.organizationId, reason: 'Follow-up' },
  { id: 'visit-2', patientId: PATIENTS.amaraNorth.id, organizationId: PATIENTS.amaraNorth.organizationId, reason: 'Vaccination' },
  { id: 'visit-3', patientId: PATIENTS.bayoNorth.id, organizationId: PATIENTS.bayoNorth.organizationId, reason: 'Blood pressure check' },
  { id: 'visit-4', patientId: PATIENTS.fayeHospital.id, organizationId: PATIENTS.fayeHospital.organizationId, reason: 'Admission' },
];

/**
 * How many entity lookups the identity subgraph was asked for, and how many `visitRecorded`
 * subscriptions are open (ready to receive) right now; tests read them to prove the join and
 * the teardown.
 */
export const visitsCalls = { patientReferences: 0, openSubscriptions: 0 };

export const VISIT_RECORDED_TOPIC = 'visits.recorded';

function visible(identity: Identity, visit: Visit): boolean {
  if (!isAuthenticated(identity)) return false;
  if (identity.role === 'PATIENT') return identity.patientId === visit.patientId;
  return identity.organizationId === visit.organizationId;
}

export const visitsSubgraph: SubgraphDefinition = {
  name: 'visits',
  defaultPort: 4199,
  // Its visits live in memory: it reads no model, so any database access is refused.
  policies: {},
  buildSchema() {
    const builder = createBuilder({ subscriptions: true });
    const PatientRef = builder.externalRef('Patient', builder.selection<{ id: string }>('id'), (ref) => {
      visitsCalls.patientReferences += 1;
      return ref;
    });
    const VisitRef = builder.objectRef<Visit>('Visit');
    PatientRef.implement({
      externalFields: (t) => ({ id: t.id() }),
      fields: (t) => ({
        visits: t.field({
          type: [VisitRef],
          resolve: (patient, _args, ctx) => VISITS.filter((v) => v.patientId === patient.id && visible(ctx.identity, v)),
        }),
      }),
    });
    VisitRef.implement({
      fields: (t) => ({
        id: t.exposeID('id'),
        reason: t.exposeString('reason'),
        patient: t.field({ type: PatientRef, resolve: (visit) => ({ id: visit.patientId }) }),
      }),
    });
    builder.queryFields((t) => ({
      visits: t.field({
        type: [VisitRef],
        resolve: (_root, _args, ctx) => VISITS.filter((v) => visible(ctx.identity, v)),
      }),
      visit: t.field({
        type: VisitRef,
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, ctx) => {
          const visit = VISITS.find((v) => v.id === args.id);
          if (!visit || !visible(ctx.identity, visit)) throw forbidden('You may not read this visit');
          return visit;
        },
      }),
    }));
    builder.mutationFields((t) => ({
      noop: t.boolean({ resolve: () => true }),
      // The visit belongs to the caller's organization whatever the patient: tests use that to
      // record a visit whose patient the caller may not read in the identity subgraph.
      recordVisit: t.field({
        type: VisitRef,
        args: { patientId: t.arg.id({ required: true }), reason: t.arg.string({ required: true }) },
        resolve: async (_root, args, ctx) => {
          if (!isAuthenticated(ctx.identity)) throw unauthenticated();
          const visit: Visit = { id: `visit-${randomUUID()}`, patientId: String(args.patientId), organizationId: ctx.identity.organizationId ?? '', reason: args.reason };
          await ctx.pubsub.publish(VISIT_RECORDED_TOPIC, visit);
          return visit;
        },
      }),
    }));
    builder.subscriptionFields((t) => ({
      visitRecorded: t.field({
        type: VisitRef,
        nullable: true,
        subscribe: async (_root, _args, ctx) => {
          const events = ctx.pubsub.subscribe<Visit>(VISIT_RECORDED_TOPIC);
          // Count the subscription once it can receive: with Redis, after SUBSCRIBE is confirmed.
          if (ctx.pubsub instanceof RedisPubSub) await ctx.pubsub.ready(VISIT_RECORDED_TOPIC);
          visitsCalls.openSubscriptions += 1;
          return filterEvents(events, (visit) => visible(ctx.identity, visit), () => (visitsCalls.openSubscriptions -= 1));
        },
        resolve: (visit) => visit,
      }),
    }));
    return toSubgraphSchema(builder);
  },
  permissions: {
    Query: { visits: hasRole('PATIENT', 'NURSE', 'CLINICIAN', 'ADMIN'), visit: hasRole('PATIENT', 'NURSE', 'CLINICIAN', 'ADMIN') },
    Mutation: { recordVisit: hasRole('NURSE', 'CLINICIAN', 'ADMIN') },
    Subscription: { visitRecorded: hasRole('PATIENT', 'NURSE', 'CLINICIAN', 'ADMIN') },
    Visit: hasRole('PATIENT', 'NURSE', 'CLINICIAN', 'ADMIN'),
    Patient: hasRole('PATIENT', 'NURSE', 'CLINICIAN', 'ADMIN'),
  },
  routes: [
    {
      method: 'POST',
      path: '/webhooks/visits/:source',
      public: true,
      // Echoes what arrived, so a test can prove the gateway forwards raw bytes and headers.
      async handle(request) {
        // A redirect with two cookies, to prove the gateway hands both back untouched.
        if (request.params['source'] === 'redirect') {
          return { status: 302, headers: { location: 'https://elsewhere.example/next?x=1', 'set-cookie': ['a=1; Path=/; HttpOnly', 'b=2; Path=/; Secure'] }, body: '' };
        }
        return {
          status: 202,
          body: {
            source: request.params['source'],
            bodyBase64: request.body.toString('base64'),
            signature: request.headers['x-visits-signature'] ?? null,
            identityKind: request.identity.kind,
          },
        };
      },
    },
  ],
};
