/**
 * The one error type the Odoo client throws, and the rules that classify Odoo's failures.
 *
 * Every failure — an XML-RPC fault, a JSON-RPC `error` object, a JSON-2 status, a proxy's HTML
 * page, a reset socket, a timeout — leaves the client as an `OdooError` with a stable `code` and
 * a `retryable` flag, so callers branch on those and never on message text. This module does not
 * decide *how* to retry; the client does.
 */
import { AppError } from '../../lib/errors.js';

/** Stable codes of {@link OdooError}. */
export type OdooErrorCode =
  /** Bad or revoked credentials: fault 3, `authenticate` answering `False`, JSON-2 401. */
  | 'ODOO_AUTH'
  /** ACL or record rule refused the call: fault 4, JSON-2 403. */
  | 'ODOO_ACCESS'
  /** A UserError/ValidationError/MissingError or an unknown model: fault 2, JSON-2 4xx. */
  | 'ODOO_USER_ERROR'
  /** Any other server exception, with its traceback: fault 1, JSON-2 500. */
  | 'ODOO_SERVER_FAULT'
  /** The call did not finish within its timeout. */
  | 'ODOO_TIMEOUT'
  /** A non-200 HTTP status that is not an Odoo error answer (proxy pages, 404, 405…). */
  | 'ODOO_HTTP'
  /** An answer that is not what the protocol promises: HTML, malformed or truncated XML/JSON. */
  | 'ODOO_PROTOCOL'
  /** The connection failed: refused, reset, closed mid-body. */
  | 'ODOO_NETWORK'
  /** The caller's AbortSignal fired. */
  | 'ODOO_ABORTED'
  /** The call budget the client was given (a gate shared by processes) could not admit the call. */
  | 'ODOO_BUDGET'
  /** The call waited for the call budget past its deadline (retryable by the job, not in-call). */
  | 'ODOO_BUDGET_TIMEOUT'
  /** A read by id kept pairing values with the wrong records: its records kept being deleted. */
  | 'ODOO_INCONSISTENT_READ'
  /**
   * The answer is larger than the call allowed (`maxAnswerBytes`): it was not read. The caller
   * asks for fewer records; the same call would meet the same answer.
   */
  | 'ODOO_ANSWER_TOO_LARGE';

/**
 * What an `ODOO_AUTH` error adds when erp-bridge knows more than Odoo says: the API key lapsed
 * (Odoo answers an expired key as it answers a wrong one).
 */
export type OdooAuthReason = 'API_KEY_EXPIRED';

export interface OdooErrorOptions {
  cause?: unknown;
  reason?: OdooAuthReason;
  /** What may be stored and shown; defaults to the message (see AppError). */
  safeMessage?: string;
  retryable?: boolean;
  faultCode?: number | string;
  faultString?: string;
  httpStatus?: number;
  retryAfterMs?: number;
  /** `ODOO_ANSWER_TOO_LARGE`: the answer's size, when its Content-Length gave it. */
  answerBytes?: number;
}

/** A failed Odoo call. `retryable` says whether the same call may succeed if made again. */
export class OdooError extends AppError {
  declare readonly code: OdooErrorCode;
  /** The XML-RPC faultCode (1–4), or its equivalent for JSON-RPC and JSON-2 errors. */
  readonly faultCode?: number | string;
  /** The server's full error text (for fault 1: the Python traceback). */
  readonly faultString?: string;
  readonly httpStatus?: number;
  /** How long the answer asked the client to wait (its `Retry-After`), when it did. */
  readonly retryAfterMs?: number;
  /** Why credentials were refused, when known (`ODOO_AUTH` only). */
  readonly reason?: OdooAuthReason;
  /** `ODOO_ANSWER_TOO_LARGE`: the answer's size, when its Content-Length gave it. */
  readonly answerBytes?: number;

  constructor(code: OdooErrorCode, message: string, options: OdooErrorOptions = {}) {
    super(code, message, {
      cause: options.cause,
      retryable: options.retryable ?? false,
      safeMessage: options.safeMessage,
    });
    if (options.faultCode !== undefined) this.faultCode = options.faultCode;
    if (options.faultString !== undefined) this.faultString = options.faultString;
    if (options.httpStatus !== undefined) this.httpStatus = options.httpStatus;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.reason !== undefined) this.reason = options.reason;
    if (options.answerBytes !== undefined) this.answerBytes = options.answerBytes;
  }
}

