import type { GraphQLFieldResolver, GraphQLResolveInfo, GraphQLSchema } from 'graphql';
import { isObjectType, isUnionType } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { allow, deny, rule, shield } from 'graphql-shield';
import type { IRules } from 'graphql-shield';
import type { SubgraphContext } from './context.js';
import { forbidden, unauthenticated } from './errors.js';
import { isAuthenticated, type AuthenticatedIdentity, type RoleName } from './identity.js';

export { allow, deny };
export type { IRules };
/** A rule or a logic rule (allow, deny, and, or…). */
export type ShieldRule = typeof allow | ReturnType<ReturnType<typeof rule>>;

/** Signed in with any role. */
export const signedIn = rule('signedIn', { cache: 'contextual' })(
  (_parent: unknown, _args: unknown, ctx: SubgraphContext) => isAuthenticated(ctx.identity) || unauthenticated(),
);

/** shield requires one instance per rule name; the same role set always yields the same rule. */
const roleRules = new Map<string, ShieldRule>();

/** Signed in with one of these roles: anonymous callers get UNAUTHENTICATED, others FORBIDDEN. */
export function hasRole(...roles: RoleName[]): ShieldRule {
  const name = `hasRole:${[...new Set(roles)].sort().join(',')}`;
  let existing = roleRules.get(name);
  if (!existing) {
    existing = rule(name, { cache: 'contextual' })((_parent: unknown, _args: unknown, ctx: SubgraphContext) => {
      if (!isAuthenticated(ctx.identity)) return unauthenticated();
      return roles.includes(ctx.identity.role) || forbidden();
    });
    roleRules.set(name, existing);
  }
  return existing;
}

/**
 * A rule about the object being resolved (ownership, tenancy), evaluated once per object.
 * `check` sees the authenticated identity and the parent value.
 */
export function ownsParent<P>(name: string, check: (identity: AuthenticatedIdentity, parent: P) => boolean): ShieldRule {
  return rule(name, { cache: 'strict' })((parent: P, _args: unknown, ctx: SubgraphContext) => {
    if (!isAuthenticated(ctx.identity)) return unauthenticated();
    return check(ctx.identity, parent) || forbidden();
  });
}

/**
 * Applies the subgraph's rules, deny by default. `_service` (the SDL, for composition) is
 * open; `_entities` is open at the root because every entity type must carry its own rule:
 * an entity reached through `_entities` is then as protected as through a root field.
 * A subgraph that forgets to protect an entity type fails at start-up, not in production.
 */
export function applyShield(schema: GraphQLSchema, rules: IRules): GraphQLSchema {
  const tree = rules as Record<string, ShieldRule | Record<string, ShieldRule>>;
  const entityUnion = schema.getType('_Entity');
  if (isUnionType(entityUnion)) {
    for (const entity of entityUnion.getTypes()) {
      if (!tree[entity.name]) {
        throw new Error(`entity type ${entity.name} has no shield rule; _entities would be unprotected`);
      }
    }
  }
  for (const typeName of Object.keys(tree)) {
    if (!isObjectType(schema.getType(typeName))) throw new Error(`shield rules name unknown type ${typeName}`);
  }
  const queryRules = (tree['Query'] ?? {}) as Record<string, ShieldRule>;
  const withFederation: IRules = {
    ...tree,
    Query: {
      ...queryRules,
      ...(schema.getQueryType()?.getFields()['_service'] ? { _service: allow } : {}),
      ...(schema.getQueryType()?.getFields()['_entities'] ? { _entities: allow } : {}),
    },
    ...(schema.getType('_Service') ? { _Service: allow } : {}),
  };
  const permissions = shield(withFederation, {
    fallbackRule: deny,
    allowExternalErrors: true,
    fallbackError: (_error: unknown, _parent: object, _args: object, ctx: unknown, _info: GraphQLResolveInfo) =>
      isAuthenticated((ctx as SubgraphContext).identity) ? forbidden() : unauthenticated(),
  });
  const guarded = applyMiddleware(schema, permissions);
  guardSubscriptionStreams(guarded, permissions.generate(schema));
  return guarded;
}

type FieldMiddleware = (resolve: GraphQLFieldResolver<unknown, unknown>, parent: unknown, args: unknown, ctx: unknown, info: GraphQLResolveInfo) => unknown;
type GeneratedMiddleware = ReturnType<ReturnType<typeof shield>['generate']>;

/**
 * graphql-middleware wraps a field's `subscribe` only when the field has no `resolve` of its
 * own. Pothos subscription fields have both, so without this the rule would run for each event
 * but not when the stream opens: anyone could hold a subscription (and its pubsub listener)
 * open. The same shield middleware therefore also runs around `subscribe`; a refusal comes
 * back as the subscription's error and no stream is opened.
 */
function guardSubscriptionStreams(schema: GraphQLSchema, generated: GeneratedMiddleware): void {
  const subscriptionType = schema.getSubscriptionType();
  if (!subscriptionType || typeof generated === 'function') return;
  const typeMiddleware: unknown = (generated as Record<string, unknown>)[subscriptionType.name];
  for (const field of Object.values(subscriptionType.getFields())) {
    const subscribe = field.subscribe;
    if (!subscribe) continue;
    const entry: unknown = typeof typeMiddleware === 'object' && typeMiddleware !== null ? (typeMiddleware as Record<string, unknown>)[field.name] : typeMiddleware;
    const middleware = (typeof entry === 'function' ? entry : (entry as { resolve?: unknown } | undefined)?.resolve) as FieldMiddleware | undefined;
    // shield generates middleware for every field (the fallback rule included); none is a bug.
    if (typeof middleware !== 'function') throw new Error(`no shield middleware for subscription field ${field.name}`);
    field.subscribe = (parent, args, ctx, info) => middleware((p, a, c, i) => subscribe(p, a as Record<string, unknown>, c, i), parent, args, ctx, info);
  }
}
