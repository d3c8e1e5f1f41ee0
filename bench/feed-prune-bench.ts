/**
 * What the feed's retention costs: the batched delete the feed-prune job ran before the feed was
 * partitioned, against the drop of a day's partition it runs now (docs/feed.md, "Retention"), on
 * the same changes, in one run, on a PostgreSQL server of its own (full_page_writes on, as in
 * production, so that the WAL is what a server would write and ship to its replicas).
 *
 * The changes are made with SQL, not through the copy: N positions spread evenly over D whole
 * UTC days before today, in both layouts — `bench_feed_plain` as migration 0023 made `sync_feed`
 * (one table, primary key (xid, id), the roots' index) and `sync_feed` as it is now. Their audit
 * rows are not made: neither way of pruning reads or writes `sync_audit`. Autovacuum is off for the
 * two tables so that neither measure pays for the other's clean-up; the delete's deferred cost, the
 * VACUUM its dead rows need, is measured apart. A checkpoint precedes each measure: the first
 * change to a page after one writes the whole page to the WAL, as it would on a server.
 *
 * - delete: the oldest day's changes, 10,000 per transaction in position order, each batch's
 *   horizon moved in its transaction: the statements src/feed/prune.ts ran, with the day's end as
 *   the cut-off instead of `now() - FEED_RETENTION_DAYS`;
 * - drop: `pruneFeed` with a retention of D - 1 days, which drops that same day's partition.
 *
 * For each: wall time, WAL bytes (`pg_current_wal_lsn()` before and after), and the table's size
 * with its indexes afterwards (the delete's space stays with the table: a VACUUM makes it reusable,
 * never smaller).
 *
 * Then what the conversion costs once: migrations 0032 and 0033 run on a database at 0031 whose
 * `sync_feed` holds the same N changes (wall time and WAL; writers of the copy wait meanwhile).
 * And what the trigger's look-up of a root's last position costs on each layout: the
 * unpartitioned feed's roots index before, one probe of `sync_feed_root` (and its upsert) now.
 *
 * `npx tsx bench/feed-prune-bench.ts [--changes N] [--days D] [--json]`;
 * `npm run bench -- feed-prune`.
 */
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { createDb, type Db, type DbHandle } from '../src/db/create-db.js';
import { runMigrations } from '../src/db/migrate.js';
import { rowsOf } from '../src/db/sql-rows.js';
import { feedPartitionOf } from '../src/feed/feed-partitions.js';
import { pruneFeed } from '../src/feed/prune.js';
import { startLocalPostgres } from '../test/helpers/local-services.js';
import { migrationsBefore } from '../test/helpers/migrations.js';
import { parseBenchArgs } from './bench-args.js';

const DAY_MS = 86_400_000;
/** The batch src/feed/prune.ts deleted per transaction before the feed was partitioned. */
const DELETE_BATCH = 10_000;

