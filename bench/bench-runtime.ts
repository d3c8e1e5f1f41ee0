/**
 * The sync runtime as the benches run it: the workers' production settings on a Redis of the
 * bench's own, a fresh queue prefix, and a way to run one sync and wait for its result.
 */
import { randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { OdooClient } from '../src/clients/odoo/index.js';
import type { Db } from '../src/db/create-db.js';
import type { Logger } from '../src/lib/logger.js';
import { createQueueEvents, type OwnedQueueEvents } from '../src/queues/queue-events.js';
import { createQueues, type Queues } from '../src/queues/queues.js';
import { postgresQueues, redisQueues } from '../src/stores/queue-store.js';
import type { QueueName } from '../src/queues/catalogue.js';
import { createNudgeFlags } from '../src/queues/feed-nudge.js';
import { bcsFamily } from '../src/families/bcs/family.js';
import { createFamilies } from '../src/families/registry.js';
import { createSyncRuntime, type SyncRuntime } from '../workers/sync-runtime.js';

export interface BenchRuntime {
  readonly runtime: SyncRuntime;
  readonly prefix: string;
  /** Queues a sync run and resolves with its result. */
  runSync(): Promise<{ status: string; counts: { recordsSeen: number; odooCalls: number } }>;
  close(): Promise<void>;
}

export async function startBenchRuntime(input: {
  db: Db;
  odoo: OdooClient;
  logger: Logger;
  redisUrl: string;
}): Promise<BenchRuntime> {
  const connection = new Redis(input.redisUrl, { maxRetriesPerRequest: null });
  const prefix = `bench-${randomBytes(3).toString('hex')}`;
  const runtime = createSyncRuntime({
    db: input.db,
    families: createFamilies([bcsFamily]),
    odoo: input.odoo,
    logger: input.logger,
    backend: redisQueues(connection, prefix),
    flags: createNudgeFlags({ kind: 'redis', redis: connection, prefix }),
    settings: {
      leaseSeconds: 120,
      overlapSeconds: 600,
      pageSize: 100,
      reconcileMinRatio: 0.5,
      failureBackoffBaseMs: 60_000,
      jobLockMs: 30_000,
      concurrency: 8,
      jobAttempts: 3,
      runPagesInFlight: 100,
    },
  });
  const events = await createQueueEvents(runtime.queues.backend, runtime.queues.byName.sync);
  runtime.start();
  return {
    runtime,
    prefix,
    async runSync() {
      const job = await runtime.queues.add('sync-run', {
        family: bcsFamily.name,
        trigger: 'bench',
      });
      return (await events.waitFor(job)) as Awaited<ReturnType<BenchRuntime['runSync']>>;
    },
    async close() {
      await runtime.close(10_000);
      await events.close();
      await connection.quit();
    },
  };
}

/** Where a bench's worker processes find their queues: a Redis and a prefix, or a database. */
export type BenchQueues =
  | { readonly kind: 'redis'; readonly url: string; readonly prefix: string }
  | { readonly kind: 'postgres'; readonly url: string };

/** A producer of the bench's own for worker processes on `at`: its queues and their events. */
export interface BenchProducer {
  readonly queues: Queues;
  /**
   * The job's return value once it ended, through the events of the job's own queue (a verify's
   * is `sync-reconcile`, not a run's `sync`: job ids are each queue's own, so another queue's
   * job of the same id would answer for it).
   */
  waitFor(job: Job, options?: { pollMs?: number }): Promise<unknown>;
  /**
   * Resolves once `queue` holds no job waiting, running or delayed, read every `pollMs`: not from
   * its events, which PostgreSQL's backend may skip when jobs finish at once (docs/performance.md,
   * "Queues in PostgreSQL").
   */
  drained(queue: QueueName, pollMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function openBenchProducer(at: BenchQueues, logger: Logger): BenchProducer {
  const connection =
    at.kind === 'redis' ? new Redis(at.url, { maxRetriesPerRequest: null }) : undefined;
  const backend =
    at.kind === 'redis'
      ? redisQueues(connection!, at.prefix)
      : postgresQueues({
          url: at.url,
          listeners: 1,
          applicationName: 'bench-producer',
          onError: (error) => logger.warn({ err: error }, 'bench queue database error'),
        });
  const queues = createQueues({
    backend,
    settings: { attempts: 1, backoffMs: 1_000 },
    logger,
  });
  const events = new Map<QueueName, Promise<OwnedQueueEvents>>();
  const eventsOf = (queue: QueueName) => {
    let owned = events.get(queue);
    if (!owned) events.set(queue, (owned = createQueueEvents(backend, queues.byName[queue])));
    return owned;
  };
  return {
    queues,
    async waitFor(job, options) {
      return (await eventsOf(job.queueName as QueueName)).waitFor(job, options);
    },
    async drained(queue, pollMs = 50) {
      for (;;) {
        const counts = await queues.byName[queue].getJobCounts(
          'waiting',
          'active',
          'delayed',
          'prioritized',
        );
        if (Object.values(counts).every((count) => count === 0)) return;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    },
    async close() {
      for (const owned of events.values()) await (await owned).close();
      await queues.close();
      await backend.close();
      await connection?.quit();
    },
  };
}

/**
 * Queues one sync run of the BC family for a worker process on `prefix` (a producer of its
 * own), and resolves with its result and how long it took, queueing included.
 */
export async function timedSyncRun(
  redisUrl: string,
  prefix: string,
  logger: Logger,
): Promise<{ seconds: number; result: { status: string; counts: Record<string, number> } }> {
  const producer = openBenchProducer({ kind: 'redis', url: redisUrl, prefix }, logger);
  try {
    const startedMs = performance.now();
    const job = await producer.queues.add('sync-run', {
      family: bcsFamily.name,
      trigger: 'bench',
    });
    const result = (await producer.waitFor(job)) as {
      status: string;
      counts: Record<string, number>;
    };
    return { seconds: (performance.now() - startedMs) / 1_000, result };
  } finally {
    await producer.close();
  }
}
