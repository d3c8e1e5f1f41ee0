/**
 * A worker queues again the webhook events of its families that no job settled
 * (src/sync/webhook-inbox.ts): a job Redis lost in a failover, or one never queued because Redis
 * was away when Odoo posted. A pass every {@link REQUEUE_PASS_EVERY_MS}; each takes what is due,
 * a batch at a time, and two workers never take the same event. When the worker's Redis comes
 * back from a disconnection (a failover, a restart), a pass at once takes every event queued
 * before: the old primary may not have passed their jobs on, and a job queued twice is read twice
 * and written once.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from '../src/lib/logger.js';
import type { Db } from '../src/db/create-db.js';
import type { Queues } from '../src/queues/queues.js';
import { queueWebhookEvent } from '../src/queues/webhook-jobs.js';
import { takeUnsettledWebhooks, type KeptEvent } from '../src/sync/webhook-inbox.js';

const REQUEUE_PASS_EVERY_MS = 15_000;

/** One root's events (one record's, when the rule sent no root), with a stamp or without. */
const inboxKey = (event: KeptEvent) =>
  `${event.family} ${event.rootId ?? `${event.model} ${event.recordId}`} ${
    event.writeDate === undefined && !event.deleted ? 'unstamped' : 'stamped'
  }`;
const BATCH = 500;

export interface WebhookRequeueDeps {
  readonly db: Db;
  readonly queues: Queues;
  /** The families this worker copies. */
  readonly families: readonly string[];
  readonly debounceMs: number;
  readonly logger: Logger;
}

/**
 * One pass: queues every event due again (with `queuedBefore`, every one last queued before it);
 * how many. Of several events of one root, the latest is queued (and the latest without a stamp,
 * for its second read): its job settles the others (src/sync/webhook-inbox.ts), where an older one
 * queued after it would take its place.
 */
export async function requeueUnsettledWebhooks(
  deps: WebhookRequeueDeps,
  queuedBefore?: Date,
): Promise<number> {
  let queued = 0;
  for (;;) {
    const due = await takeUnsettledWebhooks(deps.db, deps.families, BATCH, queuedBefore);
    const latest = new Map(due.map((event) => [inboxKey(event), event]));
    for (const event of latest.values())
      await queueWebhookEvent(
        deps.queues,
        { ...event, inboxId: event.id, receivedAtMs: event.receivedAt.getTime() },
        deps.debounceMs,
        'inbox',
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

/**
 * Starts the passes. `redis` is the connection the worker's queues use when they are on Redis:
 * its `ready` after a `close` is Redis back from a disconnection. Queues in PostgreSQL lose no
 * job they committed, so no pass follows their database's return.
 */
export function startWebhookRequeue(
  deps: WebhookRequeueDeps,
  redis?: EventEmitter,
): { stop(): Promise<void> } {
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  const runPass = (queuedBefore?: Date) => {
    const pass: Promise<unknown> = requeueUnsettledWebhooks(deps, queuedBefore)
      .catch((error: unknown) =>
        deps.logger.warn({ err: error }, 'queueing again the unsettled webhook events failed'),
      )
      .finally(() => inFlight.delete(pass));
    inFlight.add(pass);
  };
  const timer = setInterval(() => {
    if (inFlight.size === 0) runPass();
  }, REQUEUE_PASS_EVERY_MS);
  timer.unref();
  let disconnected = false;
  const onClose = () => (disconnected = true);
  const onReady = () => {
    if (!disconnected) return;
    disconnected = false;
    const backAt = new Date();
    // After the passes in flight, which may have queued on the old primary. Never rejects.
    void Promise.all(inFlight).then(() => {
      if (!stopped) runPass(backAt);
    });
  };
  redis?.on('close', onClose);
  redis?.on('ready', onReady);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      redis?.off('close', onClose);
      redis?.off('ready', onReady);
      await Promise.all(inFlight);
    },
  };
}
