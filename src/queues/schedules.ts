/**
 * The job schedulers, upserted from one place at worker start: for each family the worker copies
 * (one waiting for `migrate` too: it runs as soon as it is migrated), its incremental sync every
 * `everyMs` (queue `sync`) and its reconcile at its cron (queue `sync-reconcile`). Upserting with
 * the same id updates the one scheduler in place (a changed interval replaces it); never
 * remove-then-add (BullMQ may then never queue the scheduler's next job).
 *
 * Workers of one fleet may copy different families (`SYNC_FAMILIES`): no worker removes the
 * schedulers of a family another one copies. Every worker notes the families it copies in
 * `sync_family_seen`, at start and then every `FAMILIES_SEEN_EVERY_MS` (`markFamiliesSeen`); a
 * family's schedulers
 * are removed once no worker has noted it for `RETIRED_AFTER_MS` — it is copied nowhere, and its
 * runs would wait for a worker that never comes. Schedulers of no family (an older version's) are
 * removed, and so is a reconcile scheduler an older version left on the `sync` queue.
 */
import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { syncFamilySeen } from '../db/schema/index.js';
import type { FamilySchedule } from '../families/family.js';
import { splitFamilyKey } from '../sources/family-key.js';
import { JOBS, schedulerIds } from './catalogue.js';
import type { Queues } from './queues.js';
import { queueOfName } from './source-queues.js';

export interface ScheduleDefaults {
  /** SYNC_EVERY. */
  readonly everyMs: number;
  /** SYNC_RECONCILE_CRON. */
  readonly reconcileCron: string;
}

/** A family as its schedulers need it. */
export interface ScheduledFamily {
  readonly name: string;
  readonly schedule: FamilySchedule;
}

/** How often a running worker notes the families it copies. */
export const FAMILIES_SEEN_EVERY_MS = 10 * 60_000;
/**
 * How long a family's schedulers, and its webhook events (src/sync/webhook-inbox.ts), outlive the
 * last worker that copied it.
 */
export const RETIRED_AFTER_MS = 24 * 3_600_000;

/**
 * How many minutes a family's reconcile is moved from the default cron: 0 to 59, from its name
 * alone, so that every worker of a fleet computes the same.
 */
export function staggerMinutes(familyName: string): number {
  return createHash('sha256').update(familyName).digest().readUInt32BE(0) % 60;
}

/**
 * The reconcile cron of a family whose declaration sets none: the default with its minute moved
 * by `staggerMinutes`, within the same hour (`0 3 * * *` becomes `17 3 * * *` for one family,
 * `42 3 * * *` for another): the families' nightly reconciles and verifies, each of which reads
 * a whole family from Odoo, do not all start at once. A default whose minute is not one number
 * (`*\/15`, `0,30`) is left as it is.
 */
export function staggeredCron(pattern: string, familyName: string): string {
  const fields = pattern.trim().split(/\s+/);
  // Five fields, or six with the seconds first.
  const at = fields.length === 6 ? 1 : 0;
  const minute = fields[at];
  if (fields.length < 5 || minute === undefined || !/^\d{1,2}$/.test(minute)) return pattern;
  fields[at] = String((Number(minute) + staggerMinutes(familyName)) % 60);
  return fields.join(' ');
}

/** When a worker last noted that it copies `family` (epoch ms), if one ever did. */
export async function familyLastSeen(db: Db, family: string): Promise<number | undefined> {
  const [row] = await db
    .select({ seenAt: syncFamilySeen.seenAt })
    .from(syncFamilySeen)
    .where(eq(syncFamilySeen.family, family));
  return row?.seenAt.getTime();
}

/** Notes that a worker copies these families now (see the module's header). */
export async function markFamiliesSeen(
  db: Db,
  names: readonly string[],
  now = Date.now(),
): Promise<void> {
  if (names.length === 0) return;
  const seenAt = new Date(now);
  await db
    .insert(syncFamilySeen)
    .values(names.map((family) => ({ family, seenAt })))
    .onConflictDoUpdate({
      target: syncFamilySeen.family,
      set: { seenAt: sql`excluded.seen_at` },
    });
}

