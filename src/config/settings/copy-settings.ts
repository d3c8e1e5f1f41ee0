/**
 * What the copy reads and tells: the Odoo it reads (docs/odoo.md), the copy itself (docs/sync.md)
 * and the change feed (docs/feed.md). Each key once: its parser, its default and its
 * documentation (env-setting.ts).
 */
import { z } from 'zod';
import { CRON_PATTERN, CRON_PATTERN_MESSAGE } from '../declared-schedule.js';
import { defaulted, setting } from '../env-setting.js';
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
  secretKeyText,
  wholeNumber,
} from '../env-values.js';

// The Odoo the copy reads: where, as whom, over which transport, how fast (docs/odoo.md).
/** Odoo's transports; `auto` chooses by the server's version (see the Odoo client). */
export const ODOO_PROTOCOLS = ['auto', 'xmlrpc', 'jsonrpc', 'json2'] as const;

export const ODOO_SETTINGS = {
  ODOO_URL: setting(optionalUrl(['http:', 'https:']), {
    description:
      "The default source's Odoo base URL, e.g. http://odoo:8069. Required, except for the demo (bundled sandbox) and a deployment whose SYNC_SOURCES_FILE names every source it copies.",
  }),
  ODOO_DATABASE: setting(optionalText(), { description: 'Odoo database name.' }),
  ODOO_USERNAME: setting(optionalText(), { description: 'Odoo login of the sync user.' }),
  ODOO_PASSWORD: setting(optionalText(), {
    description:
      "Odoo password of the sync user (or an API key). Not needed with ODOO_API_KEY, which is used in its place. Read by the processes that call the default source's Odoo alone: the workers and the sync CLI that copy it (SYNC_SOURCES), and migrate; never by the API, even when its environment holds it.",
    secret: true,
  }),
  ODOO_PROTOCOL: defaulted(oneOf(ODOO_PROTOCOLS), 'auto', {
    description:
      "Odoo transport: auto (read the server's version once per process: json2 on Odoo 19+ with ODOO_API_KEY, jsonrpc otherwise), xmlrpc, jsonrpc or json2 (Odoo 19+).",
  }),
  ODOO_READ_REPLICA: defaulted(booleanText(), 'true', {
    description:
      "Whether Odoo may serve JSON-2's reads from a read replica that lags (db_replica_host, Odoo 18+; a client cannot tell). True: the sync proves a record current, and lets a verify or a reconcile overwrite a newer stamp, only within what its reads have shown (docs/odoo.md); a quiet Odoo's latest changes are then read again by each run. False only when you know Odoo has no replica: a lag longer than a minute could then lose a change. No effect on XML-RPC and JSON-RPC, which Odoo serves from its primary.",
  }),
  ODOO_API_KEY: setting(optionalText(), {
    description:
      "API key of the sync user (Odoo: Preferences → Account Security → New API Key). JSON-2's bearer on Odoo 19+, and the password of XML-RPC and JSON-RPC calls (Odoo takes a key wherever it takes the password). Read as ODOO_PASSWORD is: never by the API.",
    secret: true,
  }),
  ODOO_API_KEY_EXPIRES_AT: setting(z.preprocess(blankToUndefined, instant().optional()), {
    description:
      "When ODOO_API_KEY lapses (ISO date or date-time, UTC), as Odoo showed it at creation. Unset: erp-bridge reads it from Odoo (the user's keys), or knows it from its own renewal.",
  }),
  ODOO_API_KEY_WARN_DAYS: defaulted(wholeNumber('a whole number of days', 0, 365), '14', {
    description:
      'Days before the API key lapses from which the worker logs a warning, status and GET /api/sync/state say so, and erp_bridge_odoo_api_key_expiring is 1.',
  }),
  ODOO_API_KEY_ROTATE: defaulted(booleanText(), 'false', {
    description:
      "Whether a worker renews the API key over Odoo's API (res.users.apikeys.generate: Odoo after 19.0.0, with programmatic keys enabled for the user; where Odoo refuses, it says why once a day) before it lapses, keeps the new one encrypted in PostgreSQL for every process, and revokes the old one once none uses it. Needs ODOO_API_KEY and ODOO_API_KEY_SECRET, and each source of SYNC_SOURCES_FILE its apiKey and its own apiKeySecret (else ODOO_API_KEY_SECRET).",
  }),
  ODOO_API_KEY_RENEW_DAYS: defaulted(wholeNumber('a whole number of days', 1, 365), '30', {
    description: 'With ODOO_API_KEY_ROTATE: renew the key when fewer days than this remain.',
  }),
  ODOO_API_KEY_LIFETIME_DAYS: defaulted(wholeNumber('a whole number of days', 2, 3_650), '89', {
    description:
      "With ODOO_API_KEY_ROTATE: the lifetime asked for a renewed key; at most what Odoo allows the user's groups (90 days for internal users: keep a day below, Odoo checks in its server's local time).",
  }),
  ODOO_API_KEY_SECRET: setting(secretKeyText(), {
    description:
      'Secret (at least 32 characters) from which the key encrypting the default source\'s renewed API key in PostgreSQL (AES-256-GCM) is derived, and that of a source of SYNC_SOURCES_FILE without an apiKeySecret of its own (docs/sources.md, "Renewed keys, per source"); the same for every process that calls that Odoo (its workers, the sync CLI, migrate; never the API). Required with ODOO_API_KEY_ROTATE where the default source is copied.',
    secret: true,
  }),
  ODOO_API_KEY_SECRET_PREVIOUS: setting(secretKeyText('ODOO_API_KEY_SECRET'), {
    description:
      'While ODOO_API_KEY_SECRET changes: the secret it replaces. The stored key opens with either, and a worker\'s first check (at its start) seals it under ODOO_API_KEY_SECRET; unset it once every worker restarted with the new one (docs/odoo.md, "Changing ODOO_API_KEY_SECRET").',
    secret: true,
  }),
  ODOO_TIMEOUT_MS: defaulted(wholeNumber('a whole number of milliseconds', 100, 600_000), '30000', {
    description: 'Timeout of one Odoo call.',
  }),
  ODOO_RETRIES: defaulted(wholeNumber('a whole number of retries', 0, 10), '3', {
    description: 'Retries of a failed Odoo call when the failure is transient.',
  }),
  ODOO_MAX_CONCURRENT_CALLS: defaulted(wholeNumber('a whole number of calls', 0, 1_000), '4', {
    description:
      'Odoo calls in flight at once across every process that shares REDIS_URL (workers, the sync CLI, the demo, migrate); 0: no bound. Each call holds one of Odoo\'s HTTP workers: 4 leaves one to the users of the smallest Odoo deployed as Odoo advises (2 CPUs, 5 workers), and lets one worker\'s SYNC_CONCURRENCY pages run. A slot of a process that died is free after ODOO_TIMEOUT_MS plus 5 s (docs/odoo.md, "Call budget").',
  }),
  ODOO_ADAPTIVE_CONCURRENCY: defaulted(booleanText(), 'false', {
    description:
      'Whether each process measures how Odoo serves the calls it sends together, and sends them one at a time when Odoo serves them one at a time (an Odoo with workers = 0, its default: threads of one process), up to ODOO_MAX_CONCURRENT_CALLS otherwise. Each measure is kept for the fleet 10 minutes, and a process that starts meanwhile follows it without measuring; measured again after that (docs/odoo.md, "Call budget").',
  }),
  ODOO_TREE_READS: defaulted(booleanText(), 'true', {
    description:
      'Whether a page reads its roots and the children their one2many lists in one call from Odoo 17 on (web_read, one transaction): half the calls of two reads, and less of Odoo\'s time. false reads them in two calls, as on an older Odoo (docs/odoo.md, "Roots and their children in one call").',
  }),
  ODOO_MAX_CALLS_PER_SECOND: defaulted(wholeNumber('a whole number of calls', 0, 10_000), '0', {
    description:
      'Odoo calls within any one second across every process that shares REDIS_URL; 0: no bound. A call counts from when it is sent until a second after its answer, so the bound holds as Odoo sees the calls arrive; it costs a full copy time (docs/odoo.md, "Call budget").',
  }),
  ODOO_BUDGET_MAX_WAIT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 1_000, 3_600_000),
    '600000',
    {
      description:
        'The longest an Odoo call waits for its turn in the call budget (ODOO_MAX_* keys, a pause Odoo asked for); past it the call fails with ODOO_BUDGET_TIMEOUT and its job is retried. Above the longest pause (5 minutes).',
    },
  ),
  ODOO_PAGE_SIZE: defaulted(wholeNumber('a whole number of records', 1, 10_000), '1000', {
    description:
      'Root records a page reads at most (a page job reads them with their children and writes them); pages are sized by ODOO_PAGE_MAX_BYTES below this.',
  }),
  ODOO_PAGE_MAX_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 16_384, 268_435_456),
    '2097152',
    {
      description:
        "A page's records as JSON, children included, at most: pages hold as many roots as fit, from the size of the records the copy holds (or of a few read first, in a first copy). Each Odoo call costs Odoo tens of milliseconds whatever its size, so narrow records are read by the thousand; a worker holds SYNC_CONCURRENCY pages at once, and their records are most of its memory (docs/performance.md).",
    },
  ),
  ODOO_VALUE_MAX_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 1_048_576, 1_073_741_824),
    '268435456',
    {
      description:
        'The largest value the copy takes from Odoo, as the answer that carries it alone (escapes included): a record holding a larger one is not copied, and fails alone, its field and size named (sync_failure, the job, the log); no larger answer is ever read. A worker holds one such answer at a time (docs/models.md, "Large values"): raising it raises the worker\'s peak as much. Past 255 MiB it gains nothing: a record\'s large values together are bounded so (SYNC_RECORD_TOO_LARGE).',
    },
  ),
  ODOO_CONTEXT: setting(z.preprocess(blankToUndefined, odooContext().optional()), {
    description:
      'Extra Odoo context for every read, as JSON (e.g. {"lang":"fr_FR","tz":"Africa/Casablanca"}). Default: the sync user\'s own lang and tz; active_test is always false.',
  }),
  ODOO_WEBHOOK_TOKENS: defaulted(list(), '', {
    description:
      "SHA-256 (hex) of the tokens Odoo's webhook URLs carry (POST /hooks/odoo/<token>), comma-separated: several during a rotation. Empty: the webhook route answers 404. `npm run apikey -- --webhook` makes one.",
    secret: true,
  }),
  ODOO_WEBHOOK_DEBOUNCE_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 0, 60_000),
    '500',
    { description: 'Webhook events for one BC within this window collapse into one read of Odoo.' },
  ),
  ODOO_WEBHOOK_RATE_LIMIT_PER_MINUTE: defaulted(
    wholeNumber('a whole number of requests', 1, 1_000_000),
    '6000',
    {
      description:
        "Webhook requests per minute accepted with a valid token, for each source: one source's tokens never use another's.",
    },
  ),
  ODOO_WEBHOOK_INBOX_MAX_EVENTS: defaulted(
    wholeNumber('a whole number of events', 1, 10_000_000),
    '100000',
    {
      description:
        "Webhook events of one source the inbox keeps at most while no read has shown them; past it the API answers 429 WEBHOOK_INBOX_FULL and the source's next polling run reads the change.",
    },
  ),
};

