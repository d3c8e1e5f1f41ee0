/**
 * The errors the Tryton client throws, one class per kind of failure, each with a stable `code`.
 *
 * Every failure — a Tryton error answer, a 401/403/429 status, an HTML page, a reset socket, a
 * timeout — leaves the client as a `TrytonError` subclass, so callers branch on class, `code`
 * and `retryable`, never on message text. Messages never carry the password or the session
 * key: the client builds them from the method name and the server's own error text only.
 * This module does not decide whether to retry; the client does.
 */
import { AppError } from '../../lib/errors.js';

/** Stable codes of the Tryton errors. */
export type TrytonErrorCode =
  /** `common.db.login` answered 401: unknown login or wrong password. */
  | 'TRYTON_AUTH_FAILED'
  /** `common.db.login` answered 429: too many failed logins for this login (trytond `max_attempt`). */
  | 'TRYTON_AUTH_RATE_LIMITED'
  /** Login asked for a parameter the client does not have (`LoginException`, e.g. an SMS code). */
  | 'TRYTON_AUTH_PARAMETER_REQUIRED'
  /** A call still answered 401 right after a fresh login. */
  | 'TRYTON_SESSION_REJECTED'
  /** `common.db.login` could not open `TRYTON_DATABASE`: no such database, or its server is away. */
  | 'TRYTON_UNKNOWN_DATABASE'
  /** `UserError` (also ValidationError, AccessError… which serialise alike). */
  | 'TRYTON_USER_ERROR'
  /** `UserWarning`: the server wants a confirmation the client cannot give. */
  | 'TRYTON_USER_WARNING'
  /** `ConcurrencyException`: the records changed since their `_timestamp`. */
  | 'TRYTON_CONCURRENCY'
  /** A `LoginException` outside of a login. */
  | 'TRYTON_LOGIN_EXCEPTION'
  /** Any other exception raised by the server (unknown model, unknown field, bug…). */
  | 'TRYTON_SERVER_ERROR'
  /** 403: the method is not in the model's `__rpc__` (or `common.db.list` is disabled). */
  | 'TRYTON_FORBIDDEN_METHOD'
  /** The call did not finish within its timeout (or trytond 7 answered 408). */
  | 'TRYTON_TIMEOUT'
  /** The connection failed: refused, reset, closed mid-answer, DNS. */
  | 'TRYTON_NETWORK'
  /** A proxy in front of trytond answered 502, 503 or 504. */
  | 'TRYTON_UNAVAILABLE'
  /** An answer larger than the client's `maxResponseBytes`: cut while streaming, never read whole. */
  | 'TRYTON_RESPONSE_TOO_LARGE'
  /** An answer the protocol does not promise: HTML, bad JSON, wrong id, unexpected status. */
  | 'TRYTON_PROTOCOL'
  /**
   * 405 on every JSON-RPC path trytond has used (`/` and `/<db>/` up to 7.0, `/rpc/` and
   * `/<db>/rpc/` from 8.0): the URL is not trytond's, or something in front refuses the POST.
   */
  | 'TRYTON_RPC_PATH'
  /** The caller's AbortSignal fired. */
  | 'TRYTON_ABORTED'
  /** The client was closed. */
  | 'TRYTON_CLIENT_CLOSED'
  /** `cachedCall` was asked to cache a method that may change data. */
  | 'TRYTON_NOT_CACHEABLE';

export interface TrytonErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  /** The RPC method of the failed call, e.g. `model.party.party.read`. */
  method?: string;
  httpStatus?: number;
}

/** The base of every error the Tryton client throws. */
export class TrytonError extends AppError {
  declare readonly code: TrytonErrorCode;
  readonly method?: string;
  readonly httpStatus?: number;

  constructor(code: TrytonErrorCode, message: string, options: TrytonErrorOptions = {}) {
    super(code, message, { cause: options.cause, retryable: options.retryable ?? false });
    if (options.method !== undefined) this.method = options.method;
    if (options.httpStatus !== undefined) this.httpStatus = options.httpStatus;
  }
}

/**
 * Tryton refused the service account's credentials, rate-limited its logins, rejected a fresh
 * session, or could not open the configured database. Never retryable: trytond delays and then
 * locks out repeated failed logins.
 */
export class TrytonAuthError extends TrytonError {
  constructor(
    code:
      | 'TRYTON_AUTH_FAILED'
      | 'TRYTON_AUTH_RATE_LIMITED'
      | 'TRYTON_AUTH_PARAMETER_REQUIRED'
      | 'TRYTON_SESSION_REJECTED'
      | 'TRYTON_UNKNOWN_DATABASE',
    message: string,
    options: Omit<TrytonErrorOptions, 'retryable'> = {},
  ) {
    super(code, message, { ...options, retryable: false });
  }
}

