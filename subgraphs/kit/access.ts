import { AsyncLocalStorage } from 'node:async_hooks';
import { Prisma, type PrismaClient } from '../../prisma/generated/client/client.js';
import { audit, type AuditEntry } from './audit.js';
import { conflict, forbidden, notFound } from './errors.js';
import type { Identity } from './identity.js';
import type { Loaders } from './loaders.js';

/**
 * The one access-checked data path. Each subgraph declares, per model it owns, which rows a
 * caller may read and change (as a Prisma where-clause built from the request's scope) and
 * whether the model carries PHI. Every request then gets a client (`ctx.db`) through which
 * every query is filtered by those clauses, creates are checked, unique lookups of rows outside
 * the scope are refused (FORBIDDEN) rather than shown, and reads and changes of PHI models are
 * audited (who, which rows, when; never the values): services do not check by hand and cannot
 * forget to audit. Models without a policy cannot be used through it at all.
 *
 * What it does not see: rows loaded as nested relations (`include`) of a row it let through.
 * Policies therefore guard aggregate roots, and a child model's policy is written through its
 * parent (`{ session: <the session's clause> }`).
 */
export type ModelName = Prisma.ModelName;
export type WhereOf<M extends ModelName> = NonNullable<Prisma.TypeMap['model'][M]['operations']['findMany']['args']['where']>;

/** Who is asking, for the life of one request. */
export class Scope {
  private readonly memos = new Map<string, Promise<unknown>>();

  constructor(
    readonly identity: Identity,
    /**
     * The database without any scope, for lookups a policy itself needs (an organization's
     * clinics). Inside a transaction of the request it reads on that transaction's connection
     * (one connection only, as on the embedded database, must not wait on itself).
     */
    readonly system: PrismaClient,
  ) {}

  /** Computes a value once per request (a policy's lookups run on every query). */
  memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let value = this.memos.get(key) as Promise<T> | undefined;
    if (!value) {
      value = compute();
      this.memos.set(key, value);
    }
    return value;
  }
}

type Awaitable<T> = T | Promise<T>;

export interface ModelPolicy<M extends ModelName> {
  /** The rows the caller may read. Return `NOTHING` (or throw) to deny. */
  read(scope: Scope): Awaitable<WhereOf<M>>;
  /** The rows the caller may update or delete; what it may read when absent. */
  write?(scope: Scope): Awaitable<WhereOf<M>>;
  /** Checks a row about to be created (its organization, its patient); throws FORBIDDEN to refuse. Refused when absent. */
  create?(scope: Scope, data: Record<string, unknown>): Awaitable<void>;
  /** PHI-bearing: reads and changes are audited under the model's name. */
  audited?: boolean;
}

export type AccessPolicies = { readonly [M in ModelName]?: ModelPolicy<M> };

/** A where-clause that matches no row (ids are never empty). */
export const NOTHING = { id: { in: [] as string[] } } as const;

/** The kit's own tables: written by the kit for every domain, never holding a domain's rows. */
const KIT_MODELS: ReadonlySet<string> = new Set(['OutboxEvent', 'AuditEvent', 'EventConsumption', 'EventConsumerCursor', 'DirectoryEntry']);

const READ_MANY = new Set(['findMany', 'findFirst', 'findFirstOrThrow', 'count', 'aggregate', 'groupBy']);
const READ_UNIQUE = new Set(['findUnique', 'findUniqueOrThrow']);
const WRITE_MANY = new Set(['updateMany', 'updateManyAndReturn', 'deleteMany']);
const WRITE_UNIQUE = new Set(['update', 'delete']);
const CREATE = new Set(['create', 'createMany', 'createManyAndReturn']);
/** Operations whose result is rows (audited as reads): not count, aggregate or groupBy. */
const ROW_READS = new Set(['findMany', 'findFirst', 'findFirstOrThrow', 'findUnique', 'findUniqueOrThrow']);

type Args = Record<string, unknown> & { where?: Record<string, unknown>; data?: unknown; create?: unknown };

/**
 * The request's open transaction, if any: audit entries of its changes wait for its commit (and
 * go with its rollback), and the kit's own lookups run on its connection.
 */
const openTransaction = new AsyncLocalStorage<{ audits: AuditEntry[]; tx: PrismaClient }>();
/** Set while the kit itself reads without policies (lookups of the data path and of policies). */
const unscoped = new AsyncLocalStorage<true>();

type Delegate = { findUnique(args: object): Promise<unknown>; findMany(args: object): Promise<Array<{ id: string }>> };
const delegateKey = (model: string): string => `${model.charAt(0).toLowerCase()}${model.slice(1)}`;

