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
  QueueEvents,
  runMigrations,
  type BackendFactory,
  type Processor,
  type QueueEventsOptions,
  type Worker,
  type WorkerOptions,
} from 'bullmq';
import pg from 'pg';
import { DEFAULT_SOURCE } from '../sources/family-key.js';
import { ExecutionWorker } from './execution-locks.js';
import type { QueueName } from './catalogue.js';
import { duplicateQueueRedis, pingQueues, type QueueRedis } from '../stores/redis-connection.js';
import { queueNameOf } from './source-queues.js';
import { sourcePrefix } from '../sources/family-key.js';

/** BullMQ's schema for its tables on PostgreSQL. */
export const QUEUE_SCHEMA = 'bullmq';

interface QueueBackendBase {
  readonly kind: 'redis' | 'postgres';
  /** A queue of the catalogue, a source's (source-queues.ts), for adding and reading jobs. */
  queue(name: QueueName, source?: string): Queue;
  /** A worker of a source's queue, made paused or not as `options.autorun` says. */
  worker(
    name: QueueName,
    processor: Processor,
    options: Omit<WorkerOptions, 'connection' | 'prefix'>,
    source?: string,
  ): Worker;
  /**
   * Events of `queue`, on a connection of their own that `close()` closes (they block on it).
   * `lastEventId` is where they start on Redis; PostgreSQL's start where its events end.
   */
  events(
    queue: Queue,
    options: Omit<QueueEventsOptions, 'connection' | 'prefix'>,
  ): { readonly events: QueueEvents; close(): Promise<void> };
  /** Resolves when the store that holds the queues answers. */
  ping(): Promise<void>;
  /** Closes what the backend opened (the PostgreSQL pool); a Redis connection is its owner's. */
  close(): Promise<void>;
}

export interface RedisQueueStore extends QueueBackendBase {
  readonly kind: 'redis';
  readonly connection: QueueRedis;
  readonly prefix: string;
}

export interface PostgresQueueStore extends QueueBackendBase {
  readonly kind: 'postgres';
  readonly pool: pg.Pool;
}

export type QueueBackend = RedisQueueStore | PostgresQueueStore;

export function redisQueues(connection: QueueRedis, prefix: string): RedisQueueStore {
  return {
    kind: 'redis',
    connection,
    prefix,
    queue: (name, source = DEFAULT_SOURCE) =>
      new Queue(queueNameOf(name, source), { connection, prefix: sourcePrefix(prefix, source) }),
    worker: (name, processor, options, source = DEFAULT_SOURCE) =>
      new ExecutionWorker(queueNameOf(name, source), processor, {
        ...options,
        connection,
        prefix: sourcePrefix(prefix, source),
      }),
    events(queue, options) {
      // BullMQ never closes a connection it was handed: the duplicate is quit here.
      const own = duplicateQueueRedis(connection);
      const events = new QueueEvents(queue.name, {
        ...options,
        connection: own,
        prefix: queue.opts.prefix ?? prefix,
      });
      return {
        events,
        async close() {
          await events.close();
          await own.quit();
        },
      };
    },
    ping: () => pingQueues(connection, prefix),
    close: () => Promise.resolve(),
  };
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
    queue: (name, source = DEFAULT_SOURCE) =>
      sharing(
        new Queue(queueNameOf(name, source), { connection: pool }, factory) as unknown as Queue,
      ),
    worker: (name, processor, options, source = DEFAULT_SOURCE) =>
      sharing(
        new ExecutionWorker(
          queueNameOf(name, source),
          processor,
          { ...options, connection: pool },
          factory,
        ) as unknown as Worker,
      ),
    events(queue, options) {
      const { lastEventId: _startsAtTheEnd, ...rest } = options;
      const events = sharing(
        new QueueEvents(
          queue.name,
          { ...rest, connection: pool },
          factory,
        ) as unknown as QueueEvents,
      );
      return { events, close: () => events.close() };
    },
    async ping() {
      await pool.query('SELECT 1');
    },
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
