import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode } from '@apollo/query-planner';
import type { DocumentNode, GraphQLSchema } from 'graphql';

/** What a subscription becomes: one subscription at the owning subgraph, then the joins per event. */
export interface SubscriptionPlan {
  primary: FetchNode;
  rest?: PlanNode;
}

/** Operations are few and repeated (one per dashboard widget); the cap only bounds abuse. */
const MAX_CACHED_PLANS = 500;

/**
 * Plans subscriptions with Apollo's federation query planner over the same supergraph the
 * HTTP gateway serves. @apollo/gateway builds these plans but refuses to run them; the
 * gateway's subscription executor runs them instead. Plans are cached by operation text and
 * name, as the HTTP gateway caches query plans.
 */
export class SubscriptionPlanner {
  readonly supergraphSchema: GraphQLSchema;
  readonly apiSchema: Schema;
  /** The schema clients see: operations are validated against it. */
  readonly apiGraphQLSchema: GraphQLSchema;
  /** The subgraphs fetches can go to, by the names plans use. */
  readonly subgraphNames: string[];
  private readonly planner: QueryPlanner;
  private readonly plans = new Map<string, SubscriptionPlan>();

  constructor(supergraphSdl: string) {
    const supergraph = Supergraph.build(supergraphSdl);
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.apiSchema = supergraph.apiSchema();
    this.apiGraphQLSchema = this.apiSchema.toGraphQLJSSchema();
    this.planner = new QueryPlanner(supergraph);
    this.subgraphNames = supergraph.subgraphsMetadata().map((subgraph) => subgraph.name);
  }

  /** `document` must already be validated against `apiGraphQLSchema`. */
  plan(query: string, document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const key = `${operationName ?? ''}\u0000${query}`;
    const cached = this.plans.get(key);
    if (cached) return cached;
    const operation = operationFromDocument(this.apiSchema, document, { operationName });
    const node = this.planner.buildQueryPlan(operation).node;
    if (node?.kind !== 'Subscription') throw new Error(`expected a subscription plan, got ${node?.kind ?? 'an empty plan'}`);
    const plan: SubscriptionPlan = { primary: node.primary, rest: node.rest };
    if (this.plans.size >= MAX_CACHED_PLANS) {
      const oldest = this.plans.keys().next().value;
      if (oldest !== undefined) this.plans.delete(oldest);
    }
    this.plans.set(key, plan);
    return plan;
  }
}