// The copy: which families, how often, how much at once (docs/sync.md).
export const SYNC_SETTINGS = {
  SYNC_FAMILIES: setting(optionalText(), {
    description:
      'Record families copied, comma-separated: bcs (dimagaz.bc with its lines), partners (res.partner), moves (account.move with its lines), and the families of SYNC_FAMILIES_FILE. Each has its own lease, schedule and state. Unset: bcs, the demo bcs and partners, and with SYNC_FAMILIES_FILE every family it declares.',
    // Applied by the configuration itself: it depends on the mode and on SYNC_FAMILIES_FILE.
    shownDefault: 'bcs',
  }),
  SYNC_FAMILIES_FILE: setting(optionalText(), {
    description:
      "A YAML or JSON file declaring more families to copy, any Odoo model (docs/models.md); `migrate` creates their tables from Odoo's fields_get.",
  }),
  SYNC_SOURCES_FILE: setting(optionalText(), {
    description:
      "A YAML or JSON file declaring more Odoo databases to copy beside ODOO_*'s (the source named default, copied into schema public), each into a PostgreSQL schema of its own, with its families, call budget, schedule and webhook tokens (docs/sources.md). Its credentials are { env: VARIABLE } or { file: PATH } references, never the secrets themselves: a worker or the sync CLI reads those of the sources it copies alone, migrate every one's, the API none.",
  }),
  SYNC_SOURCES: setting(optionalText(), {
    description:
      'Sources copied by this process, comma-separated: default (the Odoo of ODOO_*) and the names of SYNC_SOURCES_FILE. Unset: every source.',
  }),
  SYNC_EVERY: defaulted(duration(), '5m', {
    description:
      'Interval of the incremental sync of each family (30s, 5m, 1h), unless its declaration sets its own.',
  }),
  SYNC_OVERLAP_SECONDS: defaulted(
    wholeNumber('a whole number of seconds', 0, 86_400).refine((seconds) => seconds >= 60, {
      error:
        "must be at least 60: Odoo stamps a change with the start of its transaction, so a change committed late carries an older stamp; the overlap must outlast Odoo's longest transaction",
    }),
    '600',
    { description: 'How far before the watermark each run re-reads.' },
  ),
  SYNC_LEASE_SECONDS: defaulted(wholeNumber('a whole number of seconds', 10, 86_400), '120', {
    description: 'Lifetime of the sync lease; a heartbeat extends it while a run is alive.',
  }),
  SYNC_CONCURRENCY: defaulted(wholeNumber('a whole number of jobs', 1, 64), '3', {
    description:
      'Page jobs one worker process runs at once, and as many BC jobs besides. Each page in flight holds its records in memory (up to ODOO_PAGE_MAX_BYTES of them as JSON, several times that as objects): 3 keeps a worker under 250 MB with 2 MiB pages and is as fast as 4 on two cores (docs/performance.md).',
  }),
  SYNC_JOB_ATTEMPTS: defaulted(wholeNumber('a whole number of attempts', 1, 50), '5', {
    description: 'Attempts of a sync job before it fails for good.',
  }),
  SYNC_RUN_PAGES_IN_FLIGHT: defaulted(wholeNumber('a whole number of pages', 1, 10_000), '100', {
    description:
      "Pages a run has queued at once: it queues them in waves of this many, the next once these have settled. Bounds what a large run (a first copy) keeps in Redis and how many of its pages another family's run can wait behind (a small run's pages go first anyway).",
  }),
  SYNC_RECONCILE_CRON: defaulted(
    z.string().trim().regex(CRON_PATTERN, { error: CRON_PATTERN_MESSAGE }),
    '0 3 * * *',
    {
      description:
        "Cron pattern (UTC) of each family's reconcile (then its verify), unless its declaration sets its own: each family's minute is moved by 0-59 minutes, the same for a name on every worker, so that families do not all start at once (0 3 * * * runs between 03:00 and 03:59). A minute that is not one number is kept.",
    },
  ),
  SYNC_RECONCILE_MIN_RATIO: defaulted(ratio(), '0.5', {
    description:
      'Reconcile archives nothing when Odoo lists fewer than this share of the live BCs the copy holds.',
  }),
  SYNC_VERIFY_CYCLE_DAYS: defaulted(wholeNumber('a whole number of days', 1, 365), '7', {
    description:
      "Days in which the nightly verify, after each family's reconcile, compares every record of the copy with Odoo by content: one slice (odoo_id modulo this) a night.",
  }),
  SYNC_JOB_LOCK_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 1_000, 600_000),
    '30000',
    {
      description:
        "How long a job's lock lives without renewal: the jobs of a worker that died are taken over after it.",
    },
  ),
};

