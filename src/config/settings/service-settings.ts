/**
 * The service around the copy: where erp-bridge keeps its state, the Tryton gateway
 * (docs/tryton.md), the API's and the workers' ports and limits, shutdown and logs. Each key once:
 * its parser, its default and its documentation (env-setting.ts).
 */
import { z } from 'zod';
import { defaulted, setting } from '../env-setting.js';
import {
  blankToUndefined,
  booleanText,
  hostPorts,
  list,
  oneOf,
  optionalText,
  optionalUrl,
  trustProxy,
  wholeNumber,
} from '../env-values.js';

// Where erp-bridge keeps its state: PostgreSQL, PGlite for the demo, Redis.
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
  DATABASE_BOOT_WAIT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 0, 3_600_000),
    '60000',
    {
      description:
        'How long a worker or migrate waits, as it starts, for PostgreSQL to answer (connection refused or lost, host not resolved yet, starting up, too many connections), trying again after a pause that doubles from 0.5 to 5 s and logging each failure; then it exits 1. 0: one try. A refused password or a missing database ends the wait at once.',
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
      "Redis Sentinel's sentinels for the queues' Redis, host:port comma-separated (e.g. sentinel-a:26379,sentinel-b:26379,sentinel-c:26379): the processes ask them for the primary of REDIS_SENTINEL_MASTER, and again after a failover. REDIS_URL then gives the credentials, the database and TLS (rediss:, to the sentinels and the primary alike, their certificates checked against the trusted authorities, NODE_EXTRA_CA_CERTS for a private one); its host is not used. Empty: REDIS_URL's server itself.",
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
        "How long a worker's Redis may leave a blocking command unanswered (with QUEUE_BACKEND=postgres, its queue database a query), a queue's jobs wait while its worker has free slots and takes none (a job loop wedged after a failover; not a queue whose jobs an operator holds back in bull-board: paused, over its global rate limit, or with its global concurrency all taken), or a database query stay pending after its pool lost a connection (one it had then, or started before the pool had answered again and stayed 10 s without losing one), before the worker answers not alive on /health/live and exits for its supervisor to restart it (time the worker itself stood still, stopped or paused, does not count). The API's /health/live answers not alive for such a query too. A page, BC or webhook job with a query sent to PostgreSQL and still pending half this long, pool failure or not, is cancelled, its database session ended, and run again (docs/postgres-driver.md).",
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

// The Tryton gateway: its server, what it exposes, its cache (docs/tryton.md).
/** Least privilege: the server version and no model; operators list what they expose. */
export const DEFAULT_TRYTON_ALLOWED_METHODS = 'common.server.version';

export const TRYTON_SETTINGS = {
  TRYTON_RPC_URL: setting(optionalUrl(['http:', 'https:']), {
    description: 'Tryton server base URL. Unset: the Tryton routes answer 503.',
  }),
  TRYTON_DATABASE: setting(optionalText(), { description: 'Tryton database name.' }),
  TRYTON_USER: setting(optionalText(), { description: 'Tryton login of the service account.' }),
  TRYTON_PASSWORD: setting(optionalText(), {
    description:
      'Tryton password of the service account. The API alone reads it: give it no other process.',
    secret: true,
  }),
  TRYTON_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 100, 600_000),
    '10000',
    { description: 'Timeout of one Tryton call.' },
  ),
  TRYTON_LOGIN_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 1_000, 600_000),
    '45000',
    { description: 'Timeout of a Tryton login (trytond delays logins after failures).' },
  ),
  TRYTON_RETRIES: defaulted(wholeNumber('a whole number of retries', 0, 10), '3', {
    description: 'Retries of a Tryton call after a transport error or timeout.',
  }),
  TRYTON_SESSION_TTL_SECONDS: defaulted(
    wholeNumber('a whole number of seconds', 60, 31_536_000),
    '86400',
    {
      description:
        'Age after which the client logs in again before the server expires the session.',
    },
  ),
  TRYTON_MODELS: defaulted(list(), '', {
    description:
      "Models whose read methods (search, search_read, search_count, read, fields_get) the gateway forwards, comma-separated, each optionally with its only readable fields: party.party,product.product:name|code. Empty: no model. res.*, ir.* and web.* only when named here (a warning at boot). A search on rec_name, and a relation compared with text (party.identifiers ilike …), run the model's own name search: forwarded only for a model whose field list names rec_name (party.identifier:code|rec_name).",
  }),
  TRYTON_ALLOWED_METHODS: defaulted(list(), DEFAULT_TRYTON_ALLOWED_METHODS, {
    description:
      'Other methods the gateway forwards; comma-separated patterns where * matches exactly one dotted segment (model.party.party.create). A wildcard never reaches res.*, ir.* or web.* models; no pattern reaches a method that reads fields or renders records outside the field checks (export_data, fields_view_get, on_change…, autocomplete and on_scan_code of Tryton 7.0, report.*, wizard.*). A pattern matching more than the read methods is warned about at boot.',
  }),
  TRYTON_MAX_SEARCH_LIMIT: defaulted(wholeNumber('a whole number of records', 1, 100_000), '1000', {
    description:
      'Most records one proxied search returns (added when the caller sends no limit) and most ids one read names.',
  }),
  TRYTON_MAX_RESPONSE_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 1_024, 1_073_741_824),
    '10485760',
    {
      description:
        'Largest Tryton answer the client reads; past it the call fails (502 at the gateway).',
    },
  ),
  TRYTON_CACHE_TTL_SECONDS: defaulted(wholeNumber('a whole number of seconds', 0, 86_400), '60', {
    description:
      'Cache lifetime of proxied read calls (0 disables the cache), at most TRYTON_CACHE_MAX_TTL_SECONDS.',
  }),
  TRYTON_CACHE_MAX_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 0, 104_857_600),
    '262144',
    {
      description: 'Answers larger than this are not cached; at most TRYTON_CACHE_MAX_TOTAL_BYTES.',
    },
  ),
  TRYTON_CACHE_MAX_TTL_SECONDS: defaulted(
    wholeNumber('a whole number of seconds', 1, 86_400),
    '3600',
    {
      description:
        "Longest a cached Tryton answer is kept, whatever TRYTON_CACHE_TTL_SECONDS or Tryton's X-Tryton-Cache header (86400 for fields_get) asks.",
    },
  ),
  TRYTON_CACHE_MAX_ENTRIES: defaulted(
    wholeNumber('a whole number of entries', 1, 10_000_000),
    '10000',
    {
      description:
        'Most answers the Tryton cache holds in Redis, counted across API replicas; past it the soonest to expire go first. Callers choose the context, so each call may make a new entry.',
    },
  ),
  TRYTON_CACHE_MAX_TOTAL_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 1_024, 17_179_869_184),
    '67108864',
    {
      description:
        'Most bytes of answers the Tryton cache holds in Redis, counted across API replicas; past it the soonest to expire go first.',
    },
  ),
  TRYTON_CACHE_ALLOW_NOEVICTION: defaulted(booleanText(), 'false', {
    description:
      "Whether the Tryton cache writes to a Redis whose maxmemory-policy is noeviction (or cannot be read), such as the queue's. Off: it caches nothing there and warns; a full noeviction Redis stops the queues.",
  }),
};

