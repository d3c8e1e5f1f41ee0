/**
 * The shared Tryton JSON-RPC client: one session per client reused by every call, a
 * single-flight re-login when the server rejects it, timeouts and the caller's abort signal on
 * every call, retries (tryton-retries), typed errors, an optional Redis cache (tryton-cache), a
 * ping, and counters for metrics.
 *
 * Facts it relies on are in docs/tryton.md. The password, the
 * session key and the device cookie are secrets: they are never logged and every server text
 * that reaches an error message is scrubbed of them.
 *
 * Not here: the wire exchange (tryton-transport), the paths it posts to (tryton-rpc-paths), the
 * value codec (tryton-codec), HTTP routes.
 */
import { Agent, type Dispatcher } from 'undici';
import type { Logger } from '../../lib/logger.js';
import { readThrough, readThroughJson, type TrytonCache } from './tryton-cache.js';
import { stringifyTrytonJson } from './tryton-codec.js';
import {
  TrytonAbortedError,
  TrytonAuthError,
  TrytonError,
  TrytonProtocolError,
  TrytonRPCError,
  type TrytonErrorCode,
} from './tryton-errors.js';
import { isReadOnlyTrytonMethod } from './tryton-read-only-methods.js';
import { createTrytonRetryPolicy } from './tryton-retries.js';
import { createTrytonRouter, type TrytonRoutedAnswer } from './tryton-rpc-paths.js';
import {
  createTrytonSession,
  trytonSessionAuthorization,
  type TrytonLoginResult,
} from './tryton-session.js';
import { createTrytonTransport } from './tryton-transport.js';

export interface TrytonCallOptions {
  signal?: AbortSignal;
  /** Overrides the configured timeout for this call. */
  timeoutMs?: number;
  /**
   * Whether replaying the call after a timeout or a broken connection is safe. Defaults to
   * true for read methods (search, read, fields_get…) and false for everything else.
   */
  idempotent?: boolean;
}

/** Reported once per `call`, after its last attempt, for metrics. */
export interface TrytonCallEvent {
  method: string;
  /** `ok`, or the code of the error the call failed with. */
  outcome: 'ok' | TrytonErrorCode | 'UNEXPECTED';
  durationMs: number;
  attempts: number;
}

export interface TrytonClientStats {
  /** Calls by outcome (`ok` or an error code), counted once per call whatever its retries. */
  calls: Record<string, number>;
  /** `common.db.login` requests sent (successful or not). */
  logins: number;
  loginFailures: number;
  /** 401 answers to a session (each one waits for the shared re-login, then replays once). */
  sessionRejections: number;
  /** Extra attempts made after transport failures or timeouts. */
  retries: number;
}

export interface TrytonCachedResult<T> {
  result: T;
  /** `hit` when the answer came from Redis. */
  cache: 'hit' | 'miss';
}

export interface TrytonPing {
  /** `common.server.version`: the release up to 7.0 (`7.0.30`), the series from 8.0 (`8.0`). */
  version: string;
  latencyMs: number;
}

export interface TrytonClient {
  readonly database: string;
  readonly user: string;
  /**
   * Calls a method on the database (`model.party.party.read`, `model.res.user.get_preferences`…)
   * or on the server root (`common.server.version`, `common.db.list`). Model methods take the
   * context as their last positional parameter. `common.db.login`/`logout` are refused: the
   * client owns its session.
   */
  call<T = unknown>(
    method: string,
    params?: readonly unknown[],
    options?: TrytonCallOptions,
  ): Promise<T>;
  /**
   * `call` through the Redis cache: the answer is kept for the server's `X-Tryton-Cache`
   * seconds when it sends the header, else for `ttlSeconds` (0: not stored). Only read methods,
   * unless `options.idempotent` says otherwise. Without a cache, or while Redis is down, it is
   * a plain call.
   */
  cachedCall<T = unknown>(
    method: string,
    params: readonly unknown[],
    ttlSeconds: number,
    options?: TrytonCallOptions,
  ): Promise<T>;
  /** {@link TrytonClient.cachedCall}, also telling whether the answer came from the cache. */
  cachedCallDetailed<T = unknown>(
    method: string,
    params: readonly unknown[],
    ttlSeconds: number,
    options?: TrytonCallOptions,
  ): Promise<TrytonCachedResult<T>>;
  /**
   * {@link TrytonClient.cachedCall} answering the result as JSON text in Tryton's `__class__`
   * shapes (what the gateway sends on): a cache hit is the stored text, never decoded.
   */
  cachedCallJson(
    method: string,
    params: readonly unknown[],
    ttlSeconds: number,
    options?: TrytonCallOptions,
  ): Promise<{ json: string; cache: 'hit' | 'miss' }>;
  /** `common.server.version`, without a session and without retries: a liveness probe. */
  ping(options?: { signal?: AbortSignal }): Promise<TrytonPing>;
  stats(): TrytonClientStats;
  /** Logs the session out (best effort) and releases the connection pool it owns. */
  close(): Promise<void>;
}

