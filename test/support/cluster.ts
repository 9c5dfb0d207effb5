import { randomUUID } from 'node:crypto';
import type { GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { generatePlatformKeys, type PlatformKeys } from '../../subgraphs/kit/keys.js';
import { signPlatformToken } from '../../subgraphs/kit/tokens.js';
import { DEFAULT_LIMITS, startGateway, type RunningGateway } from '../../gateway/src/server.js';
import { createScratchPostgresDatabase, openDatabase, type Database } from '../../subgraphs/kit/database.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { MemoryPubSub, RedisPubSub, type PubSub } from '../../subgraphs/kit/pubsub.js';
import { startSubgraph, type RunningSubgraph, type SubgraphDefinition } from '../../subgraphs/kit/subgraph.js';
import { composeSupergraph } from '../../scripts/composition.js';
import { SUBGRAPHS } from '../../subgraphs/index.js';
import { seedSubgraphs } from '../../subgraphs/kit/runtime.js';
import { USERS, type SeedUser } from '../../prisma/seed-data.js';

/**
 * What one subgraph instance did, counted at its own resolvers. Module-level counters (such as
 * `visitsCalls`) are shared by every instance in the process and cannot tell instances apart;
 * these can, so a test can prove which instance served what.
 */
export interface InstanceCounters {
  /** `_entities` requests answered (entity fetches the gateway sent to this instance). */
  entityFetches: number;
  /** Subscriptions whose source is open and ready (after Redis confirmed SUBSCRIBE). */
  subscriptionsOpened: number;
  /** Subscription events this instance resolved and sent upstream to a gateway. */
  eventsDelivered: number;
  /** Mutations executed here. */
  mutations: number;
}

export interface ClusterInstance {
  subgraph: string;
  /** 1-based: instance 1 sits behind gateway A, instance 2 behind gateway B, … */
  index: number;
  running: RunningSubgraph;
  counters: InstanceCounters;
}

export interface Cluster {
  keys: PlatformKeys;
  /** gateways[0] is A (routed to every subgraph's instance 1), gateways[1] is B (instance 2), … */
  gateways: RunningGateway[];
  instances: ClusterInstance[];
  instance(subgraph: string, index: number): ClusterInstance;
  /** True when the instances really talk through Redis (REDIS_URL set). */
  redis: boolean;
  tokenFor(user: keyof typeof USERS | SeedUser): Promise<string>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  subgraphs: readonly SubgraphDefinition[];
  /** Instances per subgraph, and gateways (one per instance index). */
  instances?: number;
}

type AnyResolver = GraphQLFieldResolver<unknown, unknown>;

/**
 * Wraps root-field resolvers of a freshly built schema with counters. Done before the kit
 * applies the shield (startSubgraph calls buildSchema itself), so the rules still run first.
 */
function countedDefinition(definition: SubgraphDefinition, counters: InstanceCounters): SubgraphDefinition {
  return {
    ...definition,
    buildSchema(): GraphQLSchema {
      const schema = definition.buildSchema();
      const entities = schema.getQueryType()?.getFields()['_entities'];
      if (entities?.resolve) {
        const resolve: AnyResolver = entities.resolve;
        entities.resolve = (...args) => {
          counters.entityFetches += 1;
          return resolve(...args);
        };
      }
      for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
        const resolve: AnyResolver | undefined = field.resolve;
        if (!resolve) continue;
        field.resolve = (...args) => {
          counters.mutations += 1;
          return resolve(...args);
        };
      }
      for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
        const subscribe: AnyResolver | undefined = field.subscribe;
        const resolve: AnyResolver | undefined = field.resolve;
        if (subscribe) {
          field.subscribe = async (...args) => {
            // Counted once the resolver returned: the visits resolver awaits Redis' SUBSCRIBE first.
            const source: unknown = await subscribe(...args);
            counters.subscriptionsOpened += 1;
            return source;
          };
        }
        // A subscription field's resolve runs once per event, in the instance that holds the source.
        field.resolve = (source, ...rest) => {
          counters.eventsDelivered += 1;
          return resolve ? resolve(source, ...rest) : source;
        };
      }
      return schema;
    },
  };
}

