/**
 * The pino logger factory. Every process builds one logger at its composition root and passes
 * it (or a child) down; nothing logs through a global.
 *
 * Redaction is the last line of defence for secrets: the clients never put credentials in log
 * objects on purpose, but a request header or an Odoo argument list logged by mistake must still
 * print as [redacted], and URL secrets (credentials, the webhook token: redact-url) are masked in
 * messages, errors and `url`/`req` fields.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { databaseErrorFacts, describeDatabaseError } from './errors.js';
import { boundedText, logSafeRequestUrl, redactUrl } from './redact-url.js';

export type { Logger } from 'pino';

/** Paths redacted in every log line, whatever logged them. */
export const REDACTED_PATHS: readonly string[] = [
  'password',
  '*.password',
  '*.*.password',
  'apiKey',
  '*.apiKey',
  // The Odoo API key and the secret it is sealed under (ODOO_API_KEY, ODOO_API_KEY_SECRET), and a
  // key passed to res.users.apikeys.generate/revoke (`kwargs.key`) if ever logged with its
  // arguments, and the sealed copies of `odoo_link`.
  'secret',
  '*.secret',
  'kwargs.key',
  '*.kwargs.key',
  'sealed',
  '*.sealed',
  'keySealed',
  '*.keySealed',
  'retiredSealed',
  '*.retiredSealed',
  'token',
  '*.token',
  'session',
  '*.session',
  'sessionToken',
  '*.sessionToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'request.headers.authorization',
  'request.headers.cookie',
  'res.headers["set-cookie"]',
  'cookie',
  '*.cookie',
  // execute_kw(db, uid, password, model, method, ...): the third positional argument.
  'executeKw[2]',
  '*.executeKw[2]',
  'params[2]',
  '*.params[2]',
];

/** Properties of a failed statement's error that hold its text, its values or a row. */
const STATEMENT_PROPERTIES = ['query', 'params', 'parameters', 'args', 'types', 'detail', 'where'];

/** A stack's frames, without the message its first lines repeat. */
function framesOf(stack: unknown): string | undefined {
  if (typeof stack !== 'string') return undefined;
  return stack
    .split('\n')
    .filter((line) => line.startsWith('    at '))
    .join('\n');
}

/**
 * The standard error serializer, bounded and masked: message and stack cut to a bounded length,
 * then URL secrets (credentials, the webhook token) masked. A database error is logged as its
 * facts (SQLSTATE, table, constraint) and frames: its message is the statement with every
 * parameter, which for the writer is a page of whole Odoo records.
 */
function serializeError(error: Error): Record<string, unknown> {
  const database = databaseErrorFacts(error);
  if (database)
    return {
      type: error.constructor.name,
      message: redactUrl(describeDatabaseError(database)),
      ...(database.sqlState === undefined ? {} : { code: database.sqlState }),
      ...(database.table === undefined ? {} : { table: database.table }),
      ...(database.constraint === undefined ? {} : { constraint: database.constraint }),
      stack: framesOf(error.stack),
    };
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const key of STATEMENT_PROPERTIES) delete serialized[key];
  for (const key of ['message', 'stack'])
    if (typeof serialized[key] === 'string')
      serialized[key] = redactUrl(boundedText(serialized[key]));
  return serialized;
}

/**
 * Fastify logs its request as `req` and its reply as `res` when request logging is on: only what
 * identifies them, the URL masked and bounded (the whole objects hold headers and sockets).
 */
function serializeRequest(request: { method?: unknown; url?: unknown; id?: unknown }) {
  return {
    method: request.method,
    url: typeof request.url === 'string' ? logSafeRequestUrl(request.url) : undefined,
    id: request.id,
  };
}

function serializeReply(reply: { statusCode?: unknown }) {
  return { statusCode: reply.statusCode };
}

const serializeUrl = (url: unknown) => (typeof url === 'string' ? logSafeRequestUrl(url) : url);

export interface LoggerSettings {
  level: string;
  /** Human-readable output; only meant for a terminal. */
  pretty: boolean;
  name?: string;
  /** Write to stderr: a CLI whose stdout is its answer (`--json`). */
  stderr?: boolean;
}

export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    serializers: {
      err: serializeError,
      error: serializeError,
      req: serializeRequest,
      res: serializeReply,
      // Any `url` a line carries: a request's (the client chose it) or a configured one.
      url: serializeUrl,
    },
    hooks: {
      // Messages are masked too: a URL may reach one through an error's text, or Fastify's own
      // lines (`Route POST:/hooks/odoo/<token> not found`).
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg) =>
            typeof arg === 'string' ? redactUrl(boundedText(arg)) : arg,
          ) as Parameters<typeof method>,
        );
      },
    },
    ...(settings.name ? { name: settings.name } : {}),
  };
  if (destination) return pino(options, destination);
  if (settings.pretty) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        // One line per event, its fields after the message: read by a person at a terminal.
        options: {
          colorize: true,
          translateTime: 'SYS:HH:MM:ss.l',
          singleLine: true,
          ignore: 'pid,hostname',
          ...(settings.stderr ? { destination: 2 } : {}),
        },
      },
    });
  }
  return settings.stderr ? pino(options, pino.destination(2)) : pino(options);
}
