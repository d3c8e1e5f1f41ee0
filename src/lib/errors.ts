/**
 * The base of every error erp-bridge raises on purpose.
 *
 * Each carries a stable `code` (for logs, metrics and API bodies), the original error as
 * `cause`, and whether retrying the same operation may succeed. Callers branch on `code` and
 * `retryable`, never on message text.
 */
export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** True for errors that a later attempt of the same operation may not meet again. */
export function isRetryable(error: unknown): boolean {
  return error instanceof AppError ? error.retryable : false;
}

/** A short, single-line description of any thrown value, safe for logs and job failure reasons. */
export function describeError(error: unknown): string {
  if (error instanceof AppError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
