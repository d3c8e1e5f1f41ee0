/**
 * How the API checks a source's Odoo without its credentials: it queues a `check-odoo` job on the
 * source's `sync` queue, which a worker copying the source runs (src/check, with the workers'
 * credentials), and waits for its answer a bounded time. No worker, no answer: the section says
 * so in a FAIL line, as it says anything the check finds.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { checkSectionSchema, fail, type CheckSection } from '../check/check-report.js';
import { describeError } from '../lib/errors.js';
import type { QueueBackend } from './queue-backend.js';
import { createQueueEvents } from './queue-events.js';
import type { Queues } from './queues.js';

/** How long a request waits for a worker's check: a real Odoo answers it within seconds. */
export const CHECK_WAIT_MS = 60_000;

export async function checkThroughWorker(input: {
  queues: Queues;
  backend: QueueBackend;
  source: string;
  /** The section's heading when no worker answers: the source's Odoo, database and user. */
  target: string;
  signal?: AbortSignal;
  waitMs?: number;
}): Promise<CheckSection> {
  const { source } = input;
  const waitMs = input.waitMs ?? CHECK_WAIT_MS;
  const unanswered = (text: string, action: string): CheckSection => ({
    kind: 'odoo',
    source,
    target: input.target,
    lines: [fail('worker', text, action)],
    calls: 0,
  });
  const events = await createQueueEvents(input.backend, input.queues.of(source).sync);
  const giveUp = new AbortController();
  try {
    const job = await input.queues.add('check-odoo', { source });
    const waited = await Promise.race([
      events.waitFor(job, { pollMs: 500 }).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      delay(waitMs, 'late' as const, {
        signal: AbortSignal.any([giveUp.signal, ...(input.signal ? [input.signal] : [])]),
      }),
    ]);
    if (waited === 'late') {
      // Left queued, a late worker would check for no one.
      await job.remove().catch(() => false);
      return unanswered(
        `no worker of source ${source} ran the check within ${waitMs / 1_000} s`,
        `start a worker that copies ${source} (SYNC_SOURCES), or run npm run sync -- check where its credentials are`,
      );
    }
    if ('error' in waited)
      return unanswered(
        `the worker's check failed: ${describeError(waited.error)}`,
        "read the worker's log, then run check again",
      );
    return checkSectionSchema.parse(waited.value);
  } finally {
    giveUp.abort();
    await events.close();
  }
}
