/**
 * The typed, frozen configuration every composition root builds once at boot.
 *
 * `loadConfig` checks every key at once and throws a `ConfigError` naming each bad key with the
 * reason, never the value (a URL may carry a password). Nothing outside `src/config` reads
 * `process.env`.
 */
import type { TrytonClientSettings } from '../clients/tryton/tryton-client.js';
import type { ConfiguredFamilySpec } from '../families/configured/spec.js';
import { familyModels, type RecordFamily } from '../families/family.js';
import type { FamiliesConfig } from '../families/load-families.js';
import { readFamiliesFile } from './families-file.js';
import { readSubscriptionsFile } from './feed-subscriptions-file.js';
import type { DeclaredSubscriptions } from '../feed/subscriptions.js';
import type { SyncSettings } from '../sync/sync-deps.js';
import { parseAllowedHosts, type ReceiverAddressRules } from '../feed/receiver-address.js';
import { feedConfigFrom, type FeedConfig } from './feed-config.js';
import { AppError } from '../lib/errors.js';
import { parseApiKeys, type ApiKeyEntry } from './api-keys.js';
import { checkRedisTopology, redisConfigFrom, type RedisConfig } from './redis-config.js';
import {
  checkQueueBackend,
  queueConfigFrom,
  queuesInPostgres,
  type QueueConfig,
} from './queue-config.js';
import { envSchema, type Env } from './env-schema.js';
import {
  checkApiKeyLifecycle,
  odooConfigFrom,
  odooLinkConfigFrom,
  type OdooConfig,
  type OdooLinkConfig,
} from './odoo-config.js';
import { badMethodPatterns, parseExposedModels, type ExposedModel } from './tryton-exposure.js';
import { webhookTokenProblems } from './webhook-tokens.js';
import { DEFAULT_SOURCE, unnamedSources } from '../sources/family-key.js';
import { readSourcesFile } from './sources-file.js';
import { selectSources, sourcesFrom, type DeclaredSource, type SourceConfig } from './sources.js';

/** What the demo allows its receivers: loopback. */
const DEMO_RECEIVERS = ['127.0.0.0/8', '::1'];

export type ConfigMode = 'production' | 'demo';

/** What the process does decides what it must be given: the API never needs Odoo's password. */
export type ConfigRole = 'api' | 'worker' | 'cli' | 'migrate' | 'demo';

/** The Tryton client's settings, and the gateway's. */
export interface TrytonConfig extends TrytonClientSettings {
  /** TRYTON_MODELS: the models the gateway exposes, with their fields when restricted. */
  readonly models: readonly ExposedModel[];
  /** TRYTON_ALLOWED_METHODS: other methods, by pattern (`*` is one segment). */
  readonly allowedMethods: readonly string[];
  readonly maxSearchLimit: number;
  /** TRYTON_CACHE_TTL_SECONDS, already capped by `cacheMaxTtlSeconds`. */
  readonly cacheTtlSeconds: number;
  /** The cache's bounds: no entry outlives the cap; the budget holds across replicas. */
  readonly cacheMaxTtlSeconds: number;
  readonly cacheMaxEntries: number;
  readonly cacheMaxTotalBytes: number;
  /** Whether the cache writes to a noeviction Redis (the queue's); off by default. */
  readonly cacheAllowNoEviction: boolean;
}

