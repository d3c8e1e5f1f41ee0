/**
 * The environment contract: every key erp-bridge reads, its default, and how it is checked.
 * `.env.example` and the README's configuration table are checked against `ENV_KEYS` by a test,
 * so this file is the single source of truth for operators.
 */
import { z } from 'zod';
import {
  blankToUndefined,
  booleanText,
  duration,
  instant,
  list,
  odooContext,
  oneOf,
  optionalText,
  optionalUrl,
  ratio,
  trustProxy,
  wholeNumber,
  withDefault,
} from './env-values.js';

export interface EnvKeyDoc {
  readonly key: string;
  readonly description: string;
  /** The default as an operator would write it; undefined when there is none. */
  readonly default?: string;
  /** Values that must never be printed (URLs may hold passwords). */
  readonly secret?: boolean;
}

/** Least privilege: the server version and no model; operators list what they expose. */
export const DEFAULT_TRYTON_ALLOWED_METHODS = 'common.server.version';

export const envSchema = z.object({
  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  DATABASE_POOL_MAX: withDefault(wholeNumber('a whole number of connections', 1, 500), '10'),
  DATABASE_PREPARED_STATEMENTS: withDefault(booleanText(), 'true'),
  DATABASE_LOCK_TIMEOUT_MS: withDefault(
    wholeNumber('a whole number of milliseconds', 100, 600_000),
    '30000',
  ),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: withDefault(
    wholeNumber('a whole number of milliseconds', 1_000, 3_600_000),
    '60000',
  ),
  PGLITE_DIR: withDefault(z.string().trim(), '.data/pglite'),
  REDIS_URL: optionalUrl(['redis:', 'rediss:']),
  CACHE_REDIS_URL: optionalUrl(['redis:', 'rediss:']),
  QUEUE_PREFIX: withDefault(
    z
      .string()
      .trim()
      .regex(/^[^:\s]+$/, { error: 'must not contain ":" or spaces' }),
    '{erp-bridge}',
  ),

  ODOO_URL: optionalUrl(['http:', 'https:']),
  ODOO_DATABASE: optionalText(),
  ODOO_USERNAME: optionalText(),
  ODOO_PASSWORD: optionalText(),
  ODOO_PROTOCOL: withDefault(oneOf(['auto', 'xmlrpc', 'jsonrpc', 'json2']), 'auto'),
  ODOO_READ_REPLICA: withDefault(booleanText(), 'true'),
  ODOO_API_KEY: optionalText(),
  ODOO_API_KEY_EXPIRES_AT: z.preprocess(blankToUndefined, instant().optional()),
  ODOO_API_KEY_WARN_DAYS: withDefault(wholeNumber('a whole number of days', 0, 365), '14'),
  ODOO_API_KEY_ROTATE: withDefault(booleanText(), 'false'),
  ODOO_API_KEY_RENEW_DAYS: withDefault(wholeNumber('a whole number of days', 1, 365), '30'),
  ODOO_API_KEY_LIFETIME_DAYS: withDefault(wholeNumber('a whole number of days', 2, 3_650), '89'),
  ODOO_API_KEY_SECRET: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .min(32, { error: 'must be at least 32 characters (e.g. openssl rand -base64 32)' })
      .optional(),
  ),
  ODOO_API_KEY_SECRET_PREVIOUS: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .min(32, { error: 'must be at least 32 characters, as ODOO_API_KEY_SECRET was' })
      .optional(),
  ),
  ODOO_TIMEOUT_MS: withDefault(
    wholeNumber('a whole number of milliseconds', 100, 600_000),
    '30000',
  ),
  ODOO_RETRIES: withDefault(wholeNumber('a whole number of retries', 0, 10), '3'),
  ODOO_MAX_CONCURRENT_CALLS: withDefault(wholeNumber('a whole number of calls', 0, 1_000), '4'),
  ODOO_MAX_CALLS_PER_SECOND: withDefault(wholeNumber('a whole number of calls', 0, 10_000), '0'),
  ODOO_BUDGET_MAX_WAIT_MS: withDefault(
    wholeNumber('a whole number of milliseconds', 1_000, 3_600_000),
    '600000',
  ),
  ODOO_PAGE_SIZE: withDefault(wholeNumber('a whole number of records', 1, 10_000), '1000'),
  ODOO_PAGE_MAX_BYTES: withDefault(
    wholeNumber('a whole number of bytes', 16_384, 268_435_456),
    '2097152',
  ),
  ODOO_CONTEXT: z.preprocess(blankToUndefined, odooContext().optional()),
  ODOO_WEBHOOK_TOKENS: withDefault(list(), ''),
  ODOO_WEBHOOK_DEBOUNCE_MS: withDefault(
    wholeNumber('a whole number of milliseconds', 0, 60_000),
    '500',
  ),
  ODOO_WEBHOOK_RATE_LIMIT_PER_MINUTE: withDefault(
    wholeNumber('a whole number of requests', 1, 1_000_000),
    '6000',
  ),

  SYNC_FAMILIES: optionalText(),
  SYNC_FAMILIES_FILE: optionalText(),
  SYNC_EVERY: withDefault(duration(), '5m'),
  SYNC_OVERLAP_SECONDS: withDefault(
    wholeNumber('a whole number of seconds', 0, 86_400).refine((seconds) => seconds >= 60, {
      error:
        "must be at least 60: Odoo stamps a change with the start of its transaction, so a change committed late carries an older stamp; the overlap must outlast Odoo's longest transaction",
    }),
    '600',
  ),
  SYNC_LEASE_SECONDS: withDefault(wholeNumber('a whole number of seconds', 10, 86_400), '120'),
  SYNC_CONCURRENCY: withDefault(wholeNumber('a whole number of jobs', 1, 64), '3'),
  SYNC_JOB_ATTEMPTS: withDefault(wholeNumber('a whole number of attempts', 1, 50), '5'),
  SYNC_RUN_PAGES_IN_FLIGHT: withDefault(wholeNumber('a whole number of pages', 1, 10_000), '100'),
  SYNC_RECONCILE_CRON: withDefault(
    z
      .string()
      .trim()
      .regex(/^\S+(\s+\S+){4,5}$/, { error: 'must be a cron pattern such as "0 3 * * *"' }),
    '0 3 * * *',
  ),
  SYNC_RECONCILE_MIN_RATIO: withDefault(ratio(), '0.5'),
  SYNC_VERIFY_CYCLE_DAYS: withDefault(wholeNumber('a whole number of days', 1, 365), '7'),
  SYNC_JOB_LOCK_MS: withDefault(
    wholeNumber('a whole number of milliseconds', 1_000, 600_000),
    '30000',
  ),

  // The change feed (docs/feed.md).
  FEED_RETENTION_DAYS: withDefault(wholeNumber('a whole number of days', 1, 3_650), '7'),
  FEED_SUBSCRIPTIONS_FILE: optionalText(),
  FEED_DELIVERY_TIMEOUT_MS: withDefault(
    wholeNumber('a whole number of milliseconds', 100, 120_000),
    '10000',
  ),
  FEED_DELIVERY_BATCH_MAX: withDefault(wholeNumber('a whole number of changes', 1, 1_000), '100'),
  FEED_DELIVERY_BACKOFF_MAX_MS: withDefault(
    wholeNumber('a whole number of milliseconds', 1_000, 86_400_000),
    '300000',
  ),
  FEED_DELIVERY_GIVE_UP_HOURS: withDefault(wholeNumber('a whole number of hours', 1, 2_160), '72'),
  FEED_ALLOWED_HOSTS: withDefault(list(), ''),
  FEED_SECRET_KEY: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .min(32, { error: 'must be at least 32 characters (e.g. openssl rand -base64 32)' })
      .optional(),
  ),
  FEED_SECRET_KEY_PREVIOUS: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .min(32, { error: 'must be at least 32 characters, as FEED_SECRET_KEY was' })
      .optional(),
  ),

  TRYTON_RPC_URL: optionalUrl(['http:', 'https:']),
  TRYTON_DATABASE: optionalText(),
  TRYTON_USER: optionalText(),
  TRYTON_PASSWORD: optionalText(),
  TRYTON_TIMEOUT_MS: withDefault(
    wholeNumber('a whole number of milliseconds', 100, 600_000),
    '10000',
  ),
  TRYTON_LOGIN_TIMEOUT_MS: withDefault(
    wholeNumber('a whole number of milliseconds', 1_000, 600_000),
    '45000',
  ),
  TRYTON_RETRIES: withDefault(wholeNumber('a whole number of retries', 0, 10), '3'),
  TRYTON_SESSION_TTL_SECONDS: withDefault(
    wholeNumber('a whole number of seconds', 60, 31_536_000),
    '86400',
  ),
  TRYTON_MODELS: withDefault(list(), ''),
  TRYTON_ALLOWED_METHODS: withDefault(list(), DEFAULT_TRYTON_ALLOWED_METHODS),
  TRYTON_MAX_SEARCH_LIMIT: withDefault(
    wholeNumber('a whole number of records', 1, 100_000),
    '1000',
  ),
  TRYTON_MAX_RESPONSE_BYTES: withDefault(
    wholeNumber('a whole number of bytes', 1_024, 1_073_741_824),
    '10485760',
  ),
  TRYTON_CACHE_TTL_SECONDS: withDefault(wholeNumber('a whole number of seconds', 0, 86_400), '60'),
  TRYTON_CACHE_MAX_BYTES: withDefault(
    wholeNumber('a whole number of bytes', 0, 104_857_600),
    '262144',
  ),
  TRYTON_CACHE_MAX_TTL_SECONDS: withDefault(
    wholeNumber('a whole number of seconds', 1, 86_400),
    '3600',
  ),
  TRYTON_CACHE_MAX_ENTRIES: withDefault(
    wholeNumber('a whole number of entries', 1, 10_000_000),
    '10000',
  ),
  TRYTON_CACHE_MAX_TOTAL_BYTES: withDefault(
    wholeNumber('a whole number of bytes', 1_024, 17_179_869_184),
    '67108864',
  ),
  TRYTON_CACHE_ALLOW_NOEVICTION: withDefault(booleanText(), 'false'),

  API_KEYS: optionalText(),
  PORT: withDefault(wholeNumber('a TCP port', 0, 65_535), '3000'),
  HOST: withDefault(z.string().trim(), '0.0.0.0'),
  WORKER_HTTP_PORT: withDefault(wholeNumber('a TCP port', 0, 65_535), '3001'),
  WORKER_METRICS_HOST: optionalText(),
  WORKER_METRICS_PORT: withDefault(wholeNumber('a TCP port', 0, 65_535), '9464'),
  CORS_ORIGINS: withDefault(list(), ''),
  HTTP_BODY_LIMIT_BYTES: withDefault(
    wholeNumber('a whole number of bytes', 1_024, 104_857_600),
    '1048576',
  ),
  RATE_LIMIT_PER_MINUTE: withDefault(
    wholeNumber('a whole number of requests', 1, 1_000_000),
    '600',
  ),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: withDefault(
    wholeNumber('a whole number of requests', 1, 1_000_000),
    '120',
  ),
  TRUST_PROXY: withDefault(trustProxy(), 'false'),
  API_DOCS: withDefault(oneOf(['public', 'protected', 'off']), 'protected'),
  API_STATEMENT_TIMEOUT_MS: withDefault(
    wholeNumber('a whole number of milliseconds', 100, 600_000),
    '5000',
  ),
  // The limits a client of the API meets (README, API).
  API_MAX_IN_FLIGHT_PER_KEY: withDefault(wholeNumber('a whole number of requests', 1, 1_000), '4'),
  API_PAGE_MAX_BYTES: withDefault(
    wholeNumber('a whole number of bytes', 65_536, 268_435_456),
    '4194304',
  ),
  API_READERS_SEE_ARCHIVED: withDefault(booleanText(), 'false'),
  API_RECONCILE_COOLDOWN_SECONDS: withDefault(
    wholeNumber('a whole number of seconds', 0, 604_800),
    '900',
  ),
  SHUTDOWN_TIMEOUT_MS: withDefault(
    wholeNumber('a whole number of milliseconds', 100, 600_000),
    '15000',
  ),
  LOG_LEVEL: withDefault(
    oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    'info',
  ),
  LOG_PRETTY: z.preprocess(blankToUndefined, booleanText().optional()),
  LOG_FORMAT: z.preprocess(blankToUndefined, oneOf(['pretty', 'json']).optional()),
});

