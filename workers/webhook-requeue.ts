/**
 * A worker queues again the webhook events of its families that no job settled
 * (src/sync/webhook-inbox.ts): a job Redis lost in a failover, or one never queued because Redis
 * was away when Odoo posted. A pass every {@link REQUEUE_PASS_EVERY_MS}; each takes what is due,
 * a batch at a time, and two workers never take the same event.
 */
import type { Logger } from '../src/lib/logger.js';
import type { Db } from '../src/db/create-db.js';
import type { Queues } from '../src/queues/queues.js';
import { queueWebhookEvent } from '../src/queues/webhook-jobs.js';
import { takeUnsettledWebhooks } from '../src/sync/webhook-inbox.js';

const REQUEUE_PASS_EVERY_MS = 15_000;
const BATCH = 500;

export interface WebhookRequeueDeps {
  readonly db: Db;
  readonly queues: Queues;
  /** The families this worker copies. */
  readonly families: readonly string[];
  readonly debounceMs: number;
  readonly logger: Logger;
}

/** One pass: queues every event due again; how many. */
export async function requeueUnsettledWebhooks(deps: WebhookRequeueDeps): Promise<number> {
  let queued = 0;
  for (;;) {
    const due = await takeUnsettledWebhooks(deps.db, deps.families, BATCH);
    for (const event of due)
      await queueWebhookEvent(
        deps.queues,
        { ...event, inboxId: event.id, receivedAtMs: event.receivedAt.getTime() },
        deps.debounceMs,
      );
    queued += due.length;
    if (due.length < BATCH) break;
  }
  if (queued > 0)
    deps.logger.warn(
      { events: queued },
      `queued again ${queued} webhook event(s) no job had settled (a job lost with Redis, or Redis away when it came)`,
    );
  return queued;
}

export function startWebhookRequeue(deps: WebhookRequeueDeps): { stop(): Promise<void> } {
  let pass: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    pass ??= requeueUnsettledWebhooks(deps)
      .catch((error: unknown) =>
        deps.logger.warn({ err: error }, 'queueing again the unsettled webhook events failed'),
      )
      .finally(() => (pass = undefined));
  }, REQUEUE_PASS_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await pass;
    },
  };
}