export interface FeedPruneMeasure {
  readonly changes: number;
  readonly seconds: number;
  readonly walBytes: number;
  /** Table and indexes, before and after (and, for the delete, after the VACUUM it needs). */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

export interface FeedPruneBenchResult {
  readonly changes: number;
  readonly days: number;
  readonly seedSeconds: number;
  readonly delete: FeedPruneMeasure & {
    readonly batches: number;
    readonly vacuumSeconds: number;
    readonly vacuumWalBytes: number;
    readonly bytesAfterVacuum: number;
  };
  readonly drop: FeedPruneMeasure;
  /** Migrations 0032 and 0033 on a feed of `changes`. */
  readonly migration: { readonly seconds: number; readonly walBytes: number };
  /**
   * The feed trigger's cost per statement (one root and its ten lines), its look-up of the root's
   * last position included, on the unpartitioned feed and on the partitioned one (µs, wall).
   */
  readonly trigger: {
    readonly statements: number;
    readonly plainMicros: number;
    readonly partitionedMicros: number;
    readonly partitions: number;
  };
}

async function one<T>(db: Db, query: ReturnType<typeof sql>): Promise<T> {
  const [row] = rowsOf<T>(await db.execute(query));
  if (!row) throw new Error('no row');
  return row;
}

const walLsn = (db: Db) =>
  one<{ lsn: string }>(db, sql`select pg_current_wal_lsn()::text as lsn`).then((r) => r.lsn);

async function walSince(db: Db, lsn: string): Promise<number> {
  const row = await one<{ bytes: string }>(
    db,
    sql`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${lsn}::pg_lsn)::bigint::text as bytes`,
  );
  return Number(row.bytes);
}

const plainBytes = (db: Db) =>
  one<{ bytes: string }>(
    db,
    sql`select pg_total_relation_size('bench_feed_plain')::text as bytes`,
  ).then((r) => Number(r.bytes));

const partitionedBytes = (db: Db) =>
  one<{ bytes: string }>(
    db,
    sql`select coalesce(sum(pg_total_relation_size(relid)), 0)::bigint::text as bytes
        from pg_partition_tree('sync_feed') where isleaf`,
  ).then((r) => Number(r.bytes));

/** Wall time, WAL and result of `work`, after a checkpoint. */
async function measure<T>(db: Db, work: () => Promise<T>) {
  await db.execute(sql`checkpoint`);
  const lsn = await walLsn(db);
  const startedMs = performance.now();
  const result = await work();
  const seconds = (performance.now() - startedMs) / 1_000;
  return { result, seconds, walBytes: await walSince(db, lsn) };
}

/** Both layouts filled with the same changes over `days` whole UTC days before today. */
async function seed(db: Db, changes: number, days: number): Promise<void> {
  const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
  const first = new Date(today.getTime() - days * DAY_MS);
  // The table as migration 0023 made sync_feed, its indexes built once filled.
  await db.execute(sql`
    create table bench_feed_plain (xid xid8 not null, id bigint not null, family text not null,
      root_odoo_id integer, created_at timestamptz not null default now())
    with (autovacuum_enabled = false)`);
  await insertChanges(db, 'bench_feed_plain', changes, days);
  await db.execute(sql`alter table bench_feed_plain add primary key (xid, id)`);
  await db.execute(sql`
    create index bench_feed_plain_root_idx on bench_feed_plain (family, root_odoo_id, xid)`);
  await db.execute(sql`
    create table bench_feed_plain_horizon (key smallint primary key, xid xid8 not null,
      id bigint not null, pruned_at timestamptz)`);
  await db.execute(sql`insert into bench_feed_plain_horizon values (1, '0', 0, null)`);

  // The partitioned feed: a partition per day, the same rows, indexes built once filled.
  for (let day = 0; day < days; day += 1) {
    const partition = feedPartitionOf(new Date(first.getTime() + day * DAY_MS));
    await db.execute(sql`
      create table ${sql.identifier(partition.name)} partition of sync_feed
      for values from (${sql.raw(`'${partition.from.toISOString()}'`)})
      to (${sql.raw(`'${partition.to.toISOString()}'`)}) with (autovacuum_enabled = false)`);
  }
  await db.execute(sql`alter table sync_feed drop constraint sync_feed_xid_id_created_at_pk`);
  await db.execute(sql`
    insert into sync_feed (xid, id, family, root_odoo_id, created_at)
    select xid, id, family, root_odoo_id, created_at from bench_feed_plain`);
  await db.execute(sql`
    alter table sync_feed add constraint sync_feed_xid_id_created_at_pk
    primary key (xid, id, created_at)`);
  // Each root's last position, as migration 0033 keeps it beside the feed for the trigger.
  await db.execute(sql`
    insert into sync_feed_root (family, root_odoo_id, xid)
    select family, root_odoo_id, max(xid) from sync_feed where root_odoo_id is not null
    group by family, root_odoo_id`);
  await db.execute(sql`vacuum analyze bench_feed_plain`);
  await db.execute(sql`vacuum analyze sync_feed`);
  await db.execute(sql`vacuum analyze sync_feed_root`);
}

/**
 * Migrations 0032 and 0033 on a database at 0031 whose `sync_feed` holds `changes` made as `seed` makes
 * them (its indexes built once filled), in a database of its own on the same server.
 */
async function measureMigration(db: Db, url: string, changes: number, days: number) {
  await db.execute(sql`create database bench_migration`);
  const handle = await createDb({
    url: url.replace(/\/postgres$/, '/bench_migration'),
    poolMax: 1,
  });
  const before = migrationsBefore('0032_feed_partitions');
  try {
    await runMigrations(handle, before.dir);
    const target = handle.db;
    await target.execute(sql`alter table sync_feed drop constraint sync_feed_xid_id_pk`);
    await target.execute(sql`drop index sync_feed_root_idx`);
    await insertChanges(target, 'sync_feed', changes, days);
    await target.execute(sql`
      alter table sync_feed add constraint sync_feed_xid_id_pk primary key (xid, id)`);
    await target.execute(sql`
      create index sync_feed_root_idx on sync_feed (family, root_odoo_id, xid)`);
    await target.execute(sql`vacuum analyze sync_feed`);
    const plainTriggerMicros = await triggerMicros(target);
    const migrating = await measure(target, () => runMigrations(handle));
    return { seconds: migrating.seconds, walBytes: migrating.walBytes, plainTriggerMicros };
  } finally {
    await handle.close();
    before.remove();
  }
}

/** Audit statements the trigger is timed on, each one root's: its BC and ten lines. */
const TRIGGER_STATEMENTS = 5_000;

/**
 * What the feed's trigger adds to `TRIGGER_STATEMENTS` statements writing audit rows of roots the
 * feed already holds changes of (so each look-up finds one), in one DO block: the block's wall
 * time with the trigger on less with it off, alternately, the smaller of two each.
 */
async function triggerMicros(db: Db): Promise<number> {
  let base = Number(
    (await one<{ id: string }>(db, sql`select coalesce(max(id), 0)::text as id from sync_audit`))
      .id,
  );
  const block = async (enabled: boolean) => {
    await db.execute(
      enabled
        ? sql`alter table sync_audit enable trigger sync_feed_append`
        : sql`alter table sync_audit disable trigger sync_feed_append`,
    );
    const startedMs = performance.now();
    await db.execute(
      sql.raw(`do $$ begin
        for r in 1..${TRIGGER_STATEMENTS} loop
          insert into sync_audit (family, model, odoo_id, root_odoo_id, action)
          select 'bcs', 'dimagaz.bc.line', ${base} + r * 100 + g, r * 37 % 200000, 'updated'
          from generate_series(0, 10) g;
        end loop; end $$`),
    );
    base += TRIGGER_STATEMENTS * 100 + 100;
    return performance.now() - startedMs;
  };
  const off: number[] = [];
  const on: number[] = [];
  for (let round = 0; round < 2; round += 1) {
    off.push(await block(false));
    on.push(await block(true));
  }
  await db.execute(sql`alter table sync_audit enable trigger sync_feed_append`);
  return ((Math.min(...on) - Math.min(...off)) * 1_000) / TRIGGER_STATEMENTS;
}

/**
 * `changes` positions over `days` whole UTC days before today into `table`. Positions follow
 * time, as transaction ids do: xids are kept below the server's own (a fake xid above it would be
 * a change still held back behind the xmin), many changes to one xid.
 */
async function insertChanges(db: Db, table: string, changes: number, days: number) {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const first = new Date(today - days * DAY_MS);
  const { xid } = await one<{ xid: string }>(db, sql`select pg_current_xact_id()::text as xid`);
  const xidSpan = Number(xid) - 10;
  if (xidSpan < 100) throw new Error(`too few transaction ids to spread positions over: ${xid}`);
  await db.execute(sql`
    insert into ${sql.identifier(table)} (xid, id, family, root_odoo_id, created_at)
    select (5 + (g::numeric * ${xidSpan} / ${changes})::bigint)::text::xid8, g, 'bcs', g % 200000,
      ${first.toISOString()}::timestamptz + (g::numeric / ${changes} * ${days}) * interval '1 day'
    from generate_series(0, ${changes - 1}::int) g`);
}

/** The delete src/feed/prune.ts ran, on the unpartitioned table, to a fixed cut-off. */
async function deleteBefore(db: Db, cutoff: Date): Promise<{ deleted: number; batches: number }> {
  let deleted = 0;
  let batches = 0;
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const rows = rowsOf<{ xid: string; id: string; old: boolean }>(
        await tx.execute(sql`
          with snap as materialized (select pg_snapshot_xmin(pg_current_snapshot()) as xmin)
          select f.xid::text as xid, f.id::text as id,
            f.created_at < ${cutoff.toISOString()}::timestamptz and f.xid < snap.xmin as old
          from bench_feed_plain f, snap order by f.xid, f.id limit ${DELETE_BATCH}`),
      );
      const keptAt = rows.findIndex((row) => !row.old);
      const doomed = keptAt < 0 ? rows : rows.slice(0, keptAt);
      const last = doomed.at(-1);
      if (!last) return { count: 0, full: false };
      await tx.execute(sql`
        delete from bench_feed_plain where (xid, id) <= (${last.xid}::xid8, ${last.id}::bigint)`);
      await tx.execute(sql`
        update bench_feed_plain_horizon set xid = ${last.xid}::xid8, id = ${last.id}::bigint, pruned_at = now()
        where (xid, id) < (${last.xid}::xid8, ${last.id}::bigint)`);
      return { count: doomed.length, full: keptAt < 0 && rows.length === DELETE_BATCH };
    });
    deleted += batch.count;
    batches += 1;
    if (!batch.full) break;
  }
  return { deleted, batches };
}