export type Env = z.output<typeof envSchema>;

/** Operator-facing documentation of every key, in the order of `.env.example`. */
export const ENV_KEYS: readonly EnvKeyDoc[] = [
  {
    key: 'DATABASE_URL',
    description:
      'PostgreSQL connection string. Required, except for the demo (which then uses PGlite).',
    secret: true,
  },
  {
    key: 'DATABASE_POOL_MAX',
    description:
      'Connections in the PostgreSQL pool of each process; its readiness probe (/health/ready) holds one more of its own.',
    default: '10',
  },
  {
    key: 'DATABASE_PREPARED_STATEMENTS',
    description:
      'Whether queries run as named prepared statements (one round trip instead of two). Set false behind PgBouncer in transaction mode before 1.21.',
    default: 'true',
  },
  {
    key: 'DATABASE_LOCK_TIMEOUT_MS',
    description:
      'How long a statement of the API, a worker or the sync CLI waits for a lock before it fails (and is retried): a stuck session cannot hold the sync lease or the copy for hours. The migrator waits as long as it must.',
    default: '30000',
  },
  {
    key: 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
    description:
      'PostgreSQL ends a session of the API, a worker or the sync CLI that sits this long inside a transaction (a frozen process), releasing its locks.',
    default: '60000',
  },
  {
    key: 'PGLITE_DIR',
    description: 'Demo only: where PGlite keeps its data when DATABASE_URL is unset.',
    default: '.data/pglite',
  },
  {
    key: 'REDIS_URL',
    description:
      'Redis for BullMQ; must run with maxmemory-policy noeviction. Required, except for the demo.',
    secret: true,
  },
  {
    key: 'CACHE_REDIS_URL',
    description:
      'Redis for the Tryton cache, with an evicting maxmemory-policy (allkeys-lru). Defaults to REDIS_URL, with a warning at boot: the queue Redis is noeviction, so the cache then caches nothing unless TRYTON_CACHE_ALLOW_NOEVICTION is true.',
    secret: true,
  },
  {
    key: 'QUEUE_PREFIX',
    description: 'BullMQ key prefix; keep the braces for Redis Cluster hash tags.',
    default: '{erp-bridge}',
  },
  {
    key: 'ODOO_URL',
    description:
      'Odoo base URL, e.g. http://odoo:8069. Required, except for the demo (bundled sandbox).',
  },
  { key: 'ODOO_DATABASE', description: 'Odoo database name.' },
  { key: 'ODOO_USERNAME', description: 'Odoo login of the sync user.' },
  {
    key: 'ODOO_PASSWORD',
    description:
      'Odoo password of the sync user (or an API key). Not needed with ODOO_API_KEY, which is used in its place.',
    secret: true,
  },
  {
    key: 'ODOO_PROTOCOL',
    description:
      "Odoo transport: auto (read the server's version once per process: json2 on Odoo 19+ with ODOO_API_KEY, jsonrpc otherwise), xmlrpc, jsonrpc or json2 (Odoo 19+).",
    default: 'auto',
  },
  {
    key: 'ODOO_READ_REPLICA',
    description:
      "Whether Odoo may serve JSON-2's reads from a read replica that lags (db_replica_host, Odoo 18+; a client cannot tell). True: the sync proves a record current, and lets a verify or a reconcile overwrite a newer stamp, only within what its reads have shown (docs/odoo.md); a quiet Odoo's latest changes are then read again by each run. False only when you know Odoo has no replica: a lag longer than a minute could then lose a change. No effect on XML-RPC and JSON-RPC, which Odoo serves from its primary.",
    default: 'true',
  },
  {
    key: 'ODOO_API_KEY',
    description:
      "API key of the sync user (Odoo: Preferences → Account Security → New API Key). JSON-2's bearer on Odoo 19+, and the password of XML-RPC and JSON-RPC calls (Odoo takes a key wherever it takes the password).",
    secret: true,
  },
  {
    key: 'ODOO_API_KEY_EXPIRES_AT',
    description:
      "When ODOO_API_KEY lapses (ISO date or date-time, UTC), as Odoo showed it at creation. Unset: erp-bridge reads it from Odoo (the user's keys), or knows it from its own renewal.",
  },
  {
    key: 'ODOO_API_KEY_WARN_DAYS',
    description:
      'Days before the API key lapses from which the worker logs a warning, status and GET /api/sync/state say so, and erp_bridge_odoo_api_key_expiring is 1.',
    default: '14',
  },
  {
    key: 'ODOO_API_KEY_ROTATE',
    description:
      "Whether a worker renews the API key over Odoo's API (res.users.apikeys.generate: Odoo after 19.0.0, with programmatic keys enabled for the user; where Odoo refuses, it says why once a day) before it lapses, keeps the new one encrypted in PostgreSQL for every process, and revokes the old one once none uses it. Needs ODOO_API_KEY and ODOO_API_KEY_SECRET.",
    default: 'false',
  },
  {
    key: 'ODOO_API_KEY_RENEW_DAYS',
    description: 'With ODOO_API_KEY_ROTATE: renew the key when fewer days than this remain.',
    default: '30',
  },
  {
    key: 'ODOO_API_KEY_LIFETIME_DAYS',
    description:
      "With ODOO_API_KEY_ROTATE: the lifetime asked for a renewed key; at most what Odoo allows the user's groups (90 days for internal users: keep a day below, Odoo checks in its server's local time).",
    default: '89',
  },
  {
    key: 'ODOO_API_KEY_SECRET',
    description:
      'Secret (at least 32 characters) from which the key encrypting the renewed API key in PostgreSQL (AES-256-GCM) is derived; the same for every process. Required with ODOO_API_KEY_ROTATE.',
    secret: true,
  },
  {
    key: 'ODOO_API_KEY_SECRET_PREVIOUS',
    description:
      'While ODOO_API_KEY_SECRET changes: the secret it replaces. The stored key opens with either, and its next write (a renewal, a new ODOO_API_KEY adopted) seals it under ODOO_API_KEY_SECRET; unset it after that (docs/odoo.md, "Changing ODOO_API_KEY_SECRET").',
    secret: true,
  },
  { key: 'ODOO_TIMEOUT_MS', description: 'Timeout of one Odoo call.', default: '30000' },
  {
    key: 'ODOO_RETRIES',
    description: 'Retries of a failed Odoo call when the failure is transient.',
    default: '3',
  },
  {
    key: 'ODOO_MAX_CONCURRENT_CALLS',
    description:
      'Odoo calls in flight at once across every process that shares REDIS_URL (workers, the sync CLI, the demo, migrate); 0: no bound. Each call holds one of Odoo\'s HTTP workers: 4 leaves one to the users of the smallest Odoo deployed as Odoo advises (2 CPUs, 5 workers), and lets one worker\'s SYNC_CONCURRENCY pages run. A slot of a process that died is free after ODOO_TIMEOUT_MS plus 5 s (docs/odoo.md, "Call budget").',
    default: '4',
  },
  {
    key: 'ODOO_MAX_CALLS_PER_SECOND',
    description:
      'Odoo calls within any one second across every process that shares REDIS_URL; 0: no bound. A call counts from when it is sent until a second after its answer, so the bound holds as Odoo sees the calls arrive; it costs a full copy time (docs/odoo.md, "Call budget").',
    default: '0',
  },
  {
    key: 'ODOO_BUDGET_MAX_WAIT_MS',
    description:
      'The longest an Odoo call waits for its turn in the call budget (ODOO_MAX_* keys, a pause Odoo asked for); past it the call fails with ODOO_BUDGET_TIMEOUT and its job is retried. Above the longest pause (5 minutes).',
    default: '600000',
  },
  {
    key: 'ODOO_PAGE_SIZE',
    description:
      'Root records a page reads at most (a page job reads them with their children and writes them); pages are sized by ODOO_PAGE_MAX_BYTES below this.',
    default: '1000',
  },
  {
    key: 'ODOO_PAGE_MAX_BYTES',
    description:
      "A page's records as JSON, children included, at most: pages hold as many roots as fit, from the size of the records the copy holds (or of a few read first, in a first copy). Each Odoo call costs Odoo tens of milliseconds whatever its size, so narrow records are read by the thousand; a worker holds SYNC_CONCURRENCY pages at once, and their records are most of its memory (docs/performance.md).",
    default: '2097152',
  },
  {
    key: 'ODOO_CONTEXT',
    description:
      'Extra Odoo context for every read, as JSON (e.g. {"lang":"fr_FR","tz":"Africa/Casablanca"}). Default: the sync user\'s own lang and tz; active_test is always false.',
  },
  {
    key: 'ODOO_WEBHOOK_TOKENS',
    description:
      "SHA-256 (hex) of the tokens Odoo's webhook URLs carry (POST /hooks/odoo/<token>), comma-separated: several during a rotation. Empty: the webhook route answers 404. `npm run apikey -- --webhook` makes one.",
    default: '',
    secret: true,
  },
  {
    key: 'ODOO_WEBHOOK_DEBOUNCE_MS',
    description: 'Webhook events for one BC within this window collapse into one read of Odoo.',
    default: '500',
  },
  {
    key: 'ODOO_WEBHOOK_RATE_LIMIT_PER_MINUTE',
    description: 'Webhook requests per minute accepted with a valid token.',
    default: '6000',
  },
  {
    key: 'SYNC_FAMILIES',
    description:
      'Record families copied, comma-separated: bcs (dimagaz.bc with its lines), partners (res.partner), moves (account.move with its lines), and the families of SYNC_FAMILIES_FILE. Each has its own lease, schedule and state. Unset: bcs, the demo bcs and partners, and with SYNC_FAMILIES_FILE every family it declares.',
    default: 'bcs',
  },
  {
    key: 'SYNC_FAMILIES_FILE',
    description:
      "A YAML or JSON file declaring more families to copy, any Odoo model (docs/models.md); `migrate` creates their tables from Odoo's fields_get.",
  },
  {
    key: 'SYNC_EVERY',
    description:
      'Interval of the incremental sync of each family (30s, 5m, 1h), unless its declaration sets its own.',
    default: '5m',
  },
  {
    key: 'SYNC_OVERLAP_SECONDS',
    description: 'How far before the watermark each run re-reads.',
    default: '600',
  },
  {
    key: 'SYNC_LEASE_SECONDS',
    description: 'Lifetime of the sync lease; a heartbeat extends it while a run is alive.',
    default: '120',
  },
  {
    key: 'SYNC_CONCURRENCY',
    description:
      'Page jobs one worker process runs at once, and as many BC jobs besides. Each page in flight holds its records in memory (up to ODOO_PAGE_MAX_BYTES of them as JSON, several times that as objects): 3 keeps a worker under 250 MB with 2 MiB pages and is as fast as 4 on two cores (docs/performance.md).',
    default: '3',
  },
  {
    key: 'SYNC_JOB_ATTEMPTS',
    description: 'Attempts of a sync job before it fails for good.',
    default: '5',
  },
  {
    key: 'SYNC_RUN_PAGES_IN_FLIGHT',
    description:
      "Pages a run has queued at once: it queues them in waves of this many, the next once these have settled. Bounds what a large run (a first copy) keeps in Redis and how many of its pages another family's run can wait behind (a small run's pages go first anyway).",
    default: '100',
  },
  {
    key: 'SYNC_RECONCILE_CRON',
    description:
      "Cron pattern (UTC) of each family's reconcile (then its verify), unless its declaration sets its own: each family's minute is moved by 0-59 minutes, the same for a name on every worker, so that families do not all start at once (0 3 * * * runs between 03:00 and 03:59). A minute that is not one number is kept.",
    default: '0 3 * * *',
  },
  {
    key: 'SYNC_RECONCILE_MIN_RATIO',
    description:
      'Reconcile archives nothing when Odoo lists fewer than this share of the live BCs the copy holds.',
    default: '0.5',
  },
  {
    key: 'SYNC_VERIFY_CYCLE_DAYS',
    description:
      "Days in which the nightly verify, after each family's reconcile, compares every record of the copy with Odoo by content: one slice (odoo_id modulo this) a night.",
    default: '7',
  },
  {
    key: 'SYNC_JOB_LOCK_MS',
    description:
      "How long a job's lock lives without renewal: the jobs of a worker that died are taken over after it.",
    default: '30000',
  },
  {
    key: 'FEED_RETENTION_DAYS',
    description:
      "How long the change feed keeps a change (GET /api/changes, the stream, the subscriptions). A consumer or subscription further behind is told to resync (410, status expired): keep it longer than the longest outage a receiver should survive. The records' history is kept whatever this says.",
    default: '7',
  },
  {
    key: 'FEED_SUBSCRIPTIONS_FILE',
    description:
      'A YAML or JSON file of change feed subscriptions (docs/feed.md): each a name, a URL, a Standard Webhooks secret (whsec_…), the families and models it takes and where it starts (now, oldest or a position). Workers with the file create and update its subscriptions at start; one it no longer names is deleted when a file lists it under removed, or a day after no process declared it. Holds secrets: mount it as one.',
  },
  {
    key: 'FEED_DELIVERY_TIMEOUT_MS',
    description:
      'How long one delivery to a subscriber may take, connection to answer, before it is retried.',
    default: '10000',
  },
  {
    key: 'FEED_DELIVERY_BATCH_MAX',
    description:
      'Most changes one delivery carries when the subscriber is behind (one message, in order); caught up, a message carries one change.',
    default: '100',
  },
  {
    key: 'FEED_DELIVERY_BACKOFF_MAX_MS',
    description:
      'Longest wait between two attempts of a failed delivery (the first waits 1 s, each next one twice as long).',
    default: '300000',
  },
  {
    key: 'FEED_DELIVERY_GIVE_UP_HOURS',
    description:
      'How long a failed delivery is retried before it is a dead letter: its subscription then stops there (status failing) until replayed, so nothing after it arrives out of order.',
    default: '72',
  },
  {
    key: 'FEED_SECRET_KEY',
    description:
      "Secret (at least 32 characters) from which the key sealing the subscriptions' signing secrets in PostgreSQL (AES-256-GCM) is derived; the same for the API and every worker. Required to create a subscription (the API's, or FEED_SUBSCRIPTIONS_FILE's); a worker seals the secrets stored in the clear by an earlier version at start.",
    secret: true,
  },
  {
    key: 'FEED_SECRET_KEY_PREVIOUS',
    description:
      'While FEED_SECRET_KEY changes: the secret it replaces. A subscription\'s secret opens with either, and the workers seal every secret anew under FEED_SECRET_KEY at start; unset it after one worker started (docs/feed.md, "Secrets at rest").',
    secret: true,
  },
  {
    key: 'FEED_ALLOWED_HOSTS',
    description:
      'Comma-separated receivers deliveries may reach though their address is loopback, private, link-local, unique-local or another special range: host names (receiver.internal, *.corp.example) and addresses or CIDR ranges (10.20.0.0/16, fd00::/8). Every other receiver must resolve to a public address; the demo allows loopback.',
    default: '',
  },
  {
    key: 'TRYTON_RPC_URL',
    description: 'Tryton server base URL. Unset: the Tryton routes answer 503.',
  },
  { key: 'TRYTON_DATABASE', description: 'Tryton database name.' },
  { key: 'TRYTON_USER', description: 'Tryton login of the service account.' },
  { key: 'TRYTON_PASSWORD', description: 'Tryton password of the service account.', secret: true },
  { key: 'TRYTON_TIMEOUT_MS', description: 'Timeout of one Tryton call.', default: '10000' },
  {
    key: 'TRYTON_LOGIN_TIMEOUT_MS',
    description: 'Timeout of a Tryton login (trytond delays logins after failures).',
    default: '45000',
  },
  {
    key: 'TRYTON_RETRIES',
    description: 'Retries of a Tryton call after a transport error or timeout.',
    default: '3',
  },
  {
    key: 'TRYTON_SESSION_TTL_SECONDS',
    description: 'Age after which the client logs in again before the server expires the session.',
    default: '86400',
  },
  {
    key: 'TRYTON_MODELS',
    description:
      "Models whose read methods (search, search_read, search_count, read, fields_get) the gateway forwards, comma-separated, each optionally with its only readable fields: party.party,product.product:name|code. Empty: no model. res.*, ir.* and web.* only when named here (a warning at boot). A search on rec_name, and a relation compared with text (party.identifiers ilike …), run the model's own name search: forwarded only for a model whose field list names rec_name (party.identifier:code|rec_name).",
    default: '',
  },
  {
    key: 'TRYTON_ALLOWED_METHODS',
    description:
      'Other methods the gateway forwards; comma-separated patterns where * matches exactly one dotted segment (model.party.party.create). A wildcard never reaches res.*, ir.* or web.* models; no pattern reaches a method that reads fields or renders records outside the field checks (export_data, fields_view_get, on_change…, autocomplete and on_scan_code of Tryton 7.0, report.*, wizard.*). A pattern matching more than the read methods is warned about at boot.',
    default: DEFAULT_TRYTON_ALLOWED_METHODS,
  },
  {
    key: 'TRYTON_MAX_SEARCH_LIMIT',
    description:
      'Most records one proxied search returns (added when the caller sends no limit) and most ids one read names.',
    default: '1000',
  },
  {
    key: 'TRYTON_MAX_RESPONSE_BYTES',
    description:
      'Largest Tryton answer the client reads; past it the call fails (502 at the gateway).',
    default: '10485760',
  },
  {
    key: 'TRYTON_CACHE_TTL_SECONDS',
    description:
      'Cache lifetime of proxied read calls (0 disables the cache), at most TRYTON_CACHE_MAX_TTL_SECONDS.',
    default: '60',
  },
  {
    key: 'TRYTON_CACHE_MAX_BYTES',
    description: 'Answers larger than this are not cached; at most TRYTON_CACHE_MAX_TOTAL_BYTES.',
    default: '262144',
  },
  {
    key: 'TRYTON_CACHE_MAX_TTL_SECONDS',
    description:
      "Longest a cached Tryton answer is kept, whatever TRYTON_CACHE_TTL_SECONDS or Tryton's X-Tryton-Cache header (86400 for fields_get) asks.",
    default: '3600',
  },
  {
    key: 'TRYTON_CACHE_MAX_ENTRIES',
    description:
      'Most answers the Tryton cache holds in Redis, counted across API replicas; past it the soonest to expire go first. Callers choose the context, so each call may make a new entry.',
    default: '10000',
  },
  {
    key: 'TRYTON_CACHE_MAX_TOTAL_BYTES',
    description:
      'Most bytes of answers the Tryton cache holds in Redis, counted across API replicas; past it the soonest to expire go first.',
    default: '67108864',
  },
  {
    key: 'TRYTON_CACHE_ALLOW_NOEVICTION',
    description:
      "Whether the Tryton cache writes to a Redis whose maxmemory-policy is noeviction (or cannot be read), such as the queue's. Off: it caches nothing there and warns; a full noeviction Redis stops the queues.",
    default: 'false',
  },
  {
    key: 'API_KEYS',
    description:
      'Comma-separated name:role:sha256hex entries (role: reader, operator, admin). `npm run apikey` makes one.',
    secret: true,
  },
  { key: 'PORT', description: 'API listen port.', default: '3000' },
  { key: 'HOST', description: 'API listen address.', default: '0.0.0.0' },
  {
    key: 'WORKER_HTTP_PORT',
    description:
      "Worker's health and metrics port (/health/live, /health/ready, and /metrics for an operator key unless WORKER_METRICS_HOST), on HOST; 0 picks a free one.",
    default: '3001',
  },
  {
    key: 'WORKER_METRICS_HOST',
    description:
      "An address of its own for the worker's /metrics (one only Prometheus reaches, e.g. a pod's internal interface): served there on WORKER_METRICS_PORT with no key, and no longer on WORKER_HTTP_PORT. Unset: /metrics on WORKER_HTTP_PORT answers an operator key of API_KEYS (Bearer) only.",
  },
  {
    key: 'WORKER_METRICS_PORT',
    description: 'With WORKER_METRICS_HOST: the port of /metrics; 0 picks a free one.',
    default: '9464',
  },
  {
    key: 'CORS_ORIGINS',
    description: 'Comma-separated origins allowed by CORS; empty disables CORS.',
    default: '',
  },
  {
    key: 'HTTP_BODY_LIMIT_BYTES',
    description: 'Largest request body the API accepts.',
    default: '1048576',
  },
  {
    key: 'RATE_LIMIT_PER_MINUTE',
    description:
      "Requests per minute allowed per API key, counted in Redis across API replicas (before the route's own checks).",
    default: '600',
  },
  {
    key: 'RATE_LIMIT_ANONYMOUS_PER_MINUTE',
    description:
      'Requests per minute allowed per client address without a valid key (an IPv6 client by its /64 network): every refused key and unknown path counts here; only /health/live and /health/ready are exempt.',
    default: '120',
  },
  {
    key: 'TRUST_PROXY',
    description:
      'Whether X-Forwarded-For is believed for the client address: false, true, a number of proxy hops, or proxy addresses/CIDR ranges.',
    default: 'false',
  },
  {
    key: 'API_DOCS',
    description:
      'The OpenAPI document and page at /docs: public, protected (a reader key, Bearer or Basic) or off. The demo serves them public.',
    default: 'protected',
  },
  {
    key: 'API_STATEMENT_TIMEOUT_MS',
    description: "PostgreSQL statement timeout of the API's queries.",
    default: '5000',
  },
  {
    key: 'API_MAX_IN_FLIGHT_PER_KEY',
    description:
      "Requests of one API key an API process serves at once; past it, 429 with Retry-After. Below DATABASE_POOL_MAX, one key's slow requests never hold every connection.",
    default: '4',
  },
  {
    key: 'API_PAGE_MAX_BYTES',
    description:
      "Largest answer of a list page (and of a detail's child pages, together): a page stops short of it, with its nextCursor, and always holds one record at least.",
    default: '4194304',
  },
  {
    key: 'API_READERS_SEE_ARCHIVED',
    description:
      'Whether a reader key may ask for records gone from Odoo (includeArchived=true); without it, only operator and admin keys may.',
    default: 'false',
  },
  {
    key: 'API_RECONCILE_COOLDOWN_SECONDS',
    description:
      'After a reconcile or a verify of a family ran (whoever asked for it), how long POST /api/sync/reconcile or /api/sync/verify answers 409 for that family, as it does while one is queued or running; 0: only then.',
    default: '900',
  },
  {
    key: 'SHUTDOWN_TIMEOUT_MS',
    description: 'How long a process waits for work in flight when asked to stop.',
    default: '15000',
  },
  {
    key: 'LOG_LEVEL',
    description: 'fatal, error, warn, info, debug, trace or silent.',
    default: 'info',
  },
  {
    key: 'LOG_PRETTY',
    description: 'Human-readable logs; defaults to true on a terminal, JSON lines otherwise.',
  },
  {
    key: 'LOG_FORMAT',
    description:
      'pretty (one readable line per event) or json (one JSON object per line, for log shippers). Defaults to LOG_PRETTY, else pretty on a terminal and json otherwise.',
  },
];
