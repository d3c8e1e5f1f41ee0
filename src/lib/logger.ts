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
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
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
