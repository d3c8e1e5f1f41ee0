/**
 * Where the queues are: Redis (one server, its primary through Redis Sentinel, or a Cluster:
 * redis-connection.ts) or PostgreSQL (BullMQ's PostgreSQL backend, QUEUE_BACKEND=postgres). Every
 * Queue, Worker and QueueEvents of erp-bridge is made here; the rest of the code knows the queues
 * only through BullMQ's classes, which behave alike on both. Workers hold their jobs' locks per
 * execution (execution-locks.ts).
 *
 * On PostgreSQL, one pool per process serves every queue of it: BullMQ would otherwise open a
 * pool per Queue and per Worker. Each Worker and each QueueEvents holds one of its connections
 * for its `LISTEN` (how a worker hears of a new job without polling), so the pool is sized for
 * those and for the jobs that run at once. The queues' tables are in schema `bullmq`
 * (BullMQ's default, the only one it supports on a pool it did not make); `migrate` creates and
 * upgrades them (runQueueMigrations); a process meets tables older than its BullMQ's with an
 * error naming the migration it needs.
 */
import {
  createPostgresBackend,
  Queue,
  QueueKeys,
  QueueEvents,
  runMigrations,
  type BackendFactory,
  type Processor,
  type QueueEventsOptions,
  type Worker,
  type WorkerOptions,
} from 'bullmq';
import pg from 'pg';
import { DEFAULT_SOURCE, sourceKey, sourcePrefix } from '../sources/family-key.js';
import { ExecutionWorker } from './execution-locks.js';
import { duplicateQueueRedis, pingQueues, type QueueRedis } from './redis-connection.js';
import { redisWorkerBackend } from './redis-worker-backend.js';
import { endRedis } from '../lib/end-redis.js';

/** BullMQ's schema for its tables on PostgreSQL. */
export const QUEUE_SCHEMA = 'bullmq';

/**
 * What the rest of the code may ask of the queues' store, whichever it is: a new kind of store is
 * one more implementation of this, here.
 */
export interface QueueStore {
  /** A queue of a source (`kind` of the job catalogue: src/queues/source-queues.ts names it). */
  queue(kind: string, source?: string): Queue;
  /** A worker of a source's queue, made paused or not as `options.autorun` says. */
  worker(
    kind: string,
    processor: Processor,
    options: Omit<WorkerOptions, 'connection' | 'prefix'>,
    source?: string,
  ): Worker;
  /**
   * Events of `queue`, on a connection of their own that `close()` closes (they block on it).
   * On Redis they start from the events stream's last id as it stands, so that a reply BullMQ's
   * watchdog threw away is read again (src/queues/queue-events.ts); PostgreSQL's start where its
   * events end.
   */
  events(
    queue: Queue,
    options: Omit<QueueEventsOptions, 'connection' | 'prefix' | 'lastEventId'>,
  ): Promise<{ readonly events: QueueEvents; close(): Promise<void> }>;
  /** Resolves when the store that holds the queues answers. */
  ping(): Promise<void>;
  /** The liveness probe of the store (workers/liveness.ts), on a connection of its own. */
  probe(): StoreProbe;
  /**
   * Calls `listener` each time the store comes back from a disconnection during which it may have
   * lost jobs queued on it (a Redis failover or restart); PostgreSQL loses no committed job, so
   * never there. Returns what stops listening.
   */
  onBack(listener: () => void): () => void;
  /** Closes what the store opened (the PostgreSQL pool); a Redis connection is its owner's. */
  close(): Promise<void>;
}

/** Asks the queues' store for an answer; closed when the check stops. */
export interface StoreProbe {
  /** What its silence is, as the reason says it ("… for N s"). */
  readonly silence: string;
  ask(): Promise<unknown>;
  close(): void;
}

/** How long Redis's probe blocks: an answer within it, or a second more, is a Redis that works. */
const PROBE_BLOCK_SECONDS = 0.1;

export interface RedisQueueStore extends QueueStore {
  readonly kind: 'redis';
  readonly connection: QueueRedis;
  readonly prefix: string;
}

export interface PostgresQueueStore extends QueueStore {
  readonly kind: 'postgres';
  readonly pool: pg.Pool;
}

/** A store as its tests and this room tell them apart. */
export type QueueStoreOfKind = RedisQueueStore | PostgresQueueStore;