// The change feed: retention, subscriptions, deliveries (docs/feed.md).
export const FEED_SETTINGS = {
  FEED_RETENTION_DAYS: defaulted(wholeNumber('a whole number of days', 1, 3_650), '7', {
    description:
      "How long the change feed keeps a change at least (GET /api/changes, the stream, the subscriptions): it is dropped with its UTC day's partition once that day ended this many days ago, so up to a day longer. A consumer or subscription further behind is told to resync (410, status expired): keep it longer than the longest outage a receiver should survive. The records' history is kept whatever this says.",
  }),
  FEED_SUBSCRIPTIONS_FILE: setting(optionalText(), {
    description:
      'A YAML or JSON file of change feed subscriptions (docs/feed.md): each a name, a URL, a Standard Webhooks secret (whsec_…), the families and models it takes and where it starts (now, oldest or a position). Workers with the file create and update its subscriptions at start; one it no longer names is deleted when a file lists it under removed, or a day after no process declared it. Holds secrets: mount it as one.',
  }),
  FEED_DELIVERY_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 100, 120_000),
    '10000',
    {
      description:
        'How long one delivery to a subscriber may take, connection to answer, before it is retried.',
    },
  ),
  FEED_DELIVERY_BATCH_MAX: defaulted(wholeNumber('a whole number of changes', 1, 1_000), '100', {
    description:
      'Most changes one delivery carries when the subscriber is behind (one message, in order); caught up, a message carries one change.',
  }),
  FEED_DELIVERY_BACKOFF_MAX_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 1_000, 86_400_000),
    '300000',
    {
      description:
        'Longest wait between two attempts of a failed delivery (the first waits 1 s, each next one twice as long).',
    },
  ),
  FEED_DELIVERY_GIVE_UP_HOURS: defaulted(wholeNumber('a whole number of hours', 1, 2_160), '72', {
    description:
      'How long a failed delivery is retried before it is a dead letter: its subscription then stops there (status failing) until replayed, so nothing after it arrives out of order.',
  }),
  FEED_SECRET_KEY: setting(secretKeyText(), {
    description:
      "Secret (at least 32 characters) from which the key sealing the subscriptions' signing secrets in PostgreSQL (AES-256-GCM) is derived; the same for the API and every worker. Required to create a subscription (the API's, or FEED_SUBSCRIPTIONS_FILE's); a worker seals the secrets stored in the clear by an earlier version at start.",
    secret: true,
  }),
  FEED_SECRET_KEY_PREVIOUS: setting(secretKeyText('FEED_SECRET_KEY'), {
    description:
      'While FEED_SECRET_KEY changes: the secret it replaces. A subscription\'s secret opens with either, and the workers seal every secret anew under FEED_SECRET_KEY at start; unset it after one worker started (docs/feed.md, "Secrets at rest").',
    secret: true,
  }),
  FEED_ALLOWED_HOSTS: defaulted(list(), '', {
    description:
      'Comma-separated receivers deliveries may reach though their address is loopback, private, link-local, unique-local or another special range: host names (receiver.internal, *.corp.example) and addresses or CIDR ranges (10.20.0.0/16, fd00::/8). Every other receiver must resolve to a public address; the demo allows loopback.',
  }),
};
