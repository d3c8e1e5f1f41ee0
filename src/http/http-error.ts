/**
 * An error a route raises on purpose, carrying the HTTP status and the stable `error` code the
 * client sees as `{ error, message }`. The app's one error handler renders it. Its message is
 * written for the client: a route that wraps an upstream failure says what failed, never how
 * (no host, SQL or server text), and keeps the detail in `cause` for the log.
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

/** The JSON body of every error answer; a 5xx also names its request, to find it in the log. */
export interface ErrorBody {
  error: string;
  message: string;
  requestId?: string;
}
