/**
 * The job schedulers, upserted from one place at worker start: for each family copied, its
 * incremental sync every `everyMs` and its reconcile at its cron. Upserting with the same id
 * updates the one scheduler in place (a changed interval replaces it); never remove-then-add
 * (bullmq#3063). Schedulers of families no longer copied (and the pre-family ones) are removed,
 * so they stop queuing runs nobody handles.
 */
import type { RecordFamily } from '../families/family.js';
import { JOBS, schedulerIds } from './catalogue.js';
import type { Queues } from './queues.js';

export interface ScheduleDefaults {
  /** SYNC_EVERY. */
  readonly everyMs: number;
  /** SYNC_RECONCILE_CRON. */
  readonly reconcileCron: string;
}

export async function upsertSchedules(
  queues: Queues,
  families: readonly RecordFamily[],
  defaults: ScheduleDefaults,
): Promise<void> {
  const sync = queues.byName.sync;
  const wanted = new Set<string>();
  for (const family of families) {
    const ids = schedulerIds(family.name);
    wanted.add(ids.sync).add(ids.reconcile);
    await sync.upsertJobScheduler(
      ids.sync,
      { every: family.schedule.everyMs ?? defaults.everyMs },
      {
        name: 'sync-run',
        data: JOBS['sync-run'].schema.parse({
          family: family.name,
          trigger: 'schedule',
          scheduled: true,
        }),
        opts: JOBS['sync-run'].options(),
      },
    );
    await sync.upsertJobScheduler(
      ids.reconcile,
      { pattern: family.schedule.reconcileCron ?? defaults.reconcileCron, tz: 'UTC' },
      {
        name: 'reconcile',
        data: JOBS.reconcile.schema.parse({
          family: family.name,
          trigger: 'schedule',
          scheduled: true,
        }),
        opts: JOBS.reconcile.options(),
      },
    );
  }
  for (const scheduler of await sync.getJobSchedulers()) {
    if (!wanted.has(scheduler.key)) await sync.removeJobScheduler(scheduler.key);
  }
}