export function redisQueues(connection: QueueRedis, prefix: string): RedisQueueStore {
  const workerBackend = redisWorkerBackend(connection);
  return {
    kind: 'redis',
    connection,
    prefix,
    queue: (kind, source = DEFAULT_SOURCE) =>
      new Queue(sourceKey(source, kind), { connection, prefix: sourcePrefix(prefix, source) }),
    worker: (kind, processor, options, source = DEFAULT_SOURCE) =>
      new ExecutionWorker(
        sourceKey(source, kind),
        processor,
        { ...options, connection, prefix: sourcePrefix(prefix, source) },
        workerBackend,
      ),
    async events(queue, options) {
      const lastEventId = await lastEventIdOf(connection, queue);
      // BullMQ never closes a connection it was handed: the duplicate is quit here.
      const own = duplicateQueueRedis(connection);
      const events = new QueueEvents(queue.name, {
        ...options,
        lastEventId,
        connection: own,
        prefix: queue.opts.prefix ?? prefix,
      });
      return {
        events,
        async close() {
          await events.close();
          await endRedis(own);
        },
      };
    },
    ping: () => pingQueues(connection, prefix),
    probe() {
      // A blocking command holds its connection: the probe's own, under the queues' prefix so
      // that a Redis Cluster holds its key.
      const own = duplicateQueueRedis(connection);
      const key = `${prefix}:liveness-probe`;
      return {
        silence: 'Redis has answered no blocking command',
        ask: () => own.bzpopmin(key, PROBE_BLOCK_SECONDS),
        close: () => own.disconnect(),
      };
    },
    onBack(listener) {
      // Its `ready` after a `close` is Redis back from a disconnection.
      let disconnected = false;
      const onClose = () => (disconnected = true);
      const onReady = () => {
        if (!disconnected) return;
        disconnected = false;
        listener();
      };
      connection.on('close', onClose);
      connection.on('ready', onReady);
      return () => {
        connection.off('close', onClose);
        connection.off('ready', onReady);
      };
    },
    close: () => Promise.resolve(),
  };
}

/** The id of the last event of `queue`'s stream, or `0-0` for an empty one. */
async function lastEventIdOf(connection: QueueRedis, queue: Queue): Promise<string> {
  const key = new QueueKeys(queue.opts.prefix).toKey(queue.name, 'events');
  const [last] = (await connection.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
  return last?.[0] ?? '0-0';
}

/**
 * A pool's connections beyond the `LISTEN`s it holds: a worker's jobs each make a few short
 * queries at once (take, lock renewals, completion), and a producer's adds are short too.
 */
const QUERY_CONNECTIONS = 10;

export interface PostgresQueuesOptions {
  readonly url: string;
  /** How many Workers and QueueEvents the process makes: each holds a connection. */
  readonly listeners: number;
  /** Names the connections in pg_stat_activity (the process's role). */
  readonly applicationName: string;
  /** Sees the pool's errors (a connection lost while idle); without it they would crash. */
  readonly onError: (error: Error) => void;
}

export function postgresQueues(options: PostgresQueuesOptions): PostgresQueueStore {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.listeners + QUERY_CONNECTIONS,
    keepAlive: true,
    application_name: options.applicationName,
    options: `-c search_path=${QUEUE_SCHEMA}`,
  });
  pool.on('error', options.onError);
  // BullMQ's classes are generic in their backend; ours are used only through the surface every
  // backend shares, so they take the default type.
  const factory = createPostgresBackend as unknown as BackendFactory;
  // Each class BullMQ makes on the pool listens for its errors: one more listener each, no leak.
  const sharing = <T>(made: T): T => {
    pool.setMaxListeners(pool.getMaxListeners() + 1);
    return made;
  };
  return {
    kind: 'postgres',
    pool,
    queue: (kind, source = DEFAULT_SOURCE) =>
      sharing(
        new Queue(sourceKey(source, kind), { connection: pool }, factory) as unknown as Queue,
      ),
    worker: (kind, processor, options, source = DEFAULT_SOURCE) =>
      sharing(
        new ExecutionWorker(
          sourceKey(source, kind),
          processor,
          { ...options, connection: pool },
          factory,
        ) as unknown as Worker,
      ),
    events(queue, options) {
      const events = sharing(
        new QueueEvents(
          queue.name,
          { ...options, connection: pool },
          factory,
        ) as unknown as QueueEvents,
      );
      return Promise.resolve({ events, close: () => events.close() });
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    probe: () => ({
      silence: 'the queue database has answered no query',
      ask: async () => {
        await pool.query('SELECT 1');
      },
      close: () => undefined,
    }),
    onBack: () => () => undefined,
    close: () => pool.end(),
  };
}

/**
 * Creates or upgrades BullMQ's tables in `url`'s database (schema `bullmq`), under BullMQ's own
 * advisory lock: processes that start together run them once.
 */
export async function runQueueMigrations(url: string): Promise<number> {
  // One session: the lock and the transaction must share it.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await runMigrations(client, QUEUE_SCHEMA);
  } finally {
    await client.end();
  }
}