/** The server the client talks to, as whom, and its limits (TRYTON_* in the configuration). */
export interface TrytonClientSettings {
  readonly rpcUrl: string;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly timeoutMs: number;
  readonly loginTimeoutMs: number;
  readonly retries: number;
  readonly sessionTtlSeconds: number;
  readonly maxResponseBytes: number;
  /** Answers larger than this are not cached. */
  readonly cacheMaxBytes: number;
}

export interface TrytonClientDeps {
  logger: Logger;
  /** undici dispatcher; by default the client owns an Agent and closes it in `close()`. */
  dispatcher?: Dispatcher;
  cache?: TrytonCache;
  /** Called once per call after its last attempt (histograms, tracing). Must not throw. */
  onCall?: (event: TrytonCallEvent) => void;
  /** How long logins fail fast after a 429; trytond counts failed logins over 300 s by default. */
  rateLimitCooldownMs?: number;
  /** First retry delay; each next one doubles, with jitter, up to 5 s. */
  retryBaseDelayMs?: number;
  /** Clock (epoch ms) for the session TTL and the rate-limit cooldown. */
  now?: () => number;
  /**
   * Whether each login renews the client's device cookie (default true: the gateway's shared
   * client). A one-off client (`check`) turns it off: a renewal is a write to Tryton.
   */
  deviceCookie?: boolean;
}

/** Methods served on the server's endpoint, without a session (docs/tryton.md §1). */
const ROOT_METHODS = new Set(['common.server.version', 'common.db.list']);
/** Methods that would replace or destroy the client's own session. */
const SESSION_METHODS = new Set(['common.db.login', 'common.db.logout']);
const CONNECT_TIMEOUT_MS = 5_000;
const LOGOUT_TIMEOUT_MS = 2_000;

/**
 * Whether a login's failure says trytond could not open the database (docs/tryton.md §4): 6.0
 * answers 404 on PostgreSQL and names the missing file on SQLite; 7.0 fails while closing the
 * transaction it never opened, with an error about `put_connection`, on either backend.
 */
function opensNoDatabase(error: unknown): boolean {
  if (error instanceof TrytonProtocolError) return error.httpStatus === 404;
  if (!(error instanceof TrytonRPCError) || error.code !== 'TRYTON_SERVER_ERROR') return false;
  return /put_connection|^Database .* doesn't exist/.test(error.errorName);
}

