/**
 * An error a route raises on purpose, carrying the HTTP status and the stable `error` code the
 * client sees as `{ error, message }`. The app's one error handler renders it; 5xx messages are
 * replaced there, so internals never leak.
 */
import { AppError } from '../lib/errors.js';

export class HttpError extends AppError {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    statusCode: number,
    code: string,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.statusCode = statusCode;
    this.headers = options.headers ?? {};
  }
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: string;
  message: string;
}