/**
 * N instances of each subgraph over ONE database, each instance with its own pubsub object,
 * and N gateways: gateway k routes every subgraph to its instance k. An event caused through
 * one gateway reaches subscribers of another only by crossing instances through the pubsub.
 *
 * With REDIS_URL every instance gets its own RedisPubSub (own connections, one prefix unique
 * to this run), as separate processes would. Without it they share one MemoryPubSub: an
 * in-memory pubsub cannot cross processes, so sharing the object is the only way instances in
 * one process can hear each other; the per-instance counters still show which instance
 * published and which delivered.
 *
 * The database is a scratch PostgreSQL database when DATABASE_URL is set (each instance with
 * its own connection pool), else one in-memory PGlite shared in-process (PGlite is
 * single-connection and in-process).
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const count = options.instances ?? 2;
  const log = createLogger('cluster');
  const keys = await generatePlatformKeys();
  const redisUrl = process.env['REDIS_URL'] || undefined;
  const databaseUrl = process.env['DATABASE_URL'] || undefined;
  const prefix = `caregraph-test:cluster:${randomUUID()}:`;
  const cleanup: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  };

  try {
    const scratch = databaseUrl ? await createScratchPostgresDatabase(databaseUrl) : undefined;
    if (scratch) cleanup.push(() => scratch.drop());
    const first = await openDatabase({ databaseUrl: scratch?.url, migrate: true });
    cleanup.push(() => first.close());
    await seedSubgraphs(SUBGRAPHS, { prisma: first.prisma, pubsub: new MemoryPubSub(), log });
    const databases: Database[] = [first];
    for (let i = 1; i < count; i += 1) {
      const database = scratch ? await openDatabase({ databaseUrl: scratch.url }) : first;
      if (database !== first) cleanup.push(() => database.close());
      databases.push(database);
    }

    const shared = redisUrl ? undefined : new MemoryPubSub();
    if (shared) cleanup.push(() => shared.close());
    const pubsubs: PubSub[] = [];
    for (let i = 0; i < count; i += 1) {
      if (shared) {
        pubsubs.push(shared);
        continue;
      }
      const pubsub = new RedisPubSub(redisUrl as string, prefix, log);
      cleanup.push(() => pubsub.close());
      pubsubs.push(pubsub);
    }

    const instances: ClusterInstance[] = [];
    for (let i = 0; i < count; i += 1) {
      for (const definition of options.subgraphs) {
        const counters: InstanceCounters = { entityFetches: 0, subscriptionsOpened: 0, eventsDelivered: 0, mutations: 0 };
        const running = await startSubgraph(countedDefinition(definition, counters), {
          deps: { prisma: (databases[i] as Database).prisma, pubsub: pubsubs[i] as PubSub, log },
          internalIdentitySecret: keys.internalIdentitySecret,
          host: '127.0.0.1',
        });
        cleanup.push(() => running.close());
        instances.push({ subgraph: definition.name, index: i + 1, running, counters });
      }
    }

    const supergraphSdl = composeSupergraph(options.subgraphs).supergraphSdl;
    const gateways: RunningGateway[] = [];
    for (let i = 0; i < count; i += 1) {
      const gateway = await startGateway({
        supergraphSdl,
        subgraphUrls: Object.fromEntries(instances.filter((s) => s.index === i + 1).map((s) => [s.subgraph, s.running.url])),
        publicRoutes: [],
        keys,
        oidcIssuers: [],
        limits: DEFAULT_LIMITS,
        production: false,
        log,
        host: '127.0.0.1',
      });
      cleanup.push(() => gateway.close());
      gateways.push(gateway);
    }

    return {
      keys,
      gateways,
      instances,
      redis: redisUrl !== undefined,
      instance(subgraph, index) {
        const found = instances.find((s) => s.subgraph === subgraph && s.index === index);
        if (!found) throw new Error(`no instance ${index} of ${subgraph}`);
        return found;
      },
      async tokenFor(user) {
        const u = typeof user === 'string' ? USERS[user] : user;
        return signPlatformToken(keys, { userId: u.id, role: u.role, organizationId: u.organizationId, patientId: u.patientId ?? null });
      },
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
