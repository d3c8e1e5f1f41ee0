/**
 * What the webhook inbox's queries cost when it is large: a flood of events that reads settle more
 * slowly than they come, up to the bound of each source (src/sync/webhook-inbox.ts,
 * ODOO_WEBHOOK_INBOX_MAX_EVENTS). The inbox holds N events of F families (two per source, every
 * family alike), on a PostgreSQL server of its own; a worker copies one source's two families.
 * Each query runs as the product runs it, in a transaction rolled back so that every run sees the
 * same rows, the median of five:
 *
 * - a worker's pass, every 15 s: the events given up, the families retired, the events due taken
 *   and noted queued — when none is due (the common case), and when 500 of its families are;
 * - a worker's metrics reading, every 5 s: each family's events (up to 1,000) and the age of its
 *   oldest;
 * - the API's count of a source's events against its bound (once a minute, every 5 s while full);
 * - a job's look-up of its root's events.
 *
 * Beside them, on the same rows in a table of the layout before migration 0036
 * (`bench_inbox_before`: no `due_at`, its index on `queued_at`), the pass and the metrics reading
 * as the version before ran them. Both tables are vacuumed and analyzed once filled, as
 * autovacuum leaves them.
 *
 * `npm run bench -- webhook-inbox`.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../src/db/create-db.js';
import { rowsOf, textArray } from '../src/db/sql-rows.js';
import { RETIRED_AFTER_MS } from '../src/queues/schedules.js';
import {
  countKeptWebhooks,
  pendingWebhooks,
  readUnsettledWebhooks,
  retireWebhooks,
  settleUnseenWebhooks,
  takeUnsettledWebhooks,
} from '../src/sync/webhook-inbox.js';
import { onMigratedPostgres } from './migrated-postgres.js';

/** Events a pass takes at once (workers/webhook-requeue.ts). */
const BATCH = 500;
/** Runs of each query; the median is kept. */
const RUNS = 5;

export interface WebhookInboxBenchResult {
  readonly events: number;
  readonly families: number;
  readonly seedSeconds: number;
  /** Milliseconds, the median of {@link RUNS}. */
  readonly before: {
    readonly quietPassMs: number;
    readonly busyPassMs: number;
    readonly metricsMs: number;
  };
  readonly after: {
    readonly quietPassMs: number;
    readonly busyPassMs: number;
    readonly metricsMs: number;
    readonly boundCountMs: number;
    readonly jobLookupMs: number;
  };
}

const familyName = (at: number) => `s${Math.floor(at / 2)}.${at % 2 === 0 ? 'bcs' : 'partners'}`;

/**
 * The inbox, and the table of the layout before 0036, with the same events: `events` spread over
 * `families`, received within the last half hour, queued again a fourth time within the last
 * minute and due 16 minutes after (so that none comes due while the bench runs); then 500 of the
 * worker's first family made due (queued once, two hours ago).
 */
async function seed(db: Db, events: number, families: number): Promise<void> {
  const names = textArray(Array.from({ length: families }, (_, at) => familyName(at)));
  await db.execute(sql`
    insert into sync_webhook_inbox
      (family, model, record_id, root_id, write_date, deleted, received_at, queued_at, requeues, due_at)
    select (${names}::text[])[1 + g % ${families}], 'dimagaz.bc', 1 + g / ${families},
      1 + g / ${families}, '2026-11-26 10:00:00', false,
      now() - (g % 1800) * interval '1 second', now() - (g % 50) * interval '1 second', 4,
      now() - (g % 50) * interval '1 second' + interval '16 minutes'
    from generate_series(0, ${events - 1}::int) g`);
  await db.execute(sql`
    update sync_webhook_inbox set queued_at = now() - interval '2 hours', requeues = 0,
      due_at = now() - interval '2 hours' + interval '1 minute'
    where id in (select id from sync_webhook_inbox where family = ${familyName(0)}
      order by id limit ${BATCH})`);
  // The layout before migration 0036, filled alike, its indexes built once filled.
  await db.execute(sql`
    create table bench_inbox_before (id bigserial primary key, family text not null,
      model text not null, record_id integer not null, root_id integer, write_date text,
      deleted boolean not null, received_at timestamptz not null default now(),
      queued_at timestamptz not null default now(), requeues smallint not null default 0)`);
  await db.execute(sql`
    insert into bench_inbox_before
      (id, family, model, record_id, root_id, write_date, deleted, received_at, queued_at, requeues)
    select id, family, model, record_id, root_id, write_date, deleted, received_at, queued_at,
      requeues
    from sync_webhook_inbox`);
  await db.execute(
    sql`create index bench_inbox_before_queued_idx on bench_inbox_before (queued_at)`,
  );
  await db.execute(
    sql`create index bench_inbox_before_root_idx on bench_inbox_before (family, root_id)`,
  );
  await db.execute(sql`vacuum analyze sync_webhook_inbox`);
  await db.execute(sql`vacuum analyze bench_inbox_before`);
}