export async function upsertSchedules(
  queues: Queues,
  db: Db,
  families: readonly ScheduledFamily[],
  defaults: ScheduleDefaults,
): Promise<void> {
  await markFamiliesSeen(
    db,
    families.map((family) => family.name),
  );
  for (const family of families) {
    const ids = schedulerIds(family.name);
    await queues.ofFamily('sync', family.name).upsertJobScheduler(
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
    await queues.ofFamily('sync-reconcile', family.name).upsertJobScheduler(
      ids.reconcile,
      {
        pattern:
          family.schedule.reconcileCron ?? staggeredCron(defaults.reconcileCron, family.name),
        tz: 'UTC',
      },
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
  await retireSchedulers(queues, db, new Set(families.map((family) => family.name)));
}

/**
 * Upserts the schedulers again when Redis no longer holds one of them — a Redis that came back
 * empty (a lost disk, a failover to a replica that had not received them) — so that scheduled
 * runs and reconciles go on without a worker's restart; the names of the families whose schedulers
 * were missing. Nothing is written when all are there (an upsert of a scheduler that exists may
 * move its next run).
 */
export async function restoreMissingSchedules(
  queues: Queues,
  db: Db,
  families: readonly ScheduledFamily[],
  defaults: ScheduleDefaults,
): Promise<string[]> {
  const missing: string[] = [];
  for (const family of families) {
    const ids = schedulerIds(family.name);
    const [run, reconcile] = await Promise.all([
      queues.ofFamily('sync', family.name).getJobScheduler(ids.sync),
      queues.ofFamily('sync-reconcile', family.name).getJobScheduler(ids.reconcile),
    ]);
    if (!run || !reconcile) missing.push(family.name);
  }
  if (missing.length > 0)
    await upsertSchedules(
      queues,
      db,
      families.filter((family) => missing.includes(family.name)),
      defaults,
    );
  return missing;
}

/** The family a scheduler is for, by its id; undefined for a scheduler of no family. */
function familyOf(schedulerId: string, kind: 'sync' | 'reconcile'): string | undefined {
  const prefix = kind === 'sync' ? 'sync-every-' : 'reconcile-daily-';
  if (!schedulerId.startsWith(prefix)) return undefined;
  const family = schedulerId.slice(prefix.length);
  return schedulerIds(family)[kind] === schedulerId ? family : undefined;
}

/** Removes the schedulers no worker stands for (see the module's header). */
async function retireSchedulers(
  queues: Queues,
  db: Db,
  copiedHere: ReadonlySet<string>,
): Promise<void> {
  const seen = Object.fromEntries(
    (await db.select().from(syncFamilySeen)).map((row) => [row.family, row.seenAt.getTime()]),
  );
  const now = Date.now();
  const retired = new Set<string>();
  const stillWanted = async (family: string): Promise<boolean> => {
    if (copiedHere.has(family)) return true;
    const at = seen[family];
    // A family no worker noted yet (schedulers an older version upserted): it has its full time.
    if (at === undefined) {
      await db
        .insert(syncFamilySeen)
        .values({ family, seenAt: new Date(now) })
        .onConflictDoNothing();
      return true;
    }
    if (now - at <= RETIRED_AFTER_MS) return true;
    retired.add(family);
    return false;
  };
  // A reconcile scheduler an older version left on the `sync` queue is of no family there.
  // So is one on another source's queue (an older version kept every source's on the default's).
  const sweep = async (queue: Queue, kind: 'sync' | 'reconcile', source: string) => {
    for (const scheduler of await queue.getJobSchedulers()) {
      const family = familyOf(scheduler.key, kind);
      if (
        family === undefined ||
        splitFamilyKey(family).source !== source ||
        !(await stillWanted(family))
      )
        await queue.removeJobScheduler(scheduler.key);
    }
  };
  // Every source's queues this process has: another source's, it leaves to the workers that know it.
  for (const queue of queues.all) {
    const named = queueOfName(queue.name);
    if (named?.kind === 'sync') await sweep(queue, 'sync', named.source);
    if (named?.kind === 'sync-reconcile') await sweep(queue, 'reconcile', named.source);
  }
  if (retired.size > 0)
    await db.delete(syncFamilySeen).where(inArray(syncFamilySeen.family, [...retired]));
}
