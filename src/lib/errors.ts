/**
 * The base of every error erp-bridge raises on purpose.
 *
 * Each carries a stable `code` (for logs, metrics and API bodies), the original error as
 * `cause`, whether retrying the same operation may succeed, and a `safeMessage`: the part of the
 * message that may be stored and shown (run logs, failures, API answers). The full message may
 * hold what a server said (a traceback, SQL, a host); it goes to the redacted log only.
 */
import { DrizzleQueryError } from 'drizzle-orm';
import { boundedText } from './redact-url.js';

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
  const database = databaseErrorFacts(error);
  if (database) return describeDatabaseError(database);
  if (error instanceof AppError) return boundedText(`${error.code}: ${error.message}`);
  if (error instanceof Error) return boundedText(error.message);
  return boundedText(String(error));
}

/**
 * What may be said of a failed database statement. Never its text, its parameters or PostgreSQL's
 * `detail` (`Failing row contains (…)`): a statement of the writer carries whole Odoo records, and
 * a record is whatever an Odoo user typed (logging one of 12,000 characters took seconds).
 */
export interface DatabaseErrorFacts {
  /** The SQLSTATE; undefined when the statement failed before PostgreSQL answered. */
  readonly sqlState: string | undefined;
  /** PostgreSQL's own message (it may quote one value: bounded), or the client's. */
  readonly message: string;
  readonly table?: string;
  readonly constraint?: string;
  readonly column?: string;
}

const DATABASE_MESSAGE_LIMIT = 200;

/**
 * The facts of a database error, itself or anywhere in its causes (drizzle wraps PostgreSQL's
 * error in one whose message is the statement and its parameters); undefined for any other error.
 */
export function databaseErrorFacts(error: unknown): DatabaseErrorFacts | undefined {
  let failedQuery = false;
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (current.name === 'PostgresError') {
      const fields = current as Error & Record<string, unknown>;
      const text = (name: string) =>
        typeof fields[name] === 'string' && fields[name] !== '' ? fields[name] : undefined;
      const table = text('table_name');
      const constraint = text('constraint_name');
      const column = text('column_name');
      return {
        sqlState: text('code') ?? 'unknown',
        message: boundedText(current.message, DATABASE_MESSAGE_LIMIT),
        ...(table === undefined ? {} : { table }),
        ...(constraint === undefined ? {} : { constraint }),
        ...(column === undefined ? {} : { column }),
      };
    }
    failedQuery ||= current instanceof DrizzleQueryError;
    current = current.cause;
  }
  if (!failedQuery) return undefined;
  const cause = error instanceof DrizzleQueryError ? error.cause : undefined;
  return {
    sqlState: undefined,
    message: boundedText(
      cause instanceof Error ? cause.message : 'the statement failed',
      DATABASE_MESSAGE_LIMIT,
    ),
  };
}

/** `database error SQLSTATE 54000: index row size … (table t, constraint c)`. */
export function describeDatabaseError(facts: DatabaseErrorFacts): string {
  const where = [
    facts.table === undefined ? undefined : `table ${facts.table}`,
    facts.column === undefined ? undefined : `column ${facts.column}`,
    facts.constraint === undefined ? undefined : `constraint ${facts.constraint}`,
  ].filter((part) => part !== undefined);
  return `database error${facts.sqlState === undefined ? '' : ` SQLSTATE ${facts.sqlState}`}: ${facts.message}${
    where.length > 0 ? ` (${where.join(', ')})` : ''
  }`;
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
  const sqlState = databaseErrorFacts(error)?.sqlState;
  if (sqlState !== undefined)
    return { code: 'DATABASE_ERROR', message: `database error (SQLSTATE ${sqlState})` };
  return { code: 'INTERNAL', message: 'unexpected error; the worker log has the details' };
}

function bounded(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > SAFE_MESSAGE_LIMIT ? `${line.slice(0, SAFE_MESSAGE_LIMIT - 1)}…` : line;
}
