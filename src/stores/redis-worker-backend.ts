/**
 * BullMQ's Redis backend for erp-bridge's workers, but for one thing: a worker's blocking
 * connection is given none of BullMQ's Lua scripts. BullMQ defines its 64 scripts as commands on
 * every connection it opens (`RedisConnection.init`), and a worker's blocking connection only
 * ever waits (`BZPOPMIN` on its queue's marker); each source has a blocking connection per queue,
 * and the scripts on them were most of what a source cost a worker's heap (docs/performance.md,
 * "Sources"). Everything else is what BullMQ's own `createRedisBackend` builds for a worker: the
 * worker's regular connection is the one it is handed, shared; the blocking one a duplicate of
 * it, named as BullMQ names it, owned and closed by the backend.
 */
import { Cluster } from 'ioredis';
import {
  QueueKeys,
  RedisConnection,
  RedisQueueBackend,
  type BackendFactory,
  type KeyPrefixOptions,
} from 'bullmq';
import type { QueueRedis } from './redis-connection.js';

/** A connection that only blocks: BullMQ's scripts are not defined on it. */
class BlockingOnlyConnection extends RedisConnection {
  protected override loadCommands(): void {}
}

/** `connection` duplicated for a worker's blocking wait, under BullMQ's name for it. */
function blockingDuplicate(connection: QueueRedis, name: string, prefix: string | undefined) {
  const connectionName = `${prefix ?? 'bull'}:${Buffer.from(name).toString('base64')}`;
  return connection instanceof Cluster
    ? connection.duplicate(undefined, {
        redisOptions: { ...connection.options.redisOptions, connectionName },
      })
    : connection.duplicate({ connectionName });
}

/** The backend of a worker of `connection`'s queues (its `Worker`'s fourth argument). */
export function redisWorkerBackend(connection: QueueRedis): BackendFactory<RedisQueueBackend> {
  return (name, opts) => {
    // A Redis backend's queues are named under their prefix, which BullMQ's own factory reads too.
    const { prefix } = opts as KeyPrefixOptions;
    const queueKeys = new QueueKeys(prefix);
    return new RedisQueueBackend(
      new RedisConnection(connection, {
        shared: true,
        blocking: false,
        skipVersionCheck: opts.skipVersionCheck,
        skipWaitingForReady: opts.skipWaitingForReady,
      }),
      name,
      queueKeys.getKeys(name),
      (type) => queueKeys.toKey(name, type),
      opts,
      new BlockingOnlyConnection(blockingDuplicate(connection, name, prefix), {
        shared: false,
        blocking: true,
        skipVersionCheck: opts.skipVersionCheck,
      }),
    );
  };
}