/** True when the error is an `OdooError` with the given code. */
export function isOdooError(error: unknown, code?: OdooErrorCode): error is OdooError {
  return error instanceof OdooError && (code === undefined || error.code === code);
}

const MESSAGE_LIMIT = 300;

/**
 * The line of an Odoo error text worth a message: the last non-empty line of a Python
 * traceback (`ValueError: Invalid field …`), or the text itself, bounded in length.
 */
export function shortenFaultString(text: string): string {
  const trimmed = text.trim();
  let line = trimmed;
  if (trimmed.startsWith('Traceback (most recent call last)')) {
    const lines = trimmed.split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const candidate = (lines[i] ?? '').trim();
      if (candidate !== '') {
        line = candidate;
        break;
      }
    }
  }
  line = line.replace(/\s+/g, ' ');
  return line.length > MESSAGE_LIMIT ? `${line.slice(0, MESSAGE_LIMIT - 1)}…` : line;
}

// PostgreSQL's texts for the transient conflicts Odoo's own `retrying()` gives up on.
const TRANSIENT_FAULT_PATTERNS = [
  /could not serialize access due to (concurrent update|read\/write dependencies)/i,
  /SerializationFailure/,
  /deadlock detected/i,
  /could not obtain lock on row/i,
  /LockNotAvailable/,
];

/** True when an Odoo server error text reports a transaction conflict that a retry can clear. */
export function isSerializationFailure(text: string): boolean {
  return TRANSIENT_FAULT_PATTERNS.some((pattern) => pattern.test(text));
}

/**
 * Replaces every occurrence of `secret` in `text`. Server texts are echoed into messages, and an
 * Odoo that puts its arguments in a traceback must not leak the password through us.
 */
export function redactSecret(text: string, secret: string): string {
  if (secret.length < 4 || !text.includes(secret)) return text;
  return text.split(secret).join('[redacted]');
}

/** Where a failed call was going, for messages: `dimagaz.bc.search_read` or `common.authenticate`. */
export type OdooCallLabel = string;

/**
 * The error for an Odoo fault, by XML-RPC faultCode (1 server error, 2 user error, 3 access
 * denied, 4 access error). JSON-RPC and JSON-2 transports map their error names to the same
 * codes first, so every transport classifies alike.
 */
export function faultToError(
  label: OdooCallLabel,
  faultCode: unknown,
  faultString: unknown,
  secret: string,
  extra: { httpStatus?: number; cause?: unknown } = {},
): OdooError {
  const text = redactSecret(
    typeof faultString === 'string' ? faultString : String(faultString),
    secret,
  );
  const short = shortenFaultString(text);
  const code =
    typeof faultCode === 'number' || typeof faultCode === 'string' ? faultCode : String(faultCode);
  const options = { faultCode: code, faultString: text, ...extra };
  switch (code) {
    case 3:
      return new OdooError('ODOO_AUTH', `Odoo refused the credentials (${label}): ${short}`, {
        ...options,
        safeMessage: `Odoo refused the sync user's credentials (${label})`,
      });
    case 4:
      return new OdooError('ODOO_ACCESS', `Odoo access error on ${label}: ${short}`, options);
    case 2:
      return new OdooError('ODOO_USER_ERROR', `Odoo user error on ${label}: ${short}`, options);
    default:
      // A server fault's text is a traceback that may quote SQL and data: only its class is safe.
      return new OdooError('ODOO_SERVER_FAULT', `Odoo server fault on ${label}: ${short}`, {
        ...options,
        safeMessage: `Odoo server fault on ${label} (${exceptionClass(short)})`,
        retryable: isSerializationFailure(text),
      });
  }
}

/** `psycopg2.errors.UniqueViolation: duplicate key…` → `psycopg2.errors.UniqueViolation`. */
function exceptionClass(line: string): string {
  const match = /^([A-Za-z_][\w.]*)(?::|$)/.exec(line);
  return match?.[1] ?? 'exception';
}

/**
 * HTTP statuses a proxy or a restarting Odoo answers with, which a later attempt may not meet;
 * 429 is a host's rate limit, which a later attempt meets less once the caller waited.
 */
export function isRetryableHttpStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}