/** The pass of the version before 0036: its one statement. */
const passBefore = (families: readonly string[]): SQL => sql`
  with due as (
    select id from bench_inbox_before
    where family = any(${textArray(families)}::text[])
      and (queued_at < now() - least(60000::bigint << least(requeues, 16), 3600000::bigint)
        * interval '1 millisecond'
        or queued_at < ${null}::timestamptz)
    order by id
    limit ${BATCH}
    for update skip locked)
  update bench_inbox_before i set queued_at = now(), requeues = least(i.requeues + 1, 32767)
  from due where i.id = due.id
  returning i.id::text as id, i.family, i.model, i.record_id, i.root_id, i.write_date,
    i.deleted, i.received_at`;

/** The metrics reading of the version before 0036. */
const metricsBefore = sql`
  select family, count(*)::int as events,
    extract(epoch from now() - min(received_at))::float8 as oldest_seconds
  from bench_inbox_before group by family order by family`;

class RolledBack extends Error {}

/** Wall time of `work` in a transaction rolled back, milliseconds: the median of RUNS. */
async function timed(db: Db, work: (tx: Db) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    await db
      .transaction(async (tx) => {
        const startedMs = performance.now();
        await work(tx);
        times.push(performance.now() - startedMs);
        throw new RolledBack();
      })
      .catch((error: unknown) => {
        if (!(error instanceof RolledBack)) throw error;
      });
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

/** A worker's pass as workers/webhook-requeue.ts makes it, one batch. */
async function passAfter(tx: Db, families: readonly string[]): Promise<number> {
  await settleUnseenWebhooks(tx, families, BATCH);
  await retireWebhooks(tx, families, RETIRED_AFTER_MS);
  return (await takeUnsettledWebhooks(tx, families, BATCH)).length;
}

export async function runWebhookInboxBench(input: {
  events: number;
  families: number;
}): Promise<WebhookInboxBenchResult> {
  return onMigratedPostgres(async ({ db }) => {
    const seedStarted = performance.now();
    await seed(db, input.events, input.families);
    const seedSeconds = (performance.now() - seedStarted) / 1_000;
    process.stderr.write(`seeded ${input.events} events twice in ${seedSeconds.toFixed(0)} s\n`);

    // The worker copies one source's two families; the first has 500 events due.
    const busy = [familyName(0), familyName(1)];
    const quiet = [familyName(2), familyName(3)];
    const taken = async (tx: Db, query: SQL) => rowsOf(await tx.execute(query)).length;
    const check = (what: string, count: number, expected: number) => {
      if (count !== expected) throw new Error(`${what}: ${count} events, expected ${expected}`);
    };
    const before = {
      quietPassMs: await timed(db, async (tx) =>
        check('pass before, quiet', await taken(tx, passBefore(quiet)), 0),
      ),
      busyPassMs: await timed(db, async (tx) =>
        check('pass before, busy', await taken(tx, passBefore(busy)), BATCH),
      ),
      metricsMs: await timed(db, async (tx) =>
        check('metrics before', await taken(tx, metricsBefore), input.families),
      ),
    };
    const perSource = (2 * input.events) / input.families;
    const after = {
      quietPassMs: await timed(db, async (tx) =>
        check('pass, quiet', await passAfter(tx, quiet), 0),
      ),
      busyPassMs: await timed(db, async (tx) =>
        check('pass, busy', await passAfter(tx, busy), BATCH),
      ),
      metricsMs: await timed(db, async (tx) =>
        check('metrics', (await readUnsettledWebhooks(tx)).length, input.families),
      ),
      boundCountMs: await timed(db, async (tx) =>
        check('bound', await countKeptWebhooks(tx, busy, 100_000), Math.min(perSource, 100_000)),
      ),
      jobLookupMs: await timed(db, async (tx) =>
        check(
          'job',
          (
            await pendingWebhooks(
              tx,
              {
                family: familyName(0),
                model: 'dimagaz.bc',
                recordId: 7,
                rootId: 7,
                deleted: false,
              },
              { throughId: Number.MAX_SAFE_INTEGER, unstamped: false },
            )
          ).length,
          1,
        ),
      ),
    };
    return { events: input.events, families: input.families, seedSeconds, before, after };
  });
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(0));

export function describeWebhookInboxBench(result: WebhookInboxBenchResult): string[] {
  const { before, after } = result;
  return [
    `webhook inbox of ${result.events.toLocaleString('en-US')} events, ${result.families} families (seeded in ${result.seedSeconds.toFixed(0)} s), median of ${RUNS}, before migration 0036 -> now:`,
    `  a worker's pass (every 15 s), none of its events due: ${ms(before.quietPassMs)} ms -> ${ms(after.quietPassMs)} ms`,
    `  a worker's pass, ${BATCH} of its events due: ${ms(before.busyPassMs)} ms -> ${ms(after.busyPassMs)} ms`,
    `  a worker's metrics reading (every 5 s): ${ms(before.metricsMs)} ms -> ${ms(after.metricsMs)} ms`,
    `  the API's count of a source's events against its bound (once a minute, every 5 s while full): ${ms(after.boundCountMs)} ms`,
    `  a job's look-up of its root's events: ${ms(after.jobLookupMs)} ms`,
  ];
}
