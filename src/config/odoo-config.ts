/**
 * Odoo's part of the configuration (ODOO_*): the connection, the API key's lifecycle and the
 * fleet's call budget, their defaults when no Odoo is configured, and the rules between keys.
 */
import { DEFAULT_SOURCE } from '../sources/family-key.js';
import { envSchema, type Env } from './env-schema.js';

/** The Odoo API key's lifecycle (ODOO_API_KEY_*): what is known of its expiry, and its renewal. */
export interface OdooApiKeyConfig {
  /** ODOO_API_KEY_EXPIRES_AT: the configured key's expiry, when the operator gives it. */
  readonly expiresAt?: Date;
  readonly warnDays: number;
  readonly rotate: boolean;
  readonly renewDays: number;
  readonly lifetimeDays: number;
  /** The source whose key it is: a key is sealed for its source alone (key-cipher.ts). */
  readonly source: string;
  /**
   * The secret the encryption key of the stored key is derived from: a source's `apiKeySecret`
   * (SYNC_SOURCES_FILE), else ODOO_API_KEY_SECRET; only where the source's secrets are read.
   */
  readonly secret?: string;
  /** The secret it replaces (ODOO_API_KEY_SECRET_PREVIOUS, `apiKeySecretPrevious`). */
  readonly previousSecret?: string;
}

/** One budget of Odoo calls for every process sharing the queue Redis; 0 is no bound. */
export interface OdooBudgetConfig {
  readonly maxConcurrentCalls: number;
  /** ODOO_ADAPTIVE_CONCURRENCY: one call at a time when Odoo serves them one at a time. */
  readonly followOdoo?: boolean;
  readonly maxCallsPerSecond: number;
  /** ODOO_BUDGET_MAX_WAIT_MS: the longest a call waits for its admission. */
  readonly maxWaitMs: number;
}

export interface OdooConfig {
  readonly url: string;
  readonly database: string;
  readonly username: string;
  /** ODOO_PASSWORD, or the API key when only ODOO_API_KEY is set (Odoo takes keys as passwords). */
  readonly password: string;
  /** ODOO_API_KEY: JSON-2's bearer, and the secret of XML-RPC and JSON-RPC calls when set. */
  readonly apiKey?: string;
  readonly apiKeyLifecycle: OdooApiKeyConfig;
  /** `auto`: chosen by the server's version at the first call (see the Odoo client). */
  readonly protocol: 'auto' | 'xmlrpc' | 'jsonrpc' | 'json2';
  /** ODOO_READ_REPLICA: JSON-2 reads may come from a replica that lags. */
  readonly readReplica: boolean;
  readonly timeoutMs: number;
  readonly retries: number;
  /** The fleet's call budget, shared through Redis (0: no bound): ODOO_MAX_* keys. */
  readonly budget: OdooBudgetConfig;
  readonly pageSize: number;
  readonly pageMaxBytes: number;
  /** ODOO_TREE_READS: a page's roots and children in one call where Odoo can (default true). */
  readonly treeReads?: boolean;
  /** ODOO_VALUE_MAX_BYTES: the largest value the copy takes. */
  readonly valueMaxBytes: number;
  /** ODOO_CONTEXT: overrides the sync user's own context (`lang`, `tz`) in every read. */
  readonly context?: Readonly<Record<string, unknown>>;
}

/**
 * What a process that calls no Odoo (the API) knows of the Odoo link: which Odoo, database and
 * user (the link's row), and the key's lifecycle settings its status is described by. It needs
 * neither the password, nor the key, nor ODOO_API_KEY_SECRET: the workers write what it shows.
 */
export interface OdooLinkConfig {
  readonly url: string;
  readonly database: string;
  readonly username: string;
  readonly apiKeyLifecycle: OdooApiKeyConfig;
  /**
   * The key, where a process that calls this Odoo shows its link (the sync CLI's status); never
   * in the API's, whose link's row says whether the workers use one.
   */
  readonly apiKey?: string;
}

/** The lifecycle settings when no key is configured (the demo's sandbox): the schema's defaults. */
export function defaultApiKeyLifecycle(): OdooApiKeyConfig {
  const { shape } = envSchema;
  return {
    warnDays: shape.ODOO_API_KEY_WARN_DAYS.parse(undefined),
    source: DEFAULT_SOURCE,
    rotate: false,
    renewDays: shape.ODOO_API_KEY_RENEW_DAYS.parse(undefined),
    lifetimeDays: shape.ODOO_API_KEY_LIFETIME_DAYS.parse(undefined),
  };
}