export function createTrytonClient(
  config: TrytonClientSettings,
  deps: TrytonClientDeps,
): TrytonClient {
  const log = deps.logger;
  const rpcUrl = config.rpcUrl.replace(/\/+$/, '');
  const ownsDispatcher = deps.dispatcher === undefined;
  const dispatcher =
    deps.dispatcher ??
    new Agent({ connect: { timeout: Math.min(CONNECT_TIMEOUT_MS, config.loginTimeoutMs) } });
  const rateLimitCooldownMs = deps.rateLimitCooldownMs ?? 300_000;
  const retryBaseDelayMs = deps.retryBaseDelayMs ?? 200;
  const cache = deps.cache;
  const now = deps.now ?? (() => Date.now());

  // Every secret a server text could echo back; scrubbed from all messages we build.
  const secrets = new Set<string>();
  if (config.password.length >= 4) secrets.add(config.password);
  const redact = (text: string): string => {
    let result = text;
    for (const secret of secrets)
      if (result.includes(secret)) result = result.split(secret).join('[redacted]');
    return result;
  };

  const router = createTrytonRouter({
    transport: createTrytonTransport({
      rpcUrl,
      dispatcher,
      redact,
      maxResponseBytes: config.maxResponseBytes,
    }),
    database: config.database,
    probeTimeoutMs: config.timeoutMs,
    logger: log,
  });
  const counters = { logins: 0, loginFailures: 0, sessionRejections: 0, retries: 0 };
  const calls: Record<string, number> = {};
  let closed = false;
  let deviceCookie: string | undefined;
  let rateLimitedUntilMs = 0;

  const retries = createTrytonRetryPolicy({
    retries: config.retries,
    baseDelayMs: retryBaseDelayMs,
    logger: log,
    isClosed: () => closed,
    onRetry: () => {
      counters.retries += 1;
    },
  });

  async function renewDeviceCookie(authorization: string): Promise<void> {
    // A device cookie gives this client its own bucket of login attempts, so someone guessing
    // the service account's password cannot lock the service out (docs/tryton.md §2). Best effort.
    try {
      const answer = await router.exchange({
        endpoint: 'database',
        method: 'model.res.user.device.renew',
        params: [deviceCookie ?? null, {}],
        authorization,
        timeoutMs: config.timeoutMs,
      });
      if (answer.kind === 'result' && typeof answer.result === 'string') {
        deviceCookie = answer.result;
        secrets.add(deviceCookie);
      }
    } catch (error) {
      log.warn({ err: error }, 'tryton: device cookie renewal failed; logins go on without one');
    }
  }

  async function loginOnce(): Promise<TrytonLoginResult> {
    if (now() < rateLimitedUntilMs) {
      throw new TrytonAuthError(
        'TRYTON_AUTH_RATE_LIMITED',
        `Tryton rate-limited the logins of ${config.user}; not trying again before ${new Date(rateLimitedUntilMs).toISOString()}`,
        { method: 'common.db.login' },
      );
    }
    counters.logins += 1;
    const parameters: Record<string, string> = { password: config.password };
    if (deviceCookie !== undefined) parameters.device_cookie = deviceCookie;
    let answer: TrytonRoutedAnswer;
    try {
      answer = await router.exchange({
        endpoint: 'database',
        method: 'common.db.login',
        params: [config.user, parameters, 'en'],
        timeoutMs: config.loginTimeoutMs,
      });
    } catch (error) {
      counters.loginFailures += 1;
      if (error instanceof TrytonAuthError && error.code === 'TRYTON_AUTH_RATE_LIMITED') {
        rateLimitedUntilMs = now() + rateLimitCooldownMs;
      }
      if (opensNoDatabase(error)) {
        throw new TrytonAuthError(
          'TRYTON_UNKNOWN_DATABASE',
          `Tryton cannot open the database "${config.database}" (TRYTON_DATABASE): the server has no database of that name, or cannot reach its database server`,
          { method: 'common.db.login', cause: error },
        );
      }
      if (error instanceof TrytonRPCError && error.code === 'TRYTON_LOGIN_EXCEPTION') {
        throw new TrytonAuthError(
          'TRYTON_AUTH_PARAMETER_REQUIRED',
          `Tryton asks ${config.user} for the login parameter "${error.description ?? 'unknown'}", which the client cannot give`,
          { method: 'common.db.login', cause: error },
        );
      }
      throw error;
    }
    if (answer.kind === 'unauthorized') {
      counters.loginFailures += 1;
      throw new TrytonAuthError(
        'TRYTON_AUTH_FAILED',
        `Tryton refused the login of ${config.user} on database ${config.database}: wrong login or password`,
        { method: 'common.db.login', httpStatus: 401 },
      );
    }
    const result = answer.result;
    // `[user id, key]`, or `[user id, key, bus URL or null]` (7.0, 8.0): the first two (docs/tryton.md §2).
    if (!Array.isArray(result) || typeof result[0] !== 'number' || typeof result[1] !== 'string') {
      counters.loginFailures += 1;
      throw new TrytonProtocolError('Tryton answered common.db.login without [user id, session]', {
        method: 'common.db.login',
      });
    }
    const login: TrytonLoginResult = { userId: result[0], key: result[1] };
    secrets.add(login.key);
    log.info(
      { database: config.database, user: config.user, userId: login.userId },
      'tryton: logged in',
    );
    return login;
  }

  const session = createTrytonSession({
    login: config.user,
    ttlMs: config.sessionTtlSeconds * 1000,
    now,
    authenticate: async () => {
      // Only failures before the request left are retried: a timed-out or refused login is not
      // replayed, since trytond delays and then locks out repeated attempts.
      const login = await retries.run({ method: 'common.db.login', idempotent: false }, loginOnce);
      if (deps.deviceCookie !== false)
        await renewDeviceCookie(trytonSessionAuthorization(config.user, login));
      return login;
    },
  });

  async function exchangeWithSession(
    method: string,
    params: readonly unknown[],
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<TrytonRoutedAnswer & { kind: 'result' }> {
    if (ROOT_METHODS.has(method)) {
      const answer = await router.exchange({
        endpoint: 'server',
        method,
        params,
        timeoutMs,
        signal,
      });
      if (answer.kind === 'result') return answer;
      throw new TrytonProtocolError(`Tryton answered 401 to ${method}, which needs no session`, {
        method,
        httpStatus: 401,
      });
    }
    const handle = await session.current(signal);
    const first = await router.exchange({
      endpoint: 'database',
      method,
      params,
      authorization: handle.authorization(),
      timeoutMs,
      signal,
    });
    if (first.kind === 'result') return first;
    // The session is gone (expired, logged out, deleted): one shared re-login, then one replay.
    // Safe even for writes: trytond answers 401 before it runs the method (docs/tryton.md §2).
    counters.sessionRejections += 1;
    log.warn(
      { method, generation: handle.generation },
      'tryton: session rejected (401); logging in again',
    );
    const renewed = await session.renew(handle, signal);
    const second = await router.exchange({
      endpoint: 'database',
      method,
      params,
      authorization: renewed.authorization(),
      timeoutMs,
      signal,
    });
    if (second.kind === 'result') return second;
    throw new TrytonAuthError(
      'TRYTON_SESSION_REJECTED',
      `Tryton rejected a fresh session for ${method}`,
      {
        method,
        httpStatus: 401,
      },
    );
  }

  function report(
    method: string,
    outcome: TrytonCallEvent['outcome'],
    startedAtMs: number,
    attempts: number,
  ): void {
    calls[outcome] = (calls[outcome] ?? 0) + 1;
    if (deps.onCall) {
      try {
        deps.onCall({ method, outcome, durationMs: performance.now() - startedAtMs, attempts });
      } catch (error) {
        log.warn({ err: error, method }, 'tryton: onCall hook threw');
      }
    }
  }

  async function callDetailed(
    method: string,
    params: readonly unknown[],
    options: TrytonCallOptions | undefined,
  ): Promise<TrytonRoutedAnswer & { kind: 'result' }> {
    if (closed)
      throw new TrytonAbortedError(
        'TRYTON_CLIENT_CLOSED',
        `Tryton client is closed (call ${method})`,
        { method },
      );
    if (SESSION_METHODS.has(method)) {
      throw new TrytonRPCError(
        'TRYTON_FORBIDDEN_METHOD',
        `${method} is reserved to the client's own session handling`,
        {
          errorName: 'Forbidden',
        },
        { method },
      );
    }
    const startedAtMs = performance.now();
    const timeoutMs = options?.timeoutMs ?? config.timeoutMs;
    const idempotent = options?.idempotent ?? isReadOnlyTrytonMethod(method);
    let attempts = 0;
    try {
      const answer = await retries.run(
        { method, idempotent, signal: options?.signal },
        () => exchangeWithSession(method, params, timeoutMs, options?.signal),
        (made) => {
          attempts = made;
        },
      );
      report(method, 'ok', startedAtMs, attempts);
      return answer;
    } catch (error) {
      report(
        method,
        error instanceof TrytonError ? error.code : 'UNEXPECTED',
        startedAtMs,
        attempts,
      );
      throw error;
    }
  }

  function checkCacheable(method: string, options: TrytonCallOptions | undefined): void {
    if (!(options?.idempotent ?? isReadOnlyTrytonMethod(method))) {
      throw new TrytonError(
        'TRYTON_NOT_CACHEABLE',
        `${method} may change data; its answers are never cached`,
        { method },
      );
    }
  }

  function readThroughInput(
    cache: TrytonCache,
    method: string,
    params: readonly unknown[],
    ttlSeconds: number,
    options: TrytonCallOptions | undefined,
  ) {
    return {
      cache,
      key: cache.keyFor({
        server: rpcUrl,
        database: config.database,
        user: config.user,
        method,
        params,
      }),
      ttlSeconds,
      maxBytes: config.cacheMaxBytes,
      load: () => callDetailed(method, params, options),
    };
  }

  async function cachedCallDetailed<T>(
    method: string,
    params: readonly unknown[],
    ttlSeconds: number,
    options?: TrytonCallOptions,
  ): Promise<TrytonCachedResult<T>> {
    checkCacheable(method, options);
    if (!cache)
      return { result: (await callDetailed(method, params, options)).result as T, cache: 'miss' };
    return readThrough<T>(readThroughInput(cache, method, params, ttlSeconds, options));
  }

  async function cachedCallJson(
    method: string,
    params: readonly unknown[],
    ttlSeconds: number,
    options?: TrytonCallOptions,
  ): Promise<{ json: string; cache: 'hit' | 'miss' }> {
    checkCacheable(method, options);
    if (!cache) {
      const answer = await callDetailed(method, params, options);
      return { json: stringifyTrytonJson(answer.result), cache: 'miss' };
    }
    return readThroughJson(readThroughInput(cache, method, params, ttlSeconds, options));
  }

  const client: TrytonClient = {
    database: config.database,
    user: config.user,
    async call<T>(
      method: string,
      params: readonly unknown[] = [],
      options?: TrytonCallOptions,
    ): Promise<T> {
      return (await callDetailed(method, params, options)).result as T;
    },
    async cachedCall<T>(
      method: string,
      params: readonly unknown[],
      ttlSeconds: number,
      options?: TrytonCallOptions,
    ): Promise<T> {
      return (await cachedCallDetailed<T>(method, params, ttlSeconds, options)).result;
    },
    cachedCallDetailed,
    cachedCallJson,
    async ping(options) {
      if (closed)
        throw new TrytonAbortedError('TRYTON_CLIENT_CLOSED', 'Tryton client is closed (ping)');
      const startedAtMs = performance.now();
      const answer = await router.exchange({
        endpoint: 'server',
        method: 'common.server.version',
        params: [],
        timeoutMs: config.timeoutMs,
        signal: options?.signal,
      });
      const latencyMs = Math.round((performance.now() - startedAtMs) * 10) / 10;
      if (answer.kind !== 'result' || typeof answer.result !== 'string') {
        throw new TrytonProtocolError(
          'Tryton answered common.server.version without a version string',
          {
            method: 'common.server.version',
          },
        );
      }
      return { version: answer.result, latencyMs };
    },
    stats() {
      return { calls: { ...calls }, ...counters };
    },
    async close() {
      if (closed) return;
      closed = true;
      const handle = session.clear();
      if (handle) {
        // Each login leaves a row in ir_session; logging out removes ours.
        try {
          await router.exchange({
            endpoint: 'database',
            method: 'common.db.logout',
            params: [],
            authorization: handle.authorization(),
            timeoutMs: Math.min(LOGOUT_TIMEOUT_MS, config.timeoutMs),
          });
        } catch (error) {
          log.warn(
            { err: error },
            'tryton: logout on close failed; the session will expire on the server',
          );
        }
      }
      if (ownsDispatcher) await dispatcher.close();
    },
  };
  return client;
}
