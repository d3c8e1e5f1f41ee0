/**
 * Graceful shutdown for a composition root: on SIGTERM or SIGINT, run the registered closers in
 * reverse order of registration, bounded by a deadline; a second signal or the deadline forces
 * exit 1, so a stuck close never leaves a zombie process behind.
 */
import { describeError } from './errors.js';
import type { Logger } from './logger.js';

export interface Shutdown {
  /** Registers a closer; closers run last-registered first. */
  add(name: string, close: () => Promise<void>): void;
  /** Runs every closer once; later calls return the same promise. */
  run(reason: string): Promise<void>;
  readonly stopping: boolean;
}

export function createShutdown(logger: Logger, deadlineMs: number): Shutdown {
  const closers: { name: string; close: () => Promise<void> }[] = [];
  let running: Promise<void> | undefined;

  const shutdown: Shutdown = {
    add(name, close) {
      closers.push({ name, close });
    },
    get stopping() {
      return running !== undefined;
    },
    run(reason) {
      running ??= (async () => {
        logger.info({ reason }, 'shutting down');
        const timer = setTimeout(() => {
          logger.error({ deadlineMs }, 'shutdown deadline passed; forcing exit');
          process.exit(1);
        }, deadlineMs);
        timer.unref();
        let failed = false;
        for (const { name, close } of [...closers].reverse()) {
          try {
            await close();
          } catch (error) {
            failed = true;
            logger.error({ err: error, closer: name }, 'close failed');
          }
        }
        clearTimeout(timer);
        logger.info('stopped');
        if (failed) process.exitCode = 1;
      })();
      return running;
    },
  };
  return shutdown;
}

/**
 * Wires SIGTERM/SIGINT to `shutdown.run`, then exits (a forgotten handle must not keep a stopped
 * process alive); a second signal exits at once.
 */
export function onSignals(shutdown: Shutdown, logger: Logger): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (shutdown.stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      void shutdown.run(signal).then(() => process.exit());
    });
  }
}

/**
 * An uncaught exception or an unhandled rejection is logged in full, then the process shuts down
 * as on a signal and exits 1: its state is unknown, and a silent death tells an operator nothing.
 */
export function onFatalErrors(shutdown: Shutdown, logger: Logger): void {
  const fatal = (kind: string) => (error: unknown) => {
    logger.fatal({ err: error }, `${kind}: shutting down`);
    process.exitCode = 1;
    void shutdown.run(kind).then(() => process.exit(1));
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled rejection'));
}

/**
 * A composition root that cannot start (a configured family never migrated, say): one line says
 * why, what it opened is closed, and the process exits 1.
 */
export async function refuseToStart(
  shutdown: Shutdown,
  logger: Logger,
  error: unknown,
): Promise<never> {
  logger.fatal({ err: error }, `cannot start: ${describeError(error)}`);
  await shutdown.run('cannot start');
  process.exit(1);
}