/** The call budget when no Odoo is configured (the demo's sandbox): the schema's defaults. */
export function defaultOdooBudget(): OdooBudgetConfig {
  const { shape } = envSchema;
  return {
    maxConcurrentCalls: shape.ODOO_MAX_CONCURRENT_CALLS.parse(undefined),
    ...(shape.ODOO_ADAPTIVE_CONCURRENCY.parse(undefined) ? { followOdoo: true } : {}),
    maxCallsPerSecond: shape.ODOO_MAX_CALLS_PER_SECOND.parse(undefined),
    maxWaitMs: shape.ODOO_BUDGET_MAX_WAIT_MS.parse(undefined),
  };
}

/**
 * The API key's renewal needs the key it renews from and the secret its successor is stored
 * under, and must leave time: a key renewed when fewer days remain than a new one lasts. Only
 * processes that call Odoo renew (`renews`): the API asks for neither; ODOO_API_KEY and
 * ODOO_API_KEY_SECRET only where the default source's secrets are read (`readsKey`: a process
 * that calls its Odoo). Another source's key is sealed under its own `apiKeySecret`, or under
 * ODOO_API_KEY_SECRET when it has none: sources-file.ts asks for one of them.
 */
export function checkApiKeyLifecycle(
  env: Readonly<Record<string, string | undefined>>,
  parsed: Env | undefined,
  problems: { key: string; message: string }[],
  { readsKey, renews }: { readsKey: boolean; renews: boolean },
): void {
  // JSON-2 takes an API key only: a password sent as one is refused by Odoo 19 (401).
  if (readsKey && parsed?.ODOO_PROTOCOL === 'json2' && !env.ODOO_API_KEY?.trim())
    problems.push({
      key: 'ODOO_API_KEY',
      message:
        'is required with ODOO_PROTOCOL=json2: JSON-2 takes an API key, never the password (Preferences → Account Security → New API Key)',
    });
  if (parsed?.ODOO_API_KEY_ROTATE !== true || !renews) return;
  if (readsKey && !env.ODOO_API_KEY?.trim())
    problems.push({
      key: 'ODOO_API_KEY',
      message: 'is required with ODOO_API_KEY_ROTATE=true: a key is renewed from the key itself',
    });
  if (readsKey && !env.ODOO_API_KEY_SECRET?.trim())
    problems.push({
      key: 'ODOO_API_KEY_SECRET',
      message: 'is required with ODOO_API_KEY_ROTATE=true: the renewed key is stored encrypted',
    });
  if (parsed.ODOO_API_KEY_RENEW_DAYS >= parsed.ODOO_API_KEY_LIFETIME_DAYS)
    problems.push({
      key: 'ODOO_API_KEY_RENEW_DAYS',
      message: 'must be below ODOO_API_KEY_LIFETIME_DAYS, or every renewed key is due at once',
    });
}

/**
 * The link, whenever the keys that name an Odoo and its user are set: what the API's status
 * shows, read without any secret (neither the key nor what seals it): whether a key is in use,
 * and its state, are what the workers wrote in the link's row.
 */
export function odooLinkConfigFrom(env: Env): OdooLinkConfig | undefined {
  return env.ODOO_URL && env.ODOO_DATABASE && env.ODOO_USERNAME
    ? {
        url: env.ODOO_URL.replace(/\/+$/, ''),
        database: env.ODOO_DATABASE,
        username: env.ODOO_USERNAME,
        apiKeyLifecycle: apiKeyLifecycleFrom(env, env.ODOO_API_KEY_EXPIRES_AT, {
          source: DEFAULT_SOURCE,
        }),
      }
    : undefined;
}

/** Whose key, and the secrets it is sealed under where the process reads them. */
interface KeySealing {
  readonly source: string;
  readonly apiKeySecret?: string;
  readonly apiKeySecretPrevious?: string;
}

/**
 * `expiresAt` is one key's own (ODOO_API_KEY_EXPIRES_AT is ODOO_API_KEY's), and the secrets its
 * source's; the rest is the fleet's.
 */
