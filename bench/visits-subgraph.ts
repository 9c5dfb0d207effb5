/**
 * Bench-only entry: the test visits subgraph (test/support/visits-subgraph.ts) as its own
 * process, like `npm run start:subgraph`, plus one bench route that publishes
 * `visitRecorded` events straight into this process's pubsub at a steady rate.
 *
 * Why a route rather than the `recordVisit` mutation: each event carries its publish time,
 * stamped here at the moment of `pubsub.publish`, so the measured latency is delivery only
 * (pubsub -> subgraph graphql-ws -> gateway -> entity fetch -> client), not a mutation's own
 * round trip; and the schedule is kept by one timer loop next to the pubsub, not by HTTP calls
 * whose jitter would bend the "steady rate".
 */
import { loadPlatformKeys } from '../subgraphs/kit/keys.js';
import { intFromEnv, readSharedConfig } from '../subgraphs/kit/config.js';
import { openDatabase } from '../subgraphs/kit/database.js';
import { createLogger } from '../subgraphs/kit/logger.js';
import { createPubSub } from '../subgraphs/kit/pubsub.js';
import { startSubgraph, type SubgraphDefinition, type SubgraphRoute } from '../subgraphs/kit/subgraph.js';
import { ORGS, PATIENTS } from '../prisma/seed-data.js';
import { VISIT_RECORDED_TOPIC, visitsSubgraph } from '../test/support/visits-subgraph.js';
import { wallClock, type BenchStamp } from './stamp.js';

interface PublishRequest {
  run: string;
  count: number;
  /** 0 publishes back to back (a streamed reply); otherwise one event every intervalMs. */
  intervalMs: number;
}

const MAX_EVENTS = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const publishRoute: SubgraphRoute = {
  method: 'POST',
  path: '/bench/publish',
  public: false,
  async handle(request, deps) {
    const body = JSON.parse(request.body.toString('utf8')) as Partial<PublishRequest>;
    const count = Math.min(Math.max(0, Math.floor(Number(body.count) || 0)), MAX_EVENTS);
    const intervalMs = Math.max(0, Number(body.intervalMs) || 0);
    const run = typeof body.run === 'string' ? body.run : 'run';
    const started = wallClock();
    let maxLagMs = 0;
    for (let seq = 0; seq < count; seq += 1) {
      if (intervalMs > 0) {
        // Scheduled against the start, not the previous event, so lag does not accumulate.
        const due = started + seq * intervalMs;
        const wait = due - wallClock();
        if (wait > 0) await sleep(wait);
        maxLagMs = Math.max(maxLagMs, wallClock() - due);
      }
      const stamp: BenchStamp = { run, seq, t: wallClock() };
      await deps.pubsub.publish(VISIT_RECORDED_TOPIC, {
        id: `visit-bench-${run}-${seq}`,
        patientId: PATIENTS.amaraNorth.id,
        organizationId: ORGS.clinicNorth.id,
        reason: JSON.stringify(stamp),
      });
    }
    return { status: 200, body: { published: count, durationMs: wallClock() - started, maxLagMs } };
  },
};

const definition: SubgraphDefinition = { ...visitsSubgraph, routes: [...visitsSubgraph.routes, publishRoute] };

const shared = readSharedConfig();
const log = createLogger('visits');
// The visits subgraph keeps its data in memory; the database only satisfies the kit's deps.
// Without DATABASE_URL: an in-memory PGlite, not migrated (nothing reads it).
const database = await openDatabase({ databaseUrl: shared.databaseUrl });
const pubsub = createPubSub({ redisUrl: shared.redisUrl, prefix: process.env['REDIS_PREFIX'] || undefined, log });
const keys = await loadPlatformKeys(process.env, shared.dataDir);
const running = await startSubgraph(definition, {
  deps: { prisma: database.prisma, pubsub, log },
  internalIdentitySecret: keys.internalIdentitySecret,
  port: intFromEnv(process.env, 'PORT', definition.defaultPort),
  host: '127.0.0.1',
});
process.stdout.write(`visits subgraph ready at ${running.url}/graphql\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void running.close().then(() => Promise.all([pubsub.close(), database.close()])).then(() => process.exit(0)));
}