/** The details of a Tryton error answer, as the server sent them. */
export interface TrytonRpcErrorDetails {
  /** Tryton's error name: `UserError`, `UserWarning`, `ConcurrencyException`, `LoginException`, or `str(exc)`. */
  errorName: string;
  /** The second text of a `UserError`, or a traceback when trytond runs with `--dev`. */
  description?: string;
  /** A `UserError`'s third element: `[domain, fields]` of a failed domain validation, else null. */
  domain?: unknown;
}

/**
 * The server ran the call and answered with an error, or refused the method (403). Not
 * retryable: the same call meets the same error.
 */
export class TrytonRPCError extends TrytonError {
  readonly errorName: string;
  readonly description?: string;
  readonly domain?: unknown;

  constructor(
    code:
      | 'TRYTON_USER_ERROR'
      | 'TRYTON_USER_WARNING'
      | 'TRYTON_CONCURRENCY'
      | 'TRYTON_LOGIN_EXCEPTION'
      | 'TRYTON_SERVER_ERROR'
      | 'TRYTON_FORBIDDEN_METHOD',
    message: string,
    details: TrytonRpcErrorDetails,
    options: Omit<TrytonErrorOptions, 'retryable'> = {},
  ) {
    super(code, message, { ...options, retryable: false });
    this.errorName = details.errorName;
    if (details.description !== undefined && details.description !== '')
      this.description = details.description;
    if (details.domain !== undefined && details.domain !== null) this.domain = details.domain;
  }
}

/** The call did not finish in time. Retryable, but the client replays only idempotent methods. */
export class TrytonTimeoutError extends TrytonError {
  readonly timeoutMs: number;

  constructor(
    message: string,
    timeoutMs: number,
    options: Omit<TrytonErrorOptions, 'retryable'> = {},
  ) {
    super('TRYTON_TIMEOUT', message, { ...options, retryable: true });
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The server could not be reached or the connection broke (`TRYTON_NETWORK`), or a proxy said
 * the server is unavailable (`TRYTON_UNAVAILABLE`). `requestSent` is false when the request
 * surely never reached the server (connection refused, DNS): only then is a write safe to replay.
 */
export class TrytonNetworkError extends TrytonError {
  readonly requestSent: boolean;

  constructor(
    code: 'TRYTON_NETWORK' | 'TRYTON_UNAVAILABLE',
    message: string,
    options: Omit<TrytonErrorOptions, 'retryable'> & { requestSent: boolean },
  ) {
    super(code, message, { ...options, retryable: true });
    this.requestSent = options.requestSent;
  }
}

/** An answer outside the protocol: an HTML 500, a body that is not JSON, a wrong id. */
export class TrytonProtocolError extends TrytonError {
  constructor(message: string, options: Omit<TrytonErrorOptions, 'retryable'> = {}) {
    super('TRYTON_PROTOCOL', message, { ...options, retryable: false });
  }
}

/**
 * trytond serves JSON-RPC at none of the paths its releases use (docs/tryton.md §1), or kept
 * answering 405 where `common.server.version` said it serves: not retryable, since a replay meets
 * the same routes. `paths` are the ones tried, relative to `TRYTON_RPC_URL`.
 */
export class TrytonRpcPathError extends TrytonError {
  readonly paths: readonly string[];

  constructor(
    message: string,
    paths: readonly string[],
    options: Omit<TrytonErrorOptions, 'retryable' | 'httpStatus'> = {},
  ) {
    super('TRYTON_RPC_PATH', message, { ...options, httpStatus: 405, retryable: false });
    this.paths = paths;
  }
}

/** An answer over the size limit; the rest of it was never read. */
export class TrytonResponseTooLargeError extends TrytonError {
  constructor(
    message: string,
    readonly limitBytes: number,
    options: Omit<TrytonErrorOptions, 'retryable'> = {},
  ) {
    super('TRYTON_RESPONSE_TOO_LARGE', message, { ...options, retryable: false });
  }
}

/** The caller aborted the call, or closed the client. */
export class TrytonAbortedError extends TrytonError {
  constructor(
    code: 'TRYTON_ABORTED' | 'TRYTON_CLIENT_CLOSED',
    message: string,
    options: Omit<TrytonErrorOptions, 'retryable'> = {},
  ) {
    super(code, message, { ...options, retryable: false });
  }
}