/**
 * The raw database for the kit's and the policies' lookups: on the request's transaction when
 * one is open (without its policies), on the shared client otherwise.
 */
function systemClient(prisma: PrismaClient): PrismaClient {
  return new Proxy(prisma, {
    get(target, property) {
      const client = (openTransaction.getStore()?.tx ?? target) as unknown as Record<PropertyKey, unknown>;
      const value = client[property];
      if (typeof property !== 'string' || property.startsWith('$') || typeof value !== 'object' || value === null) {
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(client) : value;
      }
      // A model delegate: each call runs without the request's policies. Prisma's queries are
      // lazy (they start when awaited), so the await must happen inside the unscoped context.
      return new Proxy(value, {
        get(delegate, method) {
          const fn = (delegate as Record<PropertyKey, unknown>)[method];
          return typeof fn === 'function' ? (...args: unknown[]) => unscoped.run(true, async () => await (fn as (...a: unknown[]) => Promise<unknown>).apply(delegate, args)) : fn;
        },
      });
    },
  });
}

const delegate = (system: PrismaClient, model: string): Delegate => (system as unknown as Record<string, Delegate>)[delegateKey(model)] as Delegate;

const and = (scoped: object, where: object | undefined): object => (where ? { AND: [scoped, where] } : scoped);
const andUnique = (scoped: object, where: Record<string, unknown> | undefined): object => ({ ...where, AND: [scoped, ...(Array.isArray(where?.['AND']) ? (where['AND'] as object[]) : where?.['AND'] ? [where['AND'] as object] : [])] });

function idsOf(result: unknown): string[] {
  const rows = Array.isArray(result) ? result : result ? [result] : [];
  return rows.flatMap((row) => (typeof row === 'object' && row !== null && typeof (row as { id?: unknown }).id === 'string' ? [(row as { id: string }).id] : []));
}

const isRecordMissing = (error: unknown): boolean => error instanceof Prisma.PrismaClientKnownRequestError && (error.code === 'P2025' || error.code === 'P2001');

/** A write refused by a unique constraint (the record, or a concurrent twin, exists). */
export const isUniqueViolation = (error: unknown): boolean => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

/** Rethrows a unique-constraint refusal as CONFLICT with `message` (nothing was written); anything else as it is. */
export function conflictOnUniqueViolation(error: unknown, message: string): never {
  if (isUniqueViolation(error)) throw conflict(message);
  throw error;
}

export interface ScopedClientOptions {
  subgraph: string;
  prisma: PrismaClient;
  identity: Identity;
  policies: AccessPolicies;
}

