/** Where erp-bridge keeps its state: PostgreSQL, PGlite for the demo, Redis. Each key once: its parser, its default and its documentation (env-setting.ts). */
import { z } from 'zod';
import { defaulted, setting } from '../env-setting.js';
import {
  booleanText,
  hostPorts,
  oneOf,
  optionalText,
  optionalUrl,
  wholeNumber,
} from '../env-values.js';

export const STORAGE_SETTINGS = {
  DATABASE_URL: setting(optionalUrl(['postgres:', 'postgresql:']), {
    description:
      'PostgreSQL connection string. Required, except for the demo (which then uses PGlite).',
    secret: true,
  }),
  DATABASE_READ_URL: setting(optionalUrl(['postgres:', 'postgresql:']), {
    description:
      "API only: a streaming replica of DATABASE_URL's database. The read API's lists, details, histories and field values, and the change feed's pulls and streams, read from it; everything that writes, the sync and the workers keep DATABASE_URL. Unset: the API reads from DATABASE_URL.",
    secret: true,
  }),
  DATABASE_POOL_MAX: defaulted(wholeNumber('a whole number of connections', 1, 500), '10', {
    description:
      'Connections in the PostgreSQL pool of each process; its readiness probe (/health/ready) holds one more of its own.',
  }),
  DATABASE_PREPARED_STATEMENTS: defaulted(booleanText(), 'true', {
    description:
      'Whether queries run as named prepared statements (one round trip instead of two). Set false behind PgBouncer in transaction mode before 1.21.',
  }),
  DATABASE_LOCK_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 100, 600_000),
    '30000',
    {
      description:
        'How long a statement of the API, a worker or the sync CLI waits for a lock before it fails (and is retried): a stuck session cannot hold the sync lease or the copy for hours. The migrator waits as long as it must.',
    },
  ),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 1_000, 3_600_000),
    '60000',
    {
      description:
        'PostgreSQL ends a session of the API, a worker or the sync CLI that sits this long inside a transaction (a frozen process), releasing its locks.',
    },
  ),
  PGLITE_DIR: defaulted(z.string().trim(), '.data/pglite', {
    description: 'Demo only: where PGlite keeps its data when DATABASE_URL is unset.',
  }),
  QUEUE_BACKEND: defaulted(oneOf(['redis', 'postgres'] as const), 'redis', {
    description:
      'Where BullMQ keeps the queues: redis (REDIS_URL, its sentinels or its Cluster) or postgres (BullMQ\'s PostgreSQL backend, in schema bullmq of QUEUE_DATABASE_URL; migrate creates it). With postgres, REDIS_URL is optional: set, the Odoo call budget, the login memo, the feed\'s nudges and the Tryton cache stay on it; unset, they are kept in PostgreSQL and the Tryton cache is off (README, "What each queue store survives").',
  }),
  QUEUE_DATABASE_URL: setting(optionalUrl(['postgres:', 'postgresql:']), {
    description:
      "With QUEUE_BACKEND=postgres: the PostgreSQL database that holds the queues (schema bullmq). Unset: DATABASE_URL's. Never a replica.",
    secret: true,
  }),
  REDIS_URL: setting(optionalUrl(['redis:', 'rediss:']), {
    description:
      'Redis for BullMQ; must run with maxmemory-policy noeviction. Required, except for the demo and with QUEUE_BACKEND=postgres.',
    secret: true,
  }),
  REDIS_SENTINELS: defaulted(hostPorts(), '', {
    description:
      "Redis Sentinel's sentinels for the queues' Redis, host:port comma-separated (e.g. sentinel-a:26379,sentinel-b:26379,sentinel-c:26379): the processes ask them for the primary of REDIS_SENTINEL_MASTER, and again after a failover. REDIS_URL then gives the credentials, the database and TLS (rediss:); its host is not used. Empty: REDIS_URL's server itself.",
  }),
  REDIS_SENTINEL_MASTER: defaulted(z.string().trim().min(1), 'mymaster', {
    description: 'With REDIS_SENTINELS: the name the sentinels monitor the primary under.',
  }),
  REDIS_SENTINEL_PASSWORD: setting(optionalText(), {
    description: "With REDIS_SENTINELS: the sentinels' own password, when they require one.",
    secret: true,
  }),
  REDIS_CLUSTER_NODES: defaulted(hostPorts(), '', {
    description:
      "Redis Cluster nodes for the queues' Redis, host:port comma-separated (e.g. redis-a:6379,redis-b:6379,redis-c:6379): every process opens a Cluster client that learns the other nodes and the slots from them. REDIS_URL then gives only the credentials and TLS (rediss:); its host is not used, and its database must be 0. QUEUE_PREFIX must keep a hash tag ({...}). Not with REDIS_SENTINELS. The Tryton cache stays on CACHE_REDIS_URL, a single Redis, and is off without it. Empty: no Cluster.",
  }),
  CACHE_REDIS_URL: setting(optionalUrl(['redis:', 'rediss:']), {
    description:
      'Redis for the Tryton cache, with an evicting maxmemory-policy (allkeys-lru). Defaults to REDIS_URL, with a warning at boot: the queue Redis is noeviction, so the cache then caches nothing unless TRYTON_CACHE_ALLOW_NOEVICTION is true.',
    secret: true,
  }),
  REDIS_LIVENESS_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 5_000, 3_600_000),
    '60000',
    {
      description:
        "How long a worker's Redis may leave a blocking command unanswered (with QUEUE_BACKEND=postgres, its queue database a query), or a queue's jobs wait while its worker has free slots and takes none (a job loop wedged after a failover), before the worker answers not alive on /health/live and exits for its supervisor to restart it.",
    },
  ),
  QUEUE_PREFIX: defaulted(
    z
      .string()
      .trim()
      .regex(/^[^:\s]+$/, { error: 'must not contain ":" or spaces' }),
    '{erp-bridge}',
    { description: 'BullMQ key prefix; keep the braces for Redis Cluster hash tags.' },
  ),
};
