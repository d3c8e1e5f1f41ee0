/** A real pino logger (the app's factory, redaction included) whose lines a test can read. */
import { createLogger, type Logger } from '../../src/lib/logger.js';

export interface CapturedLogger {
  logger: Logger;
  lines: string[];
  text(): string;
}

export function createCapturedLogger(level = 'debug'): CapturedLogger {
  const lines: string[] = [];
  const logger = createLogger(
    { level, pretty: false, name: 'test' },
    { write: (line: string) => lines.push(line) },
  );
  return { logger, lines, text: () => lines.join('') };
}
