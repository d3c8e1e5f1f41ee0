/**
 * The stores a process opens from the configuration for its queues and for the state the fleet
 * shares beside them (the Odoo call budget, the login memo, the feed's nudges):
 *
 * - QUEUE_BACKEND=redis: both on the queues' Redis, as one connection;
 * - QUEUE_BACKEND=postgres with REDIS_URL: the queues in PostgreSQL, the shared state on Redis;
 * - QUEUE_BACKEND=postgres alone: both in PostgreSQL, no Redis anywhere.
 *
 * This room is the one place that tells the kinds of store apart: the rest of the code opens them
 * here and asks them through QueueStore and SharedState.
 */
import type { Db } from '../db/create-db.js';
import type { Logger } from '../lib/logger.js';
import { AppError, describeError } from '../lib/errors.js';
import { endRedis } from '../lib/end-redis.js';
import type { SharedState } from './shared-state.js';
import {
  postgresQueues,
  QUEUE_SCHEMA,
  redisQueues,
  runQueueMigrations,
  type QueueStore,
} from './queue-store.js';
import {
  createRedisConnection,
  openQueueRedis,
  type ConnectionRole,
  type QueueRedis,
  type RedisTopology,
} from './redis-connection.js';

/** Where the stores are: the configuration's `redis` and `queues` (src/config). */
export interface StoresSettings {
  readonly redis: RedisTopology & { readonly url?: string; readonly queuePrefix: string };
  readonly queues:
    | { readonly backend: 'redis' }
    | { readonly backend: 'postgres'; readonly databaseUrl: string | undefined };
}

export interface Stores {
  readonly backend: QueueStore;
  readonly shared: SharedState;
  /** The Redis the shared state is on, when there is one (readiness asks it apart from the queues). */
  readonly redis: QueueRedis | undefined;
  /** The readiness checks: the queues' store (`redis`, or `queue-database`), and a Redis apart. */
  readonly checks: readonly StoreCheck[];
  close(): Promise<void>;
}

export interface StoreCheck {
  readonly name: string;
  check(): Promise<void>;
}

export function openStores(input: {
  settings: StoresSettings;
  /** `worker` waits for its stores forever; `producer` fails fast (inside HTTP handlers). */
  role: Extract<ConnectionRole, 'worker' | 'producer'>;
  /** How many Workers and QueueEvents the process makes on PostgreSQL: each holds a connection. */
  listeners: number;
  /** The process's own database: the shared state's home without Redis. */
  db: Db;
  logger: Logger;
}): Stores {
  const { settings, logger, role } = input;
  const redis = settings.redis.url
    ? createRedisConnection(settings.redis.url, role, logger, settings.redis)
    : undefined;
  const shared: SharedState = redis
    ? { kind: 'redis', redis, prefix: settings.redis.queuePrefix }
    : { kind: 'postgres', db: input.db };
  const closeRedis = async () => {
    if (redis) await endRedis(redis);
  };
  if (settings.queues.backend === 'redis') {
    const backend = redisQueues(redis!, settings.redis.queuePrefix);
    return {
      backend,
      shared,
      redis,
      checks: [{ name: 'redis', check: () => backend.ping() }],
      close: closeRedis,
    };
  }
  const backend = postgresQueues({
    url: settings.queues.databaseUrl!,
    listeners: input.listeners,
    applicationName: `erp-bridge-${role}`,
    onError: (error) => logger.warn({ err: error }, 'queue database connection error'),
  });
  return {
    backend,
    shared,
    redis,
    checks: [
      { name: 'queue-database', check: () => backend.ping() },
      ...(redis
        ? [
            {
              name: 'redis',
              check: async () => {
                await redis.ping();
              },
            },
          ]
        : []),
    ],
    async close() {
      await backend.close();
      await closeRedis();
    },
  };
}

/**
 * Creates or upgrades the queues' own tables where the store has them (BullMQ's schema on
 * PostgreSQL); none on Redis.
 */
export async function migrateQueueStore(
  settings: StoresSettings,
): Promise<{ schema: string; version: number } | undefined> {
  if (settings.queues.backend !== 'postgres') return undefined;
  return { schema: QUEUE_SCHEMA, version: await runQueueMigrations(settings.queues.databaseUrl!) };
}

/**
 * The shared state for a process that runs once (migrate), once its store answers: the queue
 * Redis, or `db` where the fleet keeps it without Redis; none when Redis is the queues' store and
 * this process is not told where it is. Fails at the first connection error rather than wait for a
 * Redis that is away.
 */
export async function connectSharedState(input: {
  settings: StoresSettings;
  db: Db;
  logger: Logger;
}): Promise<{ readonly shared: SharedState | undefined; readonly close: () => Promise<void> }> {
  const { settings, logger } = input;
  if (settings.redis.url === undefined)
    return {
      shared:
        settings.queues.backend === 'postgres' ? { kind: 'postgres', db: input.db } : undefined,
      close: () => Promise.resolve(),
    };
  // A producer's connection sends nothing before it is ready.
  const redis = createRedisConnection(settings.redis.url, 'producer', logger, settings.redis);
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', () => resolve());
      redis.once('error', reject);
    });
  } catch (error) {
    redis.disconnect();
    throw new AppError(
      'REDIS_UNAVAILABLE',
      `the queue Redis (REDIS_URL), where the Odoo call budget is shared, does not answer: ${describeError(error)}`,
      { cause: error, retryable: true },
    );
  }
  return {
    shared: { kind: 'redis', redis, prefix: settings.redis.queuePrefix },
    close: () => endRedis(redis),
  };
}

/** What {@link readStoresOnce} opened; a store this process is not told of is undefined. */
export interface StoresOnce {
  readonly backend: QueueStore | undefined;
  readonly shared: SharedState | undefined;
}

/**
 * Runs `read` on stores opened for one read (the sync CLI's status), on connections of their own
 * that give up within a couple of seconds: `unknown` when a store does not answer, so that the
 * rest is still printed.
 */
export async function readStoresOnce<T>(
  input: { settings: StoresSettings; db?: Db; logger: Logger },
  read: (stores: StoresOnce) => Promise<T>,
): Promise<T | 'unknown'> {
  const { settings, logger, db } = input;
  const redis = settings.redis.url
    ? openQueueRedis(
        settings.redis.url,
        {
          lazyConnect: true,
          connectTimeout: 2_000,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        },
        settings.redis,
      )
    : undefined;
  redis?.on('error', (error: Error) => logger.debug({ err: error }, 'status: queue Redis'));
  const queuesInPostgres = settings.queues.backend === 'postgres';
  const backend = queuesInPostgres
    ? postgresQueues({
        url: settings.queues.databaseUrl!,
        listeners: 0,
        applicationName: 'erp-bridge-status',
        onError: (error) => logger.debug({ err: error }, 'status: queue database'),
      })
    : redis && redisQueues(redis, settings.redis.queuePrefix);
  const shared: SharedState | undefined = redis
    ? { kind: 'redis', redis, prefix: settings.redis.queuePrefix }
    : queuesInPostgres && db
      ? { kind: 'postgres', db }
      : undefined;
  try {
    // The first command connects, and fails when the connection does.
    return await read({ backend, shared });
  } catch {
    return 'unknown';
  } finally {
    redis?.disconnect();
    if (queuesInPostgres) await backend?.close();
  }
}