export async function runFeedPruneBench(input: {
  changes: number;
  days: number;
}): Promise<FeedPruneBenchResult> {
  const pg = await startLocalPostgres({ full_page_writes: 'on', max_wal_size: '4GB' });
  let handle: DbHandle | undefined;
  try {
    handle = await createDb({ url: pg.url, poolMax: 1 });
    await runMigrations(handle);
    const { db } = handle;
    const seedStarted = performance.now();
    await seed(db, input.changes, input.days);
    const seedSeconds = (performance.now() - seedStarted) / 1_000;
    process.stderr.write(`seeded ${input.changes} changes twice in ${seedSeconds.toFixed(0)} s\n`);

    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const secondDay = new Date(today - (input.days - 1) * DAY_MS);
    const plainBefore = await plainBytes(db);
    const deleting = await measure(db, () => deleteBefore(db, secondDay));
    const plainAfter = await plainBytes(db);
    const vacuuming = await measure(db, () => db.execute(sql`vacuum bench_feed_plain`));
    const deleteResult = {
      changes: deleting.result.deleted,
      batches: deleting.result.batches,
      seconds: deleting.seconds,
      walBytes: deleting.walBytes,
      bytesBefore: plainBefore,
      bytesAfter: plainAfter,
      vacuumSeconds: vacuuming.seconds,
      vacuumWalBytes: vacuuming.walBytes,
      bytesAfterVacuum: await plainBytes(db),
    };
    process.stderr.write(`delete: ${JSON.stringify(deleteResult)}\n`);

    const partitionedBefore = await partitionedBytes(db);
    const dropping = await measure(db, () => pruneFeed(db, input.days - 1));
    if (dropping.result.dropped.length !== 1)
      throw new Error(`expected one partition dropped, got ${dropping.result.dropped.join(', ')}`);
    const dropResult = {
      changes: dropping.result.deleted,
      seconds: dropping.seconds,
      walBytes: dropping.walBytes,
      bytesBefore: partitionedBefore,
      bytesAfter: await partitionedBytes(db),
    };
    process.stderr.write(`drop: ${JSON.stringify(dropResult)}\n`);
    const partitionedTriggerMicros = await triggerMicros(db);
    const { partitions } = await one<{ partitions: number }>(
      db,
      sql`select count(*)::int as partitions from pg_partition_tree('sync_feed') where isleaf`,
    );
    const { plainTriggerMicros, ...migration } = await measureMigration(
      db,
      pg.url,
      input.changes,
      input.days,
    );
    process.stderr.write(`migrations 0032 and 0033: ${JSON.stringify(migration)}\n`);
    const trigger = {
      statements: TRIGGER_STATEMENTS,
      plainMicros: plainTriggerMicros,
      partitionedMicros: partitionedTriggerMicros,
      partitions,
    };
    process.stderr.write(`trigger: ${JSON.stringify(trigger)}\n`);
    if (dropResult.changes !== deleteResult.changes)
      throw new Error(
        `the drop took ${dropResult.changes} changes, the delete ${deleteResult.changes}`,
      );
    return {
      changes: input.changes,
      days: input.days,
      seedSeconds,
      delete: deleteResult,
      drop: dropResult,
      migration,
      trigger,
    };
  } finally {
    await handle?.close();
    await pg.stop();
  }
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

export function describeFeedPruneBench(result: FeedPruneBenchResult): string[] {
  const { delete: del, drop } = result;
  return [
    `feed retention, ${result.changes.toLocaleString('en-US')} changes over ${result.days} days, one day's ${del.changes.toLocaleString('en-US')} pruned (seeded in ${result.seedSeconds.toFixed(0)} s):`,
    `  batched delete (${del.batches} transactions): ${del.seconds.toFixed(2)} s, WAL ${mb(del.walBytes)}, table+indexes ${mb(del.bytesBefore)} -> ${mb(del.bytesAfter)}`,
    `    then the VACUUM it needs: ${del.vacuumSeconds.toFixed(2)} s, WAL ${mb(del.vacuumWalBytes)}, table+indexes ${mb(del.bytesAfterVacuum)}`,
    `  partition drop: ${drop.seconds.toFixed(3)} s, WAL ${mb(drop.walBytes)}, table+indexes ${mb(drop.bytesBefore)} -> ${mb(drop.bytesAfter)}`,
    `migrations 0032 and 0033 (the feed copied into day partitions, each root's last position kept): ${result.migration.seconds.toFixed(1)} s, WAL ${mb(result.migration.walBytes)}`,
    `the feed trigger per statement of a root and ten lines (${result.trigger.statements}): ${result.trigger.plainMicros.toFixed(0)} µs unpartitioned, ${result.trigger.partitionedMicros.toFixed(0)} µs on ${result.trigger.partitions} partitions`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseBenchArgs({
    command: 'npx tsx bench/feed-prune-bench.ts',
    about:
      "What the feed's retention costs: the batched delete the feed-prune job ran before the feed was partitioned against the drop of a day's partition it runs now, on the same changes (time, WAL, size); then migrations 0032 and 0033 on them, and the feed trigger's look-up on each layout.",
    options: {
      changes: {
        type: 'string',
        value: 'N',
        default: '10000000',
        number: 'whole',
        about: 'changes in the feed, spread evenly over the days',
      },
      days: {
        type: 'string',
        value: 'D',
        default: '10',
        number: 'whole',
        about: 'whole UTC days before today the changes span; the oldest is pruned',
      },
      json: {
        type: 'boolean',
        default: false,
        about: 'print the result as JSON too, after the text',
      },
    },
    examples: [
      'npx tsx bench/feed-prune-bench.ts --changes 1000000 --days 5',
      'npm run bench -- feed-prune',
    ],
  });
  const result = await runFeedPruneBench({
    changes: Number(values.changes),
    days: Number(values.days),
  });
  for (const line of describeFeedPruneBench(result)) process.stdout.write(`${line}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}
