/**
 * The job schedulers, upserted from one place at worker start. Upserting with the same id updates
 * the one scheduler in place (a changed SYNC_EVERY replaces the interval); never remove-then-add
 * (bullmq#3063).
 */
import { JOBS, SCHEDULER_IDS } from './catalogue.js';
import type { Queues } from './queues.js';

export async function upsertSchedules(
  queues: Queues,
  schedule: { everyMs: number; reconcileCron: string },
): Promise<void> {
  const sync = queues.byName.sync;
  await sync.upsertJobScheduler(
    SCHEDULER_IDS.sync,
    { every: schedule.everyMs },
    {
      name: 'sync-run',
      data: JOBS['sync-run'].schema.parse({ trigger: 'schedule', scheduled: true }),
      opts: JOBS['sync-run'].options(),
    },
  );
  await sync.upsertJobScheduler(
    SCHEDULER_IDS.reconcile,
    { pattern: schedule.reconcileCron, tz: 'UTC' },
    {
      name: 'reconcile',
      data: JOBS.reconcile.schema.parse({ trigger: 'schedule', scheduled: true }),
      opts: JOBS.reconcile.options(),
    },
  );
}
