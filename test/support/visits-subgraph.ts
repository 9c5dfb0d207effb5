import { createBuilder, toSubgraphSchema } from '../../subgraphs/kit/builder.js';
import { forbidden } from '../../subgraphs/kit/errors.js';
import { isAuthenticated, type Identity } from '../../subgraphs/kit/identity.js';
import { hasRole } from '../../subgraphs/kit/shield.js';
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

/** How many entity lookups the identity subgraph was asked for; tests read it to prove the join. */
export const visitsCalls = { patientReferences: 0 };

function visible(identity: Identity, visit: Visit): boolean {
  if (!isAuthenticated(identity)) return false;
  if (identity.role === 'PATIENT') return identity.patientId === visit.patientId;
  return identity.organizationId === visit.organizationId;
}

export const visitsSubgraph: SubgraphDefinition = {
  name: 'visits',
  defaultPort: 4199,
  buildSchema() {
    const builder = createBuilder();
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
    builder.mutationFields((t) => ({ noop: t.boolean({ resolve: () => true }) }));
    return toSubgraphSchema(builder);
  },
  permissions: {
    Query: { visits: hasRole('PATIENT', 'NURSE', 'CLINICIAN', 'ADMIN'), visit: hasRole('PATIENT', 'NURSE', 'CLINICIAN', 'ADMIN') },
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