export interface Config {
  readonly mode: ConfigMode;
  readonly database: {
    readonly url?: string;
    /** DATABASE_READ_URL: the streaming replica the API's reads use. */
    readonly readUrl?: string;
    readonly poolMax: number;
    readonly preparedStatements: boolean;
    /** Bounds on what one session may hold (see createDb); the migrator waits longer for locks. */
    readonly sessionLimits: {
      readonly lockTimeoutMs: number;
      readonly idleInTransactionTimeoutMs: number;
    };
    readonly pgliteDir: string;
    /** DATABASE_BOOT_WAIT_MS: how long a starting worker or migrate waits for PostgreSQL. */
    readonly bootWaitMs: number;
  };
  /** QUEUE_BACKEND: where the queues are. */
  readonly queues: QueueConfig;
  readonly redis: RedisConfig;
  /**
   * The default source's Odoo, in a process that calls it: undefined in demo mode, where the
   * bundled sandbox stands in, in the API (it calls no Odoo, and reads no secret of it even when
   * its environment holds one), and in a worker or the sync CLI that does not copy it
   * (SYNC_SOURCES).
   */
  readonly odoo?: OdooConfig;
  /**
   * The Odoo link as the API's status shows it: set whenever ODOO_URL, _DATABASE, _USERNAME are;
   * without any secret (the key, or what seals it: the workers write what it shows).
   */
  readonly odooLink?: OdooLinkConfig;
  /**
   * The Odoo databases copied (docs/sources.md): `default` (ODOO_*'s, `odoo`) first when this
   * process reads its secret; each source of the file with its credentials when it copies it,
   * with none otherwise.
   */
  readonly sources: readonly SourceConfig[];
  /**
   * The sync's settings: those the sync domain reads are declared once, in SyncSettings
   * (src/sync/sync-deps.ts); those of the jobs here.
   */
  readonly sync: Required<
    Pick<SyncSettings, 'overlapSeconds' | 'leaseSeconds' | 'reconcileMinRatio' | 'verifyCycleDays'>
  > & {
    readonly families: FamiliesConfig;
    /** The sources this process copies, by name (SYNC_SOURCES, else every one). */
    readonly sources: readonly string[];
    readonly everyMs: number;
    /** Jobs of each kind a worker takes at once (SYNC_CONCURRENCY); runs and reconciles 2. */
    readonly concurrency: number;
    /** Tries of a job that fails (SYNC_JOB_ATTEMPTS). */
    readonly jobAttempts: number;
    /** Pages a run has queued at once, in waves (SYNC_RUN_PAGES_IN_FLIGHT). */
    readonly runPagesInFlight: number;
    readonly reconcileCron: string;
    /** How long a job's lock lives unrenewed: a dead worker's jobs are taken over after it. */
    readonly jobLockMs: number;
  };
  /** The change feed (docs/feed.md): its retention, the subscriptions of the file, deliveries. */
  readonly feed: FeedConfig;
  /**
   * Odoo's webhooks (automation rules): the tokens' hashes, the debounce window, and per source a
   * rate limit and a bound on the events kept.
   */
  readonly webhooks: {
    readonly tokenSha256: readonly string[];
    readonly debounceMs: number;
    readonly rateLimitPerMinute: number;
    readonly inboxMaxEvents: number;
  };
  /** Undefined when Tryton is not configured: the gateway routes then answer 503. */
  readonly tryton?: TrytonConfig;
  readonly http: {
    readonly port: number;
    readonly host: string;
    /** The worker's own port: health probes and Prometheus metrics. */
    readonly workerPort: number;
    /**
     * An address of its own for the worker's metrics (WORKER_METRICS_HOST), served there with no
     * key; without one, the worker's port serves them to an operator key.
     */
    readonly workerMetrics: { readonly host: string; readonly port: number } | undefined;
    /** Whether a reader key may ask for records gone from Odoo (else operators only). */
    readonly readersSeeArchived: boolean;
    readonly corsOrigins: readonly string[];
    readonly bodyLimitBytes: number;
    readonly rateLimitPerMinute: number;
    readonly rateLimitAnonymousPerMinute: number;
    readonly trustProxy: boolean | number | readonly string[];
    readonly docs: 'public' | 'protected' | 'off';
    readonly statementTimeoutMs: number;
    /** Requests of one API key a process serves at once. */
    readonly maxInFlightPerKey: number;
    /** Largest answer of a list page. */
    readonly pageMaxBytes: number;
    /** How long after a family's reconcile or verify ran another is refused. */
    readonly reconcileCooldownSeconds: number;
    readonly shutdownTimeoutMs: number;
  };
  readonly apiKeys: readonly ApiKeyEntry[];
  readonly log: { readonly level: string; readonly pretty: boolean };
}

export class ConfigError extends AppError {
  readonly problems: readonly { key: string; message: string }[];