// The API and the workers' ports, their limits, shutdown and logs.
export const HTTP_SETTINGS = {
  API_KEYS: setting(optionalText(), {
    description:
      "Comma-separated name:role:sha256hex[:source+source] entries (role: reader, operator, admin); a key given sources reads and controls only those sources' copies, changes, jobs and subscriptions, and none of the deployment's own surfaces (metrics, API docs, Tryton gateway: docs/sources.md). `npm run apikey` makes one.",
    secret: true,
  }),
  PORT: defaulted(wholeNumber('a TCP port', 0, 65_535), '3000', {
    description: 'API listen port.',
  }),
  HOST: defaulted(z.string().trim(), '0.0.0.0', { description: 'API listen address.' }),
  WORKER_HTTP_PORT: defaulted(wholeNumber('a TCP port', 0, 65_535), '3001', {
    description:
      "Worker's health and metrics port (/health/live, /health/ready, and /metrics for an operator key of every source unless WORKER_METRICS_HOST), on HOST; 0 picks a free one.",
  }),
  WORKER_METRICS_HOST: setting(optionalText(), {
    description:
      "An address of its own for the worker's /metrics (one only Prometheus reaches, e.g. a pod's internal interface): served there on WORKER_METRICS_PORT with no key, and no longer on WORKER_HTTP_PORT. Unset: /metrics on WORKER_HTTP_PORT answers an operator key of API_KEYS (Bearer) of every source only.",
  }),
  WORKER_METRICS_PORT: defaulted(wholeNumber('a TCP port', 0, 65_535), '9464', {
    description: 'With WORKER_METRICS_HOST: the port of /metrics; 0 picks a free one.',
  }),
  CORS_ORIGINS: defaulted(list(), '', {
    description: 'Comma-separated origins allowed by CORS; empty disables CORS.',
  }),
  HTTP_BODY_LIMIT_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 1_024, 104_857_600),
    '1048576',
    { description: 'Largest request body the API accepts.' },
  ),
  RATE_LIMIT_PER_MINUTE: defaulted(wholeNumber('a whole number of requests', 1, 1_000_000), '600', {
    description:
      "Requests per minute allowed per API key, counted in Redis across API replicas (before the route's own checks).",
  }),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: defaulted(
    wholeNumber('a whole number of requests', 1, 1_000_000),
    '120',
    {
      description:
        'Requests per minute allowed per client address without a valid key (an IPv6 client by its /64 network): every refused key and unknown path counts here; only /health/live and /health/ready are exempt.',
    },
  ),
  TRUST_PROXY: defaulted(trustProxy(), 'false', {
    description:
      'Whether X-Forwarded-For is believed for the client address: false, true, a number of proxy hops, or proxy addresses/CIDR ranges.',
  }),
  API_DOCS: defaulted(oneOf(['public', 'protected', 'off']), 'protected', {
    description:
      "The OpenAPI document and page at /docs: public, protected (a key of every source, Bearer or Basic: it describes every source's routes and models) or off. The demo serves them public.",
  }),
  API_STATEMENT_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 100, 600_000),
    '5000',
    { description: "PostgreSQL statement timeout of the API's queries." },
  ),
  // The limits a client of the API meets (README, API).
  API_MAX_IN_FLIGHT_PER_KEY: defaulted(wholeNumber('a whole number of requests', 1, 1_000), '4', {
    description:
      "Requests of one API key an API process serves at once; past it, 429 with Retry-After. Below DATABASE_POOL_MAX, one key's slow requests never hold every connection.",
  }),
  API_PAGE_MAX_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 65_536, 268_435_456),
    '4194304',
    {
      description:
        "Largest answer of a list page (and of a detail's child pages, together): a page stops short of it, with its nextCursor, and always holds one record at least.",
    },
  ),
  API_READERS_SEE_ARCHIVED: defaulted(booleanText(), 'false', {
    description:
      'Whether a reader key may ask for records gone from Odoo (includeArchived=true); without it, only operator and admin keys may.',
  }),
  API_RECONCILE_COOLDOWN_SECONDS: defaulted(
    wholeNumber('a whole number of seconds', 0, 604_800),
    '900',
    {
      description:
        'After a reconcile or a verify of a family ran (whoever asked for it), how long POST /api/sync/reconcile or /api/sync/verify answers 409 for that family, as it does while one is queued or running; 0: only then.',
    },
  ),
  SHUTDOWN_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 100, 600_000),
    '15000',
    { description: 'How long a process waits for work in flight when asked to stop.' },
  ),
  LOG_LEVEL: defaulted(
    oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    'info',
    { description: 'fatal, error, warn, info, debug, trace or silent.' },
  ),
  LOG_PRETTY: setting(z.preprocess(blankToUndefined, booleanText().optional()), {
    description: 'Human-readable logs; defaults to true on a terminal, JSON lines otherwise.',
  }),
  LOG_FORMAT: setting(z.preprocess(blankToUndefined, oneOf(['pretty', 'json']).optional()), {
    description:
      'pretty (one readable line per event) or json (one JSON object per line, for log shippers). Defaults to LOG_PRETTY, else pretty on a terminal and json otherwise.',
  }),
};
