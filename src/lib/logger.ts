/**
 * The pino logger factory. Every process builds one logger at its composition root and passes
 * it (or a child) down; nothing logs through a global.
 *
 * Redaction is the last line of defence for secrets: the clients never put credentials in log
 * objects on purpose, but a request header or an Odoo argument list logged by mistake must still
 * print as [redacted].
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths redacted in every log line, whatever logged them. */
export const REDACTED_PATHS: readonly string[] = [
  'password',
  '*.password',
  '*.*.password',
  'apiKey',
  '*.apiKey',
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

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;

/** `http://user:secret@odoo:8069` → `http://[redacted]@odoo:8069`, wherever it sits in a text. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1[redacted]@');
}

/** The standard error serializer, with credentials in URLs (ODOO_URL, a proxy's) masked. */
function serializeError(error: Error): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const key of ['message', 'stack'])
    if (typeof serialized[key] === 'string')
      serialized[key] = redactUrlCredentials(serialized[key]);
  return serialized;
}

export interface LoggerSettings {
  level: string;
  /** Human-readable output; only meant for a terminal. */
  pretty: boolean;
  name?: string;
}

export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
    hooks: {
      // Messages are masked too: a URL may reach one through an error's text.
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg) =>
            typeof arg === 'string' ? redactUrlCredentials(arg) : arg,
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
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' },
      },
    });
  }
  return pino(options);
}