  constructor(problems: { key: string; message: string }[]) {
    super(
      'CONFIG_INVALID',
      `Invalid configuration (${problems.length} ${problems.length === 1 ? 'key' : 'keys'}):\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join('\n'),
    );
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  mode: ConfigMode;
  role: ConfigRole;
  /**
   * The families declared in code (the families' registry), handed by the composition root:
   * SYNC_FAMILIES may name them, and the declaration file may take none of their names, models
   * or tables that are copied.
   */
  codeFamilies: readonly RecordFamily[];
  /** Whether stdout is a terminal; decides pretty logs when LOG_PRETTY is unset. */
  isTty?: boolean;
}

const ODOO_KEYS = ['ODOO_URL', 'ODOO_DATABASE', 'ODOO_USERNAME'] as const;
/** Either is the sync user's secret: an API key takes a password's place. */
const ODOO_SECRET_KEYS = ['ODOO_PASSWORD', 'ODOO_API_KEY'] as const;
const TRYTON_KEYS = [
  'TRYTON_RPC_URL',
  'TRYTON_DATABASE',
  'TRYTON_USER',
  'TRYTON_PASSWORD',
] as const;

export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  options: LoadConfigOptions,
): Config {
  const parsed = envSchema.safeParse(env);
  const problems: { key: string; message: string }[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({ key: String(issue.path[0] ?? '(env)'), message: issue.message });
    }
  }
  const failed = new Set(problems.map((p) => p.key));
  const missing = (key: keyof Env) => {
    const reported = failed.has(key) || problems.some((p) => p.key === key);
    if (!reported && (env[key] === undefined || env[key]?.trim() === '')) {
      problems.push({ key, message: 'is required' });
    }
  };
  // The API calls no Odoo: it names the link (for its status), never reads its secrets.
  const callsOdoo = options.role !== 'api';
  const readsSecretsOf = secretsReader(env, options.role);
  const requireOdoo = () => {
    for (const key of ODOO_KEYS) missing(key);
    if (readsSecretsOf(DEFAULT_SOURCE) && !ODOO_SECRET_KEYS.some((key) => env[key]?.trim()))
      missing('ODOO_PASSWORD');
  };

  if (options.mode === 'production') {
    missing('DATABASE_URL');
    if (options.role !== 'migrate' && !queuesInPostgres(env)) missing('REDIS_URL');
    // migrate creates the configured families' tables from Odoo's own schema. A deployment copies
    // the default source (ODOO_*) or the sources of its file, or both (docs/sources.md).
    if (
      (options.role === 'worker' ||
        options.role === 'cli' ||
        (options.role === 'migrate' && env.SYNC_FAMILIES_FILE?.trim())) &&
      !env.SYNC_SOURCES_FILE?.trim()
    )
      requireOdoo();
    if (options.role === 'api') missing('API_KEYS');
  }
  if ([...ODOO_KEYS, ...ODOO_SECRET_KEYS].some((key) => env[key])) {
    // Odoo is all or nothing: a half-configured Odoo is a mistake, not a reason to use the sandbox.
    requireOdoo();
  }
  const parsedEnv = parsed.success ? parsed.data : undefined;
  checkApiKeyLifecycle(env, parsedEnv, problems, {
    readsKey: readsSecretsOf(DEFAULT_SOURCE),
    renews: callsOdoo,
  });
  if (TRYTON_KEYS.some((key) => env[key])) {
    for (const key of TRYTON_KEYS) missing(key);
  }

  let apiKeys: ApiKeyEntry[] = [];
  if (env.API_KEYS && !failed.has('API_KEYS')) {
    const { entries, problems: keyProblems } = parseApiKeys(env.API_KEYS);
    apiKeys = entries;
    for (const message of keyProblems) problems.push({ key: 'API_KEYS', message });
  }

  const items = (key: string) =>
    (env[key] ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  const families = parseFamilies(env, items('SYNC_FAMILIES'), problems, options);
  const declaredSources = readSourcesFile(
    env,
    parsedEnv,
    options.codeFamilies,
    families,
    problems,
    readsSecretsOf,
  );
  const selectedSources = selectSources(env, parsedEnv, declaredSources, problems);
  // A key limited to a source no one declared would read nothing: a typo, said at boot.
  const sourceNames = [DEFAULT_SOURCE, ...(declaredSources ?? []).map((source) => source.name)];
  for (const entry of apiKeys)
    for (const source of (entry.sources ?? []).filter((name) => !sourceNames.includes(name)))
      problems.push({
        key: 'API_KEYS',
        message: `key "${entry.name}" names the source "${source}", which is not one (sources: ${sourceNames.join(', ')})`,
      });
  const subscriptionsFile = env.FEED_SUBSCRIPTIONS_FILE?.trim();
  const subscriptions = subscriptionsFile
    ? readSubscriptionsFile(subscriptionsFile, families.copied, sourceNames)
    : { subscriptions: [], removed: [], problems: [] };
  for (const message of subscriptions.problems)
    problems.push({ key: 'FEED_SUBSCRIPTIONS_FILE', message });
  // The demo's receiver listens on loopback, as a developer's own would.
  const allowedHosts = parseAllowedHosts([
    ...items('FEED_ALLOWED_HOSTS'),
    ...(options.mode === 'demo' ? DEMO_RECEIVERS : []),
  ]);
  for (const message of allowedHosts.problems)
    problems.push({ key: 'FEED_ALLOWED_HOSTS', message });
  if (
    subscriptions.subscriptions.length > 0 &&
    !env.FEED_SECRET_KEY?.trim() &&
    !failed.has('FEED_SECRET_KEY')
  )
    problems.push({
      key: 'FEED_SECRET_KEY',
      message:
        "is required with FEED_SUBSCRIPTIONS_FILE's subscriptions: their signing secrets are sealed at rest (e.g. openssl rand -base64 32)",
    });
  if (
    env.LOG_FORMAT?.trim() &&
    env.LOG_PRETTY?.trim() &&
    !failed.has('LOG_FORMAT') &&
    !failed.has('LOG_PRETTY') &&
    (env.LOG_FORMAT.trim() === 'pretty') !== (env.LOG_PRETTY.trim() === 'true')
  )
    problems.push({
      key: 'LOG_FORMAT',
      message: 'says otherwise than LOG_PRETTY: set one of them',
    });
  const exposure = parseExposedModels(items('TRYTON_MODELS'));
  for (const message of exposure.problems) problems.push({ key: 'TRYTON_MODELS', message });
  for (const message of badMethodPatterns(items('TRYTON_ALLOWED_METHODS')))
    problems.push({ key: 'TRYTON_ALLOWED_METHODS', message });
  // Checked whenever both keys are readable, so it is named with the other bad keys.
  const answerBytes = envSchema.shape.TRYTON_CACHE_MAX_BYTES.safeParse(env.TRYTON_CACHE_MAX_BYTES);
  const totalBytes = envSchema.shape.TRYTON_CACHE_MAX_TOTAL_BYTES.safeParse(
    env.TRYTON_CACHE_MAX_TOTAL_BYTES,
  );
  if (answerBytes.success && totalBytes.success && answerBytes.data > totalBytes.data)
    problems.push({
      key: 'TRYTON_CACHE_MAX_BYTES',
      message: 'must not be over TRYTON_CACHE_MAX_TOTAL_BYTES: such an answer could never be kept',
    });
  checkRedisTopology(env, problems);
  checkQueueBackend(env, problems);
  for (const message of webhookTokenProblems(items('ODOO_WEBHOOK_TOKENS')))
    problems.push({ key: 'ODOO_WEBHOOK_TOKENS', message });

  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return freeze(
    build(
      parsed.data,
      {
        apiKeys,
        models: exposure.models,
        families,
        sources: { declared: declaredSources ?? [], selected: selectedSources },
        subscriptions: {
          subscriptions: subscriptions.subscriptions,
          removed: subscriptions.removed,
          unnamedSources: unnamedSources(sourceNames),
        },
        allowedHosts: allowedHosts.rules,
        readsDefaultSecret: readsSecretsOf(DEFAULT_SOURCE),
      },
      options,
    ),
  );
}

/**
 * Whose Odoo secrets a process of `role` reads (docs/sources.md, "Credentials by reference"):
 * the API none, even those its environment holds (it calls no Odoo); a worker and the sync CLI
 * those of the sources they copy (SYNC_SOURCES, every one when unset), so that a worker of one
 * source starts with that source's credentials alone; migrate and the demo every one.
 */
function secretsReader(
  env: Readonly<Record<string, string | undefined>>,
  role: ConfigRole,
): (source: string) => boolean {
  if (role === 'api') return () => false;
  if (role !== 'worker' && role !== 'cli') return () => true;
  const copied = (env.SYNC_SOURCES ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  return (source) => copied.length === 0 || copied.includes(source);
}

/**
 * The families copied: SYNC_FAMILIES, else every family of SYNC_FAMILIES_FILE, else the BC
 * family (and the partners beside it in the demo). A file's families may not take a name or a
 * table of a family declared in code.
 */
function parseFamilies(
  env: NodeJS.ProcessEnv,
  listed: readonly string[],
  problems: { key: string; message: string }[],
  { mode, codeFamilies }: LoadConfigOptions,
): FamiliesConfig {
  const path = env.SYNC_FAMILIES_FILE?.trim();
  let configured: ConfiguredFamilySpec[] = [];
  if (path) {
    const read = readFamiliesFile(path, {
      families: codeFamilies.map((family) => family.name),
      tables: [],
    });
    configured = read.families;
    for (const message of read.problems) problems.push({ key: 'SYNC_FAMILIES_FILE', message });
  }
  const byDefault = path
    ? configured.map((family) => family.name)
    : mode === 'demo'
      ? ['bcs', 'partners']
      : ['bcs'];
  const names = [...new Set(env.SYNC_FAMILIES?.trim() ? listed : byDefault)];
  const known = [...codeFamilies.map((family) => family.name), ...configured.map((f) => f.name)];
  for (const name of names)
    if (!known.includes(name))
      problems.push({
        key: 'SYNC_FAMILIES',
        message: `"${name}" is not a record family (known: ${known.join(', ')})`,
      });
  // A file that could not be read is the problem, not the families it did not give.
  const fileFailed = problems.some((problem) => problem.key === 'SYNC_FAMILIES_FILE');
  if (names.length === 0 && !fileFailed)
    problems.push({ key: 'SYNC_FAMILIES', message: 'names no family' });
  const code = codeFamilies.filter((family) => names.includes(family.name));
  // A model and a table are a family's at most: the file may name one a family in code copies
  // only when that family is not copied here (migrate then takes its table over: docs/models.md).
  for (const spec of configured.filter((family) => names.includes(family.name)))
    for (const model of [spec.root, ...spec.children])
      for (const other of code) {
        if (familyModels(other).some((known) => known.model === model.model))
          problems.push({
            key: 'SYNC_FAMILIES',
            message: `${spec.name} and ${other.name} both copy ${model.model}: copy one of them`,
          });
        else if (familyModels(other).some((known) => known.table.name === model.table))
          problems.push({
            key: 'SYNC_FAMILIES_FILE',
            message: `${spec.name}: ${model.model}: table ${model.table} is the ${other.name} family's, copied here: name another table`,
          });
      }
  return { copied: names, code, configured };
}

