import SchemaBuilder from '@pothos/core';
import DirectivesPlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import { GraphQLError, Kind, type GraphQLSchema, type ValueNode } from 'graphql';
import type PrismaTypes from '../../prisma/generated/pothos-types.js';
import { getDatamodel } from '../../prisma/generated/pothos-types.js';
import type { SubgraphContext } from './context.js';

export interface BuilderTypes {
  Context: SubgraphContext;
  PrismaTypes: PrismaTypes;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    Date: { Input: string; Output: Date | string };
    /** Declared for every builder, implemented only by subgraphs that accept free-form JSON. */
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
}

export interface BuilderOptions {
  /**
   * Declare the Subscription root type, so `builder.subscriptionFields` can add to it. Off by
   * default: an empty Subscription type is invalid GraphQL, and a subgraph without streams
   * should not contribute one to the supergraph.
   */
  subscriptions?: boolean;
  /** Declare the Mutation root type (on by default); a read-only subgraph turns it off, for the same reason. */
  mutations?: boolean;
}

/**
 * One builder per subgraph, always with the same plugins (Pothos plugin options are global
 * types): relay connections, prisma for planned relation loading, directives + federation
 * for entities.
 */
export function createBuilder(options: BuilderOptions = {}) {
  const builder = new SchemaBuilder<BuilderTypes>({
    plugins: [RelayPlugin, PrismaPlugin, DirectivesPlugin, FederationPlugin],
    relay: {
      // Global object identification stays off: entities are resolved by key through federation.
      nodeQueryOptions: false,
      nodesQueryOptions: false,
      // Every subgraph defines PageInfo; federation requires it to be declared shareable.
      pageInfoTypeOptions: { shareable: true },
    },
    defaultFieldNullability: false,
    prisma: {
      // Planned relation loads go through the request's access-checked client too.
      client: (ctx) => ctx.db,
      dmmf: getDatamodel(),
      filterConnectionTotalCount: true,
      exposeDescriptions: false,
      onUnusedQuery: process.env['NODE_ENV'] === 'production' ? null : 'warn',
    },
  });

  builder.scalarType('DateTime', {
    description: 'An ISO-8601 timestamp in UTC.',
    serialize: (value) => value.toISOString(),
    parseValue: (value) => parseDateTime(value),
    parseLiteral: (ast) => parseDateTime(literalString(ast)),
  });
  builder.scalarType('Date', {
    description: 'A calendar date, YYYY-MM-DD.',
    serialize: (value) => (typeof value === 'string' ? value : value.toISOString().slice(0, 10)),
    parseValue: (value) => parseDate(value),
    parseLiteral: (ast) => parseDate(literalString(ast)),
  });
  builder.queryType({});
  if (options.mutations ?? true) builder.mutationType({});
  if (options.subscriptions) builder.subscriptionType({});
  return builder;
}

export type Builder = ReturnType<typeof createBuilder>;

/** Identity's Patient as another subgraph refers to it: by id. */
export const patientReference = (builder: Builder) => builder.externalRef('Patient', builder.selection<{ id: string }>('id'));
export type PatientReference = ReturnType<typeof patientReference>;

/** Adds a subgraph's own fields to identity's Patient (resolved from the patient's id). */
export function extendPatient(ref: PatientReference, fields: NonNullable<Parameters<PatientReference['implement']>[0]['fields']>): void {
  ref.implement({ externalFields: (t) => ({ id: t.id() }), fields });
}

/**
 * The arguments of an organization's report over [from, to): required bounds for figures that
 * must name their period (billing, analytics), optional ones for a live view (nurse dashboard).
 */
export const organizationPeriodArgs = (builder: Builder) =>
  builder.args((t) => ({
    organizationId: t.id({ required: true }),
    from: t.field({ type: 'DateTime', required: true, description: 'Start of the period, inclusive.' }),
    to: t.field({ type: 'DateTime', required: true, description: 'End of the period, exclusive.' }),
  }));
export const optionalPeriodArgs = (builder: Builder) =>
  builder.args((t) => ({
    from: t.field({ type: 'DateTime', required: false, description: 'Start of the period, inclusive; open when absent.' }),
    to: t.field({ type: 'DateTime', required: false, description: 'End of the period, exclusive; open when absent.' }),
  }));

export function toSubgraphSchema(builder: Builder): GraphQLSchema {
  // The @link imports are derived from the directives the schema actually uses.
  return builder.toSubGraphSchema({ linkUrl: 'https://specs.apollo.dev/federation/v2.6' });
}

function literalString(ast: ValueNode): unknown {
  return ast.kind === Kind.STRING ? ast.value : undefined;
}

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new GraphQLError('DateTime must be an ISO-8601 string', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return date;
}

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

function parseDate(value: unknown): string {
  if (typeof value !== 'string' || !DATE_PATTERN.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new GraphQLError('Date must be YYYY-MM-DD', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  // Reject dates that Date.parse rolls over, such as 2024-02-31.
  if (new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
    throw new GraphQLError('Date is not a calendar date', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value;
}
