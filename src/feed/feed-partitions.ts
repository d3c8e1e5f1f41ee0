/**
 * The feed's day partitions (docs/feed.md, "Retention"): `sync_feed` is partitioned by the UTC day
 * a change was written (`created_at`), one partition `sync_feed_pYYYYMMDD` per day, and a default
 * partition, `sync_feed_default`, for a change whose day has none yet. This module makes the
 * partitions a writer will need before it needs them, and moves what the default partition caught
 * into its day's partition. Dropping old partitions is the retention's (src/feed/prune.ts).
 *
 * A partition is made as a table of its own, then attached: ATTACH takes a SHARE UPDATE EXCLUSIVE
 * lock on `sync_feed` (readers and writers go on), where CREATE TABLE … PARTITION OF would take an
 * ACCESS EXCLUSIVE one. Attaching checks that the default partition holds no change of the day,
 * under an ACCESS EXCLUSIVE lock of that partition: the default is kept empty, so that is brief.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { LockTimeoutError, isLockTimeout } from '../db/advisory-lock.js';
import { rowsOf } from '../db/sql-rows.js';

const DAY_MS = 86_400_000;
/** Days of partitions made ahead of today: a day of missed hourly runs, and one more. */
const DAYS_AHEAD = 2;
/**
 * How long making a partition waits for its locks (that of the default partition: readers and
 * writers queue behind the wait). The next run tries again.
 */
const LOCK_WAIT_MS = 1_000;
const PARTITION_NAME = /^sync_feed_p(\d{4})(\d{2})(\d{2})$/;

/** A day partition of the feed: the changes written from `from` (a UTC midnight) to `to`. */
export interface FeedPartition {
  readonly name: string;
  readonly from: Date;
  readonly to: Date;
}

/** The UTC midnight that starts the day of `at`. */
export function dayOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

/** The partition that holds the changes of the UTC day starting at `day`. */
export function feedPartitionOf(day: Date): FeedPartition {
  const from = dayOf(day);
  const name = `sync_feed_p${from.toISOString().slice(0, 10).replaceAll('-', '')}`;
  return { name, from, to: new Date(from.getTime() + DAY_MS) };
}

/** The day partitions attached to `sync_feed`, oldest first (the default partition apart). */
export async function listFeedPartitions(db: Db): Promise<FeedPartition[]> {
  const rows = rowsOf<{ name: string }>(
    await db.execute(sql`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'sync_feed'::regclass`),
  );
  return rows
    .map((row) => PARTITION_NAME.exec(row.name))
    .filter((match) => match !== null)
    .map((match) => feedPartitionOf(new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00Z`)))
    .sort((a, b) => a.from.getTime() - b.from.getTime());
}

/**
 * Makes the partitions of the days from today's to `daysAhead` days later that do not exist yet,
 * and moves each change the default partition holds into its day's partition (made for it), in
 * the transaction that attaches that partition: a reader sees each change once, at its position.
 * @returns the partitions it made
 * @throws LockTimeoutError when a lock was not granted within `lockWaitMs` (what was made stays)
 */
export async function ensureFeedPartitions(
  db: Db,
  options: { daysAhead?: number; lockWaitMs?: number } = {},
): Promise<FeedPartition[]> {
  const daysAhead = options.daysAhead ?? DAYS_AHEAD;
  const lockWaitMs = options.lockWaitMs ?? LOCK_WAIT_MS;
  const today = dayOf(new Date());
  const existing = new Set((await listFeedPartitions(db)).map((partition) => partition.name));
  const caught = rowsOf<{ day: string }>(
    await db.execute(sql`
      select distinct to_char((created_at at time zone 'UTC')::date, 'YYYY-MM-DD') as day
      from sync_feed_default`),
  ).map((row) => new Date(`${row.day}T00:00:00Z`));
  const wanted = [
    ...caught,
    ...Array.from(
      { length: daysAhead + 1 },
      (_, ahead) => new Date(today.getTime() + ahead * DAY_MS),
    ),
  ].map(feedPartitionOf);
  const made: FeedPartition[] = [];
  for (const partition of wanted) {
    if (existing.has(partition.name)) continue;
    existing.add(partition.name);
    if (await attachFeedPartition(db, partition, lockWaitMs)) made.push(partition);
  }
  return made;
}

async function attachFeedPartition(
  db: Db,
  partition: FeedPartition,
  lockWaitMs: number,
): Promise<boolean> {
  const table = sql.identifier(partition.name);
  const range = sql.identifier(`${partition.name}_range`);
  const from = partition.from.toISOString();
  const to = partition.to.toISOString();
  // DDL takes no parameters: the bounds as literals, ISO timestamps made here from dates.
  const fromLiteral = sql.raw(`'${from}'::timestamptz`);
  const toLiteral = sql.raw(`'${to}'::timestamptz`);
  try {
    return await db.transaction(async (tx) => {
      await tx.execute(sql`select set_config('lock_timeout', ${`${lockWaitMs}ms`}, true)`);
      // The parent first, then the default partition: the order every reader locks them in.
      // No writer adds to the default partition while its changes of the day move.
      await tx.execute(sql`lock table only sync_feed in share update exclusive mode`);
      await tx.execute(sql`lock table sync_feed_default in access exclusive mode`);
      const [present] = rowsOf<{ present: boolean }>(
        await tx.execute(sql`select to_regclass(${partition.name}) is not null as present`),
      );
      if (present?.present) return false; // another worker made it meanwhile
      await tx.execute(sql`create table ${table} (like sync_feed including defaults)`);
      // Lets ATTACH trust the bound without scanning the table.
      await tx.execute(sql`
        alter table ${table} add constraint ${range}
        check (created_at >= ${fromLiteral} and created_at < ${toLiteral})`);
      await tx.execute(sql`
        with moved as (
          delete from sync_feed_default
          where created_at >= ${from}::timestamptz and created_at < ${to}::timestamptz
          returning xid, id, family, root_odoo_id, created_at)
        insert into ${table} (xid, id, family, root_odoo_id, created_at)
        select xid, id, family, root_odoo_id, created_at from moved`);
      await tx.execute(sql`
        alter table sync_feed attach partition ${table}
        for values from (${fromLiteral}) to (${toLiteral})`);
      await tx.execute(sql`alter table ${table} drop constraint ${range}`);
      return true;
    });
  } catch (error) {
    if (isLockTimeout(error))
      throw new LockTimeoutError(`the feed's partition ${partition.name}`, lockWaitMs, error);
    throw error;
  }
}