function apiKeyLifecycleFrom(
  env: Env,
  expiresAt: Date | undefined,
  sealing: KeySealing,
): OdooApiKeyConfig {
  return {
    ...(expiresAt ? { expiresAt } : {}),
    warnDays: env.ODOO_API_KEY_WARN_DAYS,
    rotate: env.ODOO_API_KEY_ROTATE,
    renewDays: env.ODOO_API_KEY_RENEW_DAYS,
    lifetimeDays: env.ODOO_API_KEY_LIFETIME_DAYS,
    source: sealing.source,
    ...(sealing.apiKeySecret ? { secret: sealing.apiKeySecret } : {}),
    ...(sealing.apiKeySecretPrevious ? { previousSecret: sealing.apiKeySecretPrevious } : {}),
  };
}

/**
 * What names one Odoo database and its sync user, and what a source may set of its own (a
 * source of SYNC_SOURCES_FILE, or the default one of ODOO_*).
 */
export interface OdooConnection extends KeySealing {
  readonly url: string;
  readonly database: string;
  readonly username: string;
  /** The password, or the API key when only a key is given (Odoo takes keys as passwords). */
  readonly password: string;
  readonly apiKey?: string;
  readonly apiKeyExpiresAt?: Date;
  readonly protocol: OdooConfig['protocol'];
  readonly context?: Readonly<Record<string, unknown>>;
  readonly maxConcurrentCalls: number;
  readonly maxCallsPerSecond: number;
}

/**
 * The settings of one Odoo: its connection, and the environment's for the rest (timeouts,
 * retries, pages, the key's lifecycle), so that one client factory serves every source.
 */
export function odooConfigOf(env: Env, connection: OdooConnection): OdooConfig {
  return {
    url: connection.url.replace(/\/+$/, ''),
    database: connection.database,
    username: connection.username,
    password: connection.password,
    ...(connection.apiKey ? { apiKey: connection.apiKey } : {}),
    apiKeyLifecycle: apiKeyLifecycleFrom(env, connection.apiKeyExpiresAt, connection),
    protocol: connection.protocol,
    readReplica: env.ODOO_READ_REPLICA,
    timeoutMs: env.ODOO_TIMEOUT_MS,
    retries: env.ODOO_RETRIES,
    budget: {
      maxConcurrentCalls: connection.maxConcurrentCalls,
      ...(env.ODOO_ADAPTIVE_CONCURRENCY ? { followOdoo: true } : {}),
      maxCallsPerSecond: connection.maxCallsPerSecond,
      maxWaitMs: env.ODOO_BUDGET_MAX_WAIT_MS,
    },
    pageSize: env.ODOO_PAGE_SIZE,
    pageMaxBytes: env.ODOO_PAGE_MAX_BYTES,
    ...(env.ODOO_TREE_READS ? {} : { treeReads: false }),
    valueMaxBytes: env.ODOO_VALUE_MAX_BYTES,
    ...(connection.context ? { context: connection.context } : {}),
  };
}

/** Odoo's settings, when the keys that name an Odoo are all set. */
export function odooConfigFrom(env: Env): OdooConfig | undefined {
  const odooSecret = env.ODOO_PASSWORD ?? env.ODOO_API_KEY;
  return env.ODOO_URL && env.ODOO_DATABASE && env.ODOO_USERNAME && odooSecret
    ? odooConfigOf(env, {
        source: DEFAULT_SOURCE,
        ...(env.ODOO_API_KEY_SECRET ? { apiKeySecret: env.ODOO_API_KEY_SECRET } : {}),
        ...(env.ODOO_API_KEY_SECRET_PREVIOUS
          ? { apiKeySecretPrevious: env.ODOO_API_KEY_SECRET_PREVIOUS }
          : {}),
        url: env.ODOO_URL,
        database: env.ODOO_DATABASE,
        username: env.ODOO_USERNAME,
        password: odooSecret,
        ...(env.ODOO_API_KEY ? { apiKey: env.ODOO_API_KEY } : {}),
        ...(env.ODOO_API_KEY_EXPIRES_AT ? { apiKeyExpiresAt: env.ODOO_API_KEY_EXPIRES_AT } : {}),
        protocol: env.ODOO_PROTOCOL,
        ...(env.ODOO_CONTEXT ? { context: env.ODOO_CONTEXT } : {}),
        maxConcurrentCalls: env.ODOO_MAX_CONCURRENT_CALLS,
        maxCallsPerSecond: env.ODOO_MAX_CALLS_PER_SECOND,
      })
    : undefined;
}
