/**
 * A worker wakes the change feed's deliveries when the copy commits: it listens on the feed's
 * channel (LISTEN/NOTIFY) and nudges every active subscription, at most one nudge in flight and
 * notifications of a burst folded into the next one. The pump job (every 10 s) covers what a lost
 * connection missed.
 */
import { createFeedSignal, type FeedListen } from '../src/feed/feed-signal.js';
import type { Logger } from '../src/lib/logger.js';

/** Commits this close together wake the deliveries once. */
const FOLD_MS = 50;

export interface FeedWake {
  stop(): Promise<void>;
}

export async function startFeedWake(input: {
  listen: FeedListen | undefined;
  nudge: () => Promise<unknown>;
  logger: Logger;
}): Promise<FeedWake> {
  const signal = createFeedSignal(input.listen, input.logger);
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    timer = undefined;
    if (running) {
      again = true;
      return;
    }
    running = input
      .nudge()
      .then(
        () => undefined,
        (error: unknown) =>
          input.logger.warn({ err: error }, 'waking the change feed deliveries failed'),
      )
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          run();
        }
      });
  };
  const stopObserving = signal.onChange(() => {
    timer ??= setTimeout(run, FOLD_MS);
  });
  await signal.start();
  return {
    async stop() {
      stopObserving();
      clearTimeout(timer);
      await signal.close();
      await running;
    },
  };
}