/** The client one request's services use: every query through the subgraph's policies. */
export function scopedClient(options: ScopedClientOptions): PrismaClient {
  const { prisma, identity, policies, subgraph } = options;
  const system = systemClient(prisma);
  const scope = new Scope(identity, system);

  const record = async (entry: AuditEntry): Promise<void> => {
    const open = openTransaction.getStore();
    if (open) open.audits.push(entry);
    else await audit(prisma, identity, entry);
  };

  /** A unique lookup found nothing in scope: FORBIDDEN when the row exists outside it. */
  // `where` is the caller's unique input (an id, or a compound key such as `cohortId_learnerId`):
  // findUnique takes it as it is, and whole rows work for models without an `id`.
  // `scopedWhere` is the same lookup within the caller's scope: a row created between the
  // caller's read and this check (a consumer catching up) is visible to them, not forbidden.
  const refuseIfHidden = async (model: string, where: object | undefined, scopedWhere: object | undefined): Promise<void> => {
    if (!where) return;
    const hidden = await delegate(system, model).findUnique({ where });
    if (!hidden) return;
    if (scopedWhere && (await delegate(system, model).findUnique({ where: scopedWhere }))) return;
    throw forbidden(`You may not access this ${model}`);
  };

  const extended = prisma.$extends({
    query: {
      $allModels: {
        async $allOperations({ model, operation, args, query }) {
          if (KIT_MODELS.has(model) || unscoped.getStore()) return query(args);
          const policy = (policies as Record<string, ModelPolicy<ModelName> | undefined>)[model];
          if (!policy) throw new Error(`${subgraph} has no access policy for ${model}`);
          const a = { ...(args as Args) };
          const original = a.where;
          if (READ_MANY.has(operation)) {
            a.where = and(await policy.read(scope), original) as Args['where'];
          } else if (READ_UNIQUE.has(operation)) {
            a.where = andUnique(await policy.read(scope), original) as Args['where'];
          } else if (WRITE_MANY.has(operation)) {
            a.where = and(await (policy.write ?? policy.read)(scope), original) as Args['where'];
          } else if (WRITE_UNIQUE.has(operation) || operation === 'upsert') {
            a.where = andUnique(await (policy.write ?? policy.read)(scope), original) as Args['where'];
          }
          if (CREATE.has(operation) || operation === 'upsert') {
            if (!policy.create) throw forbidden(`You may not create ${model} records`);
            const rows = operation === 'upsert' ? [a.create] : Array.isArray(a.data) ? a.data : [a.data];
            for (const row of rows) await policy.create(scope, (row ?? {}) as Record<string, unknown>);
          }
          // The rows a bulk change touches, named in the audit before they change.
          const bulkIds = policy.audited && WRITE_MANY.has(operation) ? (await delegate(system, model).findMany({ where: a.where ?? {}, select: { id: true } })).map((r) => r.id) : [];

          let result: unknown;
          try {
            result = await query(a);
          } catch (error) {
            if (isRecordMissing(error) && (READ_UNIQUE.has(operation) || WRITE_UNIQUE.has(operation))) {
              await refuseIfHidden(model, original, a.where);
              throw notFound(model);
            }
            if (operation === 'upsert' && isUniqueViolation(error)) {
              await refuseIfHidden(model, original, undefined);
            }
            throw error;
          }
          if (READ_UNIQUE.has(operation) && result === null) await refuseIfHidden(model, original, a.where);

          if (policy.audited) {
            const action = ROW_READS.has(operation) ? 'read' : CREATE.has(operation) ? 'create' : operation.startsWith('delete') ? 'delete' : operation === 'upsert' ? 'upsert' : 'update';
            const entityIds = WRITE_MANY.has(operation) ? bulkIds : idsOf(result);
            if (ROW_READS.has(operation) || action !== 'read') await record({ source: subgraph, action, entityType: model, entityIds });
          }
          return result;
        },
      },
    },
  });

  // Audits of what a transaction did are written once it commits; the kit's lookups inside it use its connection.
  const transaction = (async (input: unknown, options?: unknown) => {
    const audits: AuditEntry[] = [];
    const run = (i: unknown, o?: unknown): Promise<unknown> => (extended.$transaction as (i: unknown, o?: unknown) => Promise<unknown>).call(extended, i, o);
    const result: unknown =
      typeof input === 'function'
        ? await run((tx: PrismaClient) => openTransaction.run({ audits, tx }, () => (input as (t: PrismaClient) => Promise<unknown>)(tx)), options)
        : await run(input, options);
    for (const entry of audits) await audit(prisma, identity, entry);
    return result;
  }) as PrismaClient['$transaction'];

  return new Proxy(extended as unknown as PrismaClient, {
    get(target, property, receiver) {
      if (property === '$transaction') return transaction;
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

/**
 * Loads rows by id for this request through the scope, batched: a row the caller may not see
 * loads as FORBIDDEN, one that does not exist as NOT_FOUND (callers decide what a miss means).
 */
export async function visibleRows<V extends { id: string }>(ids: readonly string[], rows: readonly V[], prisma: PrismaClient, model: ModelName, label: string = model): Promise<Array<V | Error>> {
  const found = new Map(rows.map((row) => [row.id, row]));
  const missing = ids.filter((id) => !found.has(id));
  const hidden = missing.length > 0 ? new Set((await delegate(systemClient(prisma), model).findMany({ where: { id: { in: missing } }, select: { id: true } })).map((r) => r.id)) : new Set<string>();
  return ids.map((id) => found.get(id) ?? (hidden.has(id) ? forbidden(`You may not access this ${label}`) : notFound(label)));
}

/** What loadVisible needs of a request's context. */
export interface VisibleRowSource {
  loaders: Loaders;
  /** The request's scoped client: what the caller may see. */
  db: PrismaClient;
  /** The unscoped client: to tell a hidden row from a missing one. */
  prisma: PrismaClient;
}

/**
 * One row of `model` by id as the caller may see it, batched per request: FORBIDDEN when it
 * exists out of the caller's sight, NOT_FOUND when it does not exist. Audited like any read
 * through the scope. `label` names the row in errors when the model's name is not the API's
 * (a read model).
 */
export function loadVisible<V extends { id: string }>(ctx: VisibleRowSource, model: ModelName, id: string, label: string = model): Promise<V> {
  return ctx.loaders
    .get<string, V>(`visible:${model}`, async (ids) => visibleRows(ids, (await delegate(ctx.db, model).findMany({ where: { id: { in: [...ids] } } })) as V[], ctx.prisma, model, label))
    .load(id);
}
