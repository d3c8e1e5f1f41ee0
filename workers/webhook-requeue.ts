/**
 * A worker's passes over the webhook inbox (src/sync/webhook-inbox.ts), every
 * {@link REQUEUE_PASS_EVERY_MS}, for the families it copies: it queues again each event no read
 * has shown yet that is due (a job Redis lost in a failover, one never queued because Redis was
 * away when Odoo posted, a transaction that committed after its job's reads), a batch at a time,
 * two workers never taking the same event; it settles, with a log line and a metric, the events
 * due again after their last read (no read ever showed them: a transaction rolled back), and
 * those of families no worker copies any more. When the worker's Redis comes back from a
 * disconnection (a failover, a restart), a pass at once takes every event queued before: the old
 * primary may not have passed their jobs on, and a job queued twice is read twice and written
 * once.
 */
import type { Counter } from 'prom-client';
import type { Logger } from '../src/lib/logger.js';
import type { Db } from '../src/db/create-db.js';
import type { Queues } from '../src/queues/queues.js';
import { RETIRED_AFTER_MS } from '../src/queues/schedules.js';
import { queueWebhookEvent } from '../src/queues/webhook-jobs.js';
import { splitFamilyKey } from '../src/sources/family-key.js';
import {
  retireWebhooks,
  settleUnseenWebhooks,
  takeUnsettledWebhooks,
  UNSEEN_AFTER_READS,
  type KeptEvent,
} from '../src/sync/webhook-inbox.js';

const REQUEUE_PASS_EVERY_MS = 15_000;

/** One root's events (one record's, when the rule sent no root), with a stamp or without. */
const inboxKey = (event: KeptEvent) =>
  `${event.family} ${event.rootId ?? `${event.model} ${event.recordId}`} ${
    event.writeDate === undefined && !event.deleted ? 'unstamped' : 'stamped'
  }`;
const BATCH = 500;
/** Events named in the log line of those settled unseen; the rest are counted. */
const LOGGED_EVENTS = 10;

export interface WebhookRequeueDeps {
  readonly db: Db;
  readonly queues: Queues;
  /** The families this worker copies. */
  readonly families: readonly string[];
  readonly debounceMs: number;
  readonly logger: Logger;
  /** Counts the events settled unseen (workers/worker-metrics.ts). */
  readonly unseen?: Counter<'family' | 'source'>;
}

/**
 * One pass: settles what no read will show, then queues every event due again (with
 * `queuedBefore`, every one last queued before it); how many it queued. Of several events of one
 * root, the latest is queued (and the latest without a stamp): its job answers for the others.
 */
export async function requeueUnsettledWebhooks(
  deps: WebhookRequeueDeps,
  queuedBefore?: Date,
): Promise<number> {
  await settleUnseen(deps);
  for (const { family, events } of await retireWebhooks(deps.db, deps.families, RETIRED_AFTER_MS))
    deps.logger.warn(
      { family, events },
      `settled unread ${events} webhook event(s) of family ${family}: no worker has copied it for a day (it left the deployment's declarations)`,
    );
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
      `queued again ${queued} webhook event(s) no read had shown yet (a job lost with Redis, Redis away when it came, a transaction that committed late)`,
    );
  return queued;
}

/** Settles the events due again after their last requeue, saying which (see the module's header). */
async function settleUnseen(deps: WebhookRequeueDeps): Promise<void> {
  for (;;) {
    const unseen = await settleUnseenWebhooks(deps.db, deps.families, BATCH);
    const byFamily = new Map<string, number>();
    for (const event of unseen) byFamily.set(event.family, (byFamily.get(event.family) ?? 0) + 1);
    for (const [family, events] of byFamily) {
      deps.unseen?.inc({ family, source: splitFamilyKey(family).source }, events);
      deps.logger.warn(
        {
          family,
          events,
          first: unseen
            .filter((event) => event.family === family)
            .slice(0, LOGGED_EVENTS)
            .map((event) => ({
              model: event.model,
              recordId: event.recordId,
              ...(event.writeDate === undefined ? {} : { writeDate: event.writeDate }),
              deleted: event.deleted,
              receivedAt: event.receivedAt,
            })),
        },
        `settled ${events} webhook event(s) of family ${family} that ${UNSEEN_AFTER_READS} reads did not show (a transaction rolled back, or committed later than half an hour): the next run and the nightly reconcile read their records`,
      );
    }
    if (unseen.length < BATCH) return;
  }
}

/**
 * Starts the passes. `onStoreBack` calls its listener when the queues' store is back from a
 * disconnection that may have lost jobs (a Redis failover; never PostgreSQL, which loses no job it
 * committed) and returns what stops listening.
 */
export function startWebhookRequeue(
  deps: WebhookRequeueDeps,
  onStoreBack: (listener: () => void) => () => void,
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
  const onBack = () => {
    const backAt = new Date();
    // After the passes in flight, which may have queued on the old primary. Never rejects.
    void Promise.all(inFlight).then(() => {
      if (!stopped) runPass(backAt);
    });
  };
  const stopListening = onStoreBack(onBack);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      stopListening();
      await Promise.all(inFlight);
    },
  };
}
