/**
 * The app's one error handler: every error answer is JSON `{ error, message }` with the right
 * status. Validation failures are 400 with the first problem spelled out; a 5xx never shows
 * internals (its message is replaced, the real error is logged with the request id).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { DrizzleQueryError } from 'drizzle-orm';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
} from 'fastify-type-provider-zod';
import { isConnectionFailure } from '../../db/query-watch.js';
import { databaseErrorFacts } from '../../lib/errors.js';
import { logSafeRequestUrl } from '../../lib/redact-url.js';
import { HttpError, type ErrorBody } from '../http-error.js';

/**
 * SQLSTATEs of a statement PostgreSQL cancelled that the same request, sent again, may pass: a
 * serialization failure (on a replica, a conflict with its replay: docs/feed.md, "Reading from a
 * replica") and a deadlock.
 */
const TRANSIENT_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01']);

/**
 * A statement cancelled by the API's bound on one (API_STATEMENT_TIMEOUT_MS) or by an
 * administrator: the server's limit, not the request's fault. The same request may pass once the
 * database is less busy; one that always takes longer has to ask for less (a page of fewer
 * records, a large value through its field route).
 */
const QUERY_CANCELED = '57014';
/** Seconds a client is asked to wait before it sends a cancelled request again. */
const CANCELED_RETRY_AFTER_S = 5;

/** postgres.js's own codes of a session it lost or could not open: no other client uses them. */
const POSTGRES_JS_CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/**
 * Whether the database could not be reached or dropped the session (refused, reset, shut down: a
 * restart, a failover), however deep in the error's causes: the server's state, not the request.
 * A socket's error counts only under a failed statement (drizzle's), never one of Redis, Odoo or
 * Tryton.
 */
function isDatabaseUnreachable(error: unknown): boolean {
  let statement = false;
  let connection = false;
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (
      current.name === 'PostgresError' ||
      (typeof code === 'string' && POSTGRES_JS_CONNECTION_CODES.has(code))
    )
      return isConnectionFailure(current);
    statement ||= current instanceof DrizzleQueryError;
    connection ||= isConnectionFailure(current);
    current = current.cause;
  }
  return statement && connection;
}

/** Seconds a client is asked to wait before it sends again a request the database missed. */
const UNREACHABLE_RETRY_AFTER_S = 5;

/** A database state the client may send its request again after: a 503 with Retry-After. */
interface Unavailability {
  readonly code: 'DATABASE_BUSY' | 'DATABASE_TIMEOUT' | 'DATABASE_UNAVAILABLE';
  readonly retryAfterS: number;
  /** For the log line. */
  readonly why: string;
  readonly message: string;
}

function databaseUnavailability(error: unknown): Unavailability | undefined {
  const sqlState = databaseErrorFacts(error)?.sqlState ?? '';
  if (TRANSIENT_SQLSTATES.has(sqlState))
    return {
      code: 'DATABASE_BUSY',
      retryAfterS: 1,
      why: 'the database cancelled its statement',
      message: 'the database cancelled the statement: try again',
    };
  if (sqlState === QUERY_CANCELED)
    return {
      code: 'DATABASE_TIMEOUT',
      retryAfterS: CANCELED_RETRY_AFTER_S,
      why: 'its statement ran past its bound',
      message:
        "the database did not answer within the API's bound on a statement (API_STATEMENT_TIMEOUT_MS): try again later, or ask for less",
    };
  if (isDatabaseUnreachable(error))
    return {
      code: 'DATABASE_UNAVAILABLE',
      retryAfterS: UNREACHABLE_RETRY_AFTER_S,
      why: 'the database could not be reached',
      message: 'the database could not be reached: try again',
    };
  return undefined;
}

function describeValidation(error: FastifyError): string {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const first = error.validation[0];
    const where = error.validationContext ?? 'request';
    const path = first?.instancePath ? `${where}${first.instancePath.replace(/\//g, '.')}` : where;
    return `${path}: ${first?.message ?? 'is invalid'}`;
  }
  return error.message;
}

export const errorHandler = fp(
  (app: FastifyInstance) => {
    app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
      const body: ErrorBody = {
        error: 'NOT_FOUND',
        // The path as a log would show it: a webhook token masked, a long path cut.
        message: `no route ${request.method} ${logSafeRequestUrl(request.url.split('?')[0] ?? '')}`,
      };
      return reply.code(404).send(body);
    });

    app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      if (error instanceof HttpError) {
        const serverSide = error.statusCode >= 500;
        if (serverSide) request.log.warn({ err: error }, 'request failed');
        return reply
          .code(error.statusCode)
          .headers(error.headers)
          .send({
            error: error.code,
            message: error.message,
            ...(serverSide ? { requestId: request.id } : {}),
          } satisfies ErrorBody);
      }
      if (error.validation) {
        return reply
          .code(400)
          .send({ error: 'BAD_REQUEST', message: describeValidation(error) } satisfies ErrorBody);
      }
      const status = error.statusCode ?? 500;
      if (status < 500 && !isResponseSerializationError(error)) {
        // Fastify's own 4xx (bad JSON, body too large, unsupported media type, rate limit …).
        const code = error.code
          ? error.code.replace(/^FST_ERR_/, '').replace(/^CTP_/, '')
          : 'BAD_REQUEST';
        return reply.code(status).send({ error: code, message: error.message } satisfies ErrorBody);
      }
      const unavailable = databaseUnavailability(error);
      if (unavailable) {
        request.log.warn({ err: error }, `request failed: ${unavailable.why}`);
        return reply
          .code(503)
          .header('retry-after', String(unavailable.retryAfterS))
          .send({
            error: unavailable.code,
            message: `${unavailable.message} (request ${request.id})`,
            requestId: request.id,
          } satisfies ErrorBody);
      }
      request.log.error({ err: error }, 'request failed');
      return reply.code(status >= 500 ? status : 500).send({
        error: 'INTERNAL',
        message: `internal error (request ${request.id})`,
        requestId: request.id,
      } satisfies ErrorBody);
    });
  },
  { name: 'error-handler' },
);