function build(
  env: Env,
  parsed: {
    apiKeys: ApiKeyEntry[];
    models: ExposedModel[];
    families: FamiliesConfig;
    sources: { declared: readonly DeclaredSource[]; selected: readonly string[] };
    subscriptions: DeclaredSubscriptions;
    allowedHosts: ReceiverAddressRules;
    /** Whether this process reads ODOO_*'s secret: it calls the default source's Odoo. */
    readsDefaultSecret: boolean;
  },
  options: LoadConfigOptions,
): Config {
  const odoo = parsed.readsDefaultSecret ? odooConfigFrom(env) : undefined;
  const odooLink = odooLinkConfigFrom(env);
  const tryton: TrytonConfig | undefined =
    env.TRYTON_RPC_URL && env.TRYTON_DATABASE && env.TRYTON_USER && env.TRYTON_PASSWORD
      ? {
          rpcUrl: env.TRYTON_RPC_URL.replace(/\/+$/, ''),
          database: env.TRYTON_DATABASE,
          user: env.TRYTON_USER,
          password: env.TRYTON_PASSWORD,
          timeoutMs: env.TRYTON_TIMEOUT_MS,
          loginTimeoutMs: env.TRYTON_LOGIN_TIMEOUT_MS,
          retries: env.TRYTON_RETRIES,
          sessionTtlSeconds: env.TRYTON_SESSION_TTL_SECONDS,
          models: parsed.models,
          allowedMethods: env.TRYTON_ALLOWED_METHODS,
          maxSearchLimit: env.TRYTON_MAX_SEARCH_LIMIT,
          maxResponseBytes: env.TRYTON_MAX_RESPONSE_BYTES,
          cacheTtlSeconds: Math.min(env.TRYTON_CACHE_TTL_SECONDS, env.TRYTON_CACHE_MAX_TTL_SECONDS),
          cacheMaxBytes: env.TRYTON_CACHE_MAX_BYTES,
          cacheMaxTtlSeconds: env.TRYTON_CACHE_MAX_TTL_SECONDS,
          cacheMaxEntries: env.TRYTON_CACHE_MAX_ENTRIES,
          cacheMaxTotalBytes: env.TRYTON_CACHE_MAX_TOTAL_BYTES,
          cacheAllowNoEviction: env.TRYTON_CACHE_ALLOW_NOEVICTION,
        }
      : undefined;
  return {
    mode: options.mode,
    database: {
      url: env.DATABASE_URL,
      ...(env.DATABASE_READ_URL ? { readUrl: env.DATABASE_READ_URL } : {}),
      poolMax: env.DATABASE_POOL_MAX,
      preparedStatements: env.DATABASE_PREPARED_STATEMENTS,
      sessionLimits: {
        lockTimeoutMs: env.DATABASE_LOCK_TIMEOUT_MS,
        idleInTransactionTimeoutMs: env.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      },
      pgliteDir: env.PGLITE_DIR,
      bootWaitMs: env.DATABASE_BOOT_WAIT_MS,
    },
    queues: queueConfigFrom(env),
    redis: redisConfigFrom(env),
    odoo,
    ...(odooLink ? { odooLink } : {}),
    sources: sourcesFrom(env, odoo, parsed.sources.declared, parsed.families.copied),
    sync: {
      families: parsed.families,
      sources: parsed.sources.selected,
      everyMs: env.SYNC_EVERY,
      overlapSeconds: env.SYNC_OVERLAP_SECONDS,
      leaseSeconds: env.SYNC_LEASE_SECONDS,
      concurrency: env.SYNC_CONCURRENCY,
      jobAttempts: env.SYNC_JOB_ATTEMPTS,
      runPagesInFlight: env.SYNC_RUN_PAGES_IN_FLIGHT,
      reconcileCron: env.SYNC_RECONCILE_CRON,
      reconcileMinRatio: env.SYNC_RECONCILE_MIN_RATIO,
      verifyCycleDays: env.SYNC_VERIFY_CYCLE_DAYS,
      jobLockMs: env.SYNC_JOB_LOCK_MS,
    },
    feed: feedConfigFrom(env, parsed.subscriptions, parsed.allowedHosts),
    webhooks: {
      tokenSha256: env.ODOO_WEBHOOK_TOKENS.map((hash) => hash.toLowerCase()),
      debounceMs: env.ODOO_WEBHOOK_DEBOUNCE_MS,
      rateLimitPerMinute: env.ODOO_WEBHOOK_RATE_LIMIT_PER_MINUTE,
      inboxMaxEvents: env.ODOO_WEBHOOK_INBOX_MAX_EVENTS,
    },
    tryton,
    http: {
      port: env.PORT,
      host: env.HOST,
      workerPort: env.WORKER_HTTP_PORT,
      workerMetrics: env.WORKER_METRICS_HOST
        ? { host: env.WORKER_METRICS_HOST, port: env.WORKER_METRICS_PORT }
        : undefined,
      readersSeeArchived: env.API_READERS_SEE_ARCHIVED,
      corsOrigins: env.CORS_ORIGINS,
      bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES,
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      rateLimitAnonymousPerMinute: env.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
      trustProxy: env.TRUST_PROXY,
      docs: options.mode === 'demo' && env.API_DOCS === 'protected' ? 'public' : env.API_DOCS,
      statementTimeoutMs: env.API_STATEMENT_TIMEOUT_MS,
      maxInFlightPerKey: env.API_MAX_IN_FLIGHT_PER_KEY,
      pageMaxBytes: env.API_PAGE_MAX_BYTES,
      reconcileCooldownSeconds: env.API_RECONCILE_COOLDOWN_SECONDS,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    },
    apiKeys: parsed.apiKeys,
    log: {
      level: env.LOG_LEVEL,
      pretty:
        env.LOG_FORMAT === undefined
          ? (env.LOG_PRETTY ?? options.isTty ?? false)
          : env.LOG_FORMAT === 'pretty',
    },
  };
}

/** Freezes the configuration whole: parsed once at boot, never changed after. */
function freeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) freeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Reads the real process environment; the only place that touches `process.env`. */
export function loadConfigFromProcess(options: Omit<LoadConfigOptions, 'isTty'>): Config {
  return loadConfig(process.env, { ...options, isTty: Boolean(process.stdout.isTTY) });
}

/**
 * Composition roots call this: on a bad configuration it prints the problems and exits 1, so the
 * process never starts half-configured.
 */
export function loadConfigOrExit(options: Omit<LoadConfigOptions, 'isTty'>): Config {
  try {
    return loadConfigFromProcess(options);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`erp-bridge: ${error.message}\nSee .env.example for every key.\n`);
      process.exit(1);
    }
    throw error;
  }
}
