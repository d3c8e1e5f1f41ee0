/**
 * The base of every error erp-bridge raises on purpose.
 *
 * Each carries a stable `code` (for logs, metrics and API bodies), the original error as
 * `cause`, whether retrying the same operation may succeed, and a `safeMessage`: the part of the
 * message that may be stored and shown (run logs, failures, API answers). The full message may
 * hold what a server said (a traceback, SQL, a host); it goes to the redacted log only.
 */
export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly safeMessage: string;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; retryable?: boolean; safeMessage?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.safeMessage = options.safeMessage ?? message;
  }
}

/** A short, single-line description of any thrown value, for logs and job failure reasons. */
export function describeError(error: unknown): string {
  if (error instanceof AppError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A stored or shown error: a stable code and a message that reveals nothing internal. */
export interface SafeError {
  readonly code: string;
  readonly message: string;
}

const SAFE_MESSAGE_LIMIT = 300;

/**
 * The code and safe message of any thrown value. Database errors keep only their SQLSTATE (their
 * text names tables, columns and values); anything unknown becomes a generic message.
 */
export function toSafeError(error: unknown): SafeError {
  if (error instanceof AppError) return { code: error.code, message: bounded(error.safeMessage) };
  const sqlState = postgresSqlState(error);
  if (sqlState !== undefined)
    return { code: 'DATABASE_ERROR', message: `database error (SQLSTATE ${sqlState})` };
  return { code: 'INTERNAL', message: 'unexpected error; the worker log has the details' };
}

/** The SQLSTATE of a PostgreSQL error, itself or as the cause drizzle wraps it in. */
function postgresSqlState(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (current.name === 'PostgresError') {
      const code = (current as { code?: unknown }).code;
      return typeof code === 'string' ? code : 'unknown';
    }
    current = current.cause;
  }
  return undefined;
}

function bounded(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > SAFE_MESSAGE_LIMIT ? `${line.slice(0, SAFE_MESSAGE_LIMIT - 1)}…` : line;
}
