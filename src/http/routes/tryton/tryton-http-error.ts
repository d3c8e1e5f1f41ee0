/**
 * How the gateway answers when a Tryton call fails: each Tryton error becomes an `HttpError`
 * with the status a portal can act on — 422 for Tryton's own user errors (the portal shows the
 * message), 403 for methods Tryton refuses over RPC, 504 for timeouts, 502/503 for everything
 * upstream — and Tryton's message, never a credential (the client's messages carry none).
 *
 * Not here: the allowlist's own 403, or rendering (the app's error handler renders HttpError).
 */
import {
  TrytonAuthError,
  TrytonError,
  TrytonNetworkError,
  TrytonRPCError,
  TrytonTimeoutError,
} from '../../../clients/tryton/tryton-errors.js';
import { HttpError } from '../../http-error.js';

/** The HttpError for a failed Tryton call; any other error is returned unchanged. */
export function trytonHttpError(error: unknown): unknown {
  if (!(error instanceof TrytonError)) return error;
  const options = { cause: error };
  if (error instanceof TrytonRPCError) {
    if (error.code === 'TRYTON_USER_ERROR')
      return new HttpError(422, error.code, error.message, options);
    if (error.code === 'TRYTON_FORBIDDEN_METHOD')
      return new HttpError(403, error.code, error.message, options);
    // A server-side exception's text may hold SQL, paths or hosts: it goes to the log only.
    return new HttpError(
      502,
      error.code,
      `Tryton failed to run ${error.method ?? 'the call'}; the gateway's log has the details`,
      options,
    );
  }
  if (error instanceof TrytonAuthError) {
    // The portal cannot fix the gateway's credentials or database: say so without naming them.
    const message =
      error.code === 'TRYTON_AUTH_RATE_LIMITED'
        ? "Tryton is refusing the gateway's logins for now (too many failed attempts)"
        : error.code === 'TRYTON_UNKNOWN_DATABASE'
          ? 'Tryton cannot open the database the gateway is configured with (TRYTON_DATABASE)'
          : 'The gateway could not authenticate to Tryton';
    return new HttpError(502, error.code, message, options);
  }
  if (error instanceof TrytonTimeoutError)
    return new HttpError(504, error.code, error.message, options);
  if (error instanceof TrytonNetworkError) {
    // The transport's text names hosts and ports: internals the portal has no use for.
    return error.code === 'TRYTON_UNAVAILABLE'
      ? new HttpError(503, error.code, 'Tryton is unavailable', options)
      : new HttpError(502, error.code, 'Tryton is unreachable', options);
  }
  if (error.code === 'TRYTON_ABORTED' || error.code === 'TRYTON_CLIENT_CLOSED') {
    return new HttpError(503, error.code, error.message, options);
  }
  return new HttpError(
    502,
    error.code,
    `Tryton's answer could not be used (${error.code})`,
    options,
  );
}
