/**
 * The stores a process opens from the configuration for its queues and for the state the fleet
 * shares beside them (the Odoo call budget, the login memo, the feed's nudges):
 *
 * - QUEUE_BACKEND=redis: both on the queues' Redis, as one connection;
 * - QUEUE_BACKEND=postgres with REDIS_URL: the queues in PostgreSQL, the shared state on Redis;
 * - QUEUE_BACKEND=postgres alone: both in PostgreSQL, no Redis anywhere.
 */
import type { Config } from '../config/config.js';
import type { Db } from '../db/create-db.js';
import type { SharedState } from '../stores/shared-state.js';
import type { Logger } from '../lib/logger.js';
import { copiedSources } from '../config/sources.js';
import { postgresQueues, redisQueues, type QueueBackend } from './queue-backend.js';
import {
  createRedisConnection,
  type ConnectionRole,
  type QueueRedis,
} from '../stores/redis-connection.js';
import { SOURCE_QUEUE_KINDS } from './source-queues.js';

export interface QueueStores {
  readonly backend: QueueBackend;
  readonly shared: SharedState;
  /** The Redis the shared state is on, when there is one (readiness asks it apart from the queues). */
  readonly redis: QueueRedis | undefined;
  close(): Promise<void>;
}

export function openQueueStores(input: {
  config: Config;
  /** `worker` waits for its stores forever; `producer` fails fast (inside HTTP handlers). */
  role: Extract<ConnectionRole, 'worker' | 'producer'>;
  /** The process's own database: the shared state's home without Redis. */
  db: Db;
  logger: Logger;
}): QueueStores {
  const { config, logger, role } = input;
  const redis = config.redis.url
    ? createRedisConnection(config.redis.url, role, logger, config.redis)
    : undefined;
  const shared: SharedState = redis
    ? { kind: 'redis', redis, prefix: config.redis.queuePrefix }
    : { kind: 'postgres', db: input.db };
  const closeRedis = async () => {
    await redis?.quit();
  };
  if (config.queues.backend === 'redis') {
    return {
      backend: redisQueues(redis!, config.redis.queuePrefix),
      shared,
      redis,
      close: closeRedis,
    };
  }
  const backend = postgresQueues({
    url: config.queues.databaseUrl!,
    // A worker process: a Worker per queue of each source it copies and the feed's, and a
    // QueueEvents a CLI waits on.
    listeners: role === 'worker' ? workedQueues(config) + 1 : 1,
    applicationName: `erp-bridge-${role}`,
    onError: (error) => logger.warn({ err: error }, 'queue database connection error'),
  });
  return {
    backend,
    shared,
    redis,
    async close() {
      await backend.close();
      await closeRedis();
    },
  };
}

/** The queues a worker process of `config` works: each source's it copies, and the feed's. */
function workedQueues(config: Config): number {
  const { withDefault, others } = copiedSources(config.sources, config.sync.sources);
  return Math.max(1, others.length + (withDefault ? 1 : 0)) * SOURCE_QUEUE_KINDS.length + 1;
}

/**
 * The readiness checks of `stores`: the queues' store (`redis`, or `queue-database`), and the
 * shared state's Redis when it is apart from the queues.
 */
export function storeChecks(
  stores: QueueStores,
): { readonly name: string; check(): Promise<void> }[] {
  const { backend, redis } = stores;
  if (backend.kind === 'redis') return [{ name: 'redis', check: () => backend.ping() }];
  return [
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
  ];
}
