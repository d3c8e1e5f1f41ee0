/**
 * What the change feed costs and how fast it delivers, on a PostgreSQL server of its own:
 *
 * - write cost: a first copy of BCs × lines through the product's writer (write-records.ts), into
 *   empty tables, with the feed's trigger on and off (`alter table … disable trigger`), alternately,
 *   each on a fresh connection, the CPU of the writer's one server backend counted from /proc (not
 *   every PostgreSQL process of a shared machine); the difference per record written is what the
 *   feed costs the copy;
 * - delivery: the same changes delivered from the oldest one to a local receiver that verifies
 *   every signature (dev/services/feed-receiver.ts), through the delivery step (src/feed/deliver.ts)
 *   a job runs, batched (FEED_DELIVERY_BATCH_MAX 100) and one change per message (a receiver that
 *   is caught up).
 *
 * `npx tsx bench/feed-bench.ts [--orders N] [--lines M] [--repeat R] [--json]`; `npm run bench -- feed`.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { createDb, type Db, type DbHandle } from '../src/db/create-db.js';
import { runMigrations } from '../src/db/migrate.js';
import { rowsOf } from '../src/db/sql-rows.js';
import { bcsFamily } from '../src/families/bcs/family.js';
import type { MappedRoot } from '../src/families/map-record.js';
import { deliverChanges } from '../src/feed/deliver.js';
import { createFeedSender } from '../src/feed/feed-sender.js';
import { parseAllowedHosts } from '../src/feed/receiver-address.js';
import { createSubscriptionSecrets, generateSecret } from '../src/feed/secret.js';
import { createSubscription } from '../src/feed/subscriptions.js';
import { EVERY_SOURCE } from '../src/sources/family-key.js';
import { writeRootBatches } from '../src/sync/write-records.js';
import { startFeedReceiver } from '../dev/services/feed-receiver.js';
import { fakeBc, fakeLine, mapBc } from '../test/helpers/seed-bcs.js';
import { startLocalPostgres } from '../test/helpers/local-services.js';
import { parseBenchArgs } from './bench-args.js';
import { cpuSecondsOf } from './sync-bench.js';
import { median } from './report.js';

export interface FeedBenchResult {
  readonly records: number;
  /** Medians of the writer backend's CPU seconds for the whole first copy. */
  readonly writeCpuSeconds: { readonly feedOff: number; readonly feedOn: number };
  /** What the feed adds to each record written, in µs of PostgreSQL CPU. */
  readonly feedMicrosPerRecord: number;
  readonly feedPercent: number;
  readonly delivery: readonly {
    readonly batchMax: number;
    readonly changes: number;
    readonly messages: number;
    readonly seconds: number;
    readonly changesPerSecond: number;
  }[];
}

function fakeCopy(orders: number, lines: number): MappedRoot[] {
  return Array.from({ length: orders }, (_, i) =>
    mapBc({
      bc: fakeBc(i + 1),
      lines: Array.from({ length: lines }, (__, n) =>
        fakeLine(i + 1, n + 1, { id: (i + 1) * 100 + n }),
      ),
    }),
  );
}

/** The CPU seconds the one backend of a single-connection pool spends on `work`. */
async function backendCpu(db: Db, work: () => Promise<unknown>): Promise<number> {
  const [row] = rowsOf<{ pid: number }>(await db.execute(sql`select pg_backend_pid() as pid`));
  const before = cpuSecondsOf(row!.pid);
  await work();
  return cpuSecondsOf(row!.pid) - before;
}

export async function runFeedBench(input: {
  orders: number;
  lines: number;
  repeat: number;
}): Promise<FeedBenchResult> {
  const items = fakeCopy(input.orders, input.lines);
  const records = input.orders * (1 + input.lines);
  const pg = await startLocalPostgres();
  let handle: DbHandle | undefined;
  const logger = pino({ level: 'warn' });
  try {
    handle = await createDb({ url: pg.url, poolMax: 1 });
    await runMigrations(handle);
    const { db } = handle;
    // Each copy on a connection of its own, as a fresh worker's first copy: statements prepared
    // by an earlier copy keep plans made for tables of another size (a later copy into emptied
    // tables then costs several times the CPU; docs/feed.md).
    const firstCopy = async (feed: boolean) => {
      await db.execute(
        sql`truncate scrap_dimagaz_bc_line, scrap_dimagaz_bc, sync_audit, sync_feed, sync_failure`,
      );
      await db.execute(sql`vacuum analyze`);
      await db.execute(
        feed
          ? sql`alter table sync_audit enable trigger sync_feed_append`
          : sql`alter table sync_audit disable trigger sync_feed_append`,
      );
      const writer = await createDb({ url: pg.url, poolMax: 1 });
      try {
        return await backendCpu(writer.db, () =>
          writeRootBatches(
            writer.db,
            bcsFamily,
            items,
            { runId: null, lease: null, trigger: 'bench' },
            logger,
          ),
        );
      } finally {
        await writer.close();
      }
    };
    const off: number[] = [];
    const on: number[] = [];
    // Alternately, so that a slower minute of a shared machine weighs on both.
    for (let i = 0; i < input.repeat; i += 1) {
      off.push(await firstCopy(false));
      on.push(await firstCopy(true));
      process.stderr.write(
        `first copy ${i + 1}: feed off ${off[i]!.toFixed(2)} s, on ${on[i]!.toFixed(2)} s CPU\n`,
      );
    }
    const feedOff = median(off);
    const feedOn = median(on);

    // The last copy's changes are in the feed: delivered from the oldest one.
    const secret = generateSecret();
    const receiver = await startFeedReceiver({ secret });
    // The bench's receiver listens on loopback: allowed here, explicitly.
    const sender = createFeedSender({ allowed: parseAllowedHosts(['127.0.0.1']).rules });
    const secrets = createSubscriptionSecrets({ secret: randomBytes(32).toString('base64') });
    const delivery: FeedBenchResult['delivery'][number][] = [];
    try {
      for (const batchMax of [100, 1]) {
        const subscription = await createSubscription(
          db,
          {
            name: `bench-${batchMax}`,
            url: receiver.url,
            secret,
            sources: [EVERY_SOURCE],
            families: [],
            models: [],
          },
          'oldest',
          secrets,
        );
        const startedMs = performance.now();
        let messages = 0;
        let changes = 0;
        const signal = new AbortController().signal;
        for (;;) {
          const outcome = await deliverChanges(
            {
              db,
              sender,
              logger,
              settings: {
                timeoutMs: 10_000,
                batchMax,
                backoffBaseMs: 100,
                backoffMaxMs: 1_000,
                giveUpMs: 60_000,
                turnMs: 60_000,
              },
              secrets,
            },
            { subscriptionId: subscription.id },
            signal,
          );
          messages += outcome.report.messages;
          changes += outcome.report.changes;
          if (outcome.kind === 'idle') break;
          if (outcome.kind !== 'more') throw new Error(`delivery stopped: ${outcome.kind}`);
        }
        const seconds = (performance.now() - startedMs) / 1_000;
        delivery.push({
          batchMax,
          changes,
          messages,
          seconds,
          changesPerSecond: changes / seconds,
        });
        process.stderr.write(
          `delivery, ${batchMax} per message: ${changes} changes in ${seconds.toFixed(1)} s\n`,
        );
      }
      if (receiver.badSignatures.length > 0) throw new Error('a delivery did not verify');
    } finally {
      await sender.close();
      await receiver.close();
    }
    return {
      records,
      writeCpuSeconds: { feedOff, feedOn },
      feedMicrosPerRecord: (1e6 * (feedOn - feedOff)) / records,
      feedPercent: (100 * (feedOn - feedOff)) / feedOff,
      delivery,
    };
  } finally {
    await handle?.close();
    await pg.stop();
  }
}

export function describeFeedBench(result: FeedBenchResult): string[] {
  return [
    `first copy of ${result.records.toLocaleString('en-US')} records, PostgreSQL CPU: ${result.writeCpuSeconds.feedOff.toFixed(2)} s without the feed, ${result.writeCpuSeconds.feedOn.toFixed(2)} s with it`,
    `feed write cost: ${result.feedMicrosPerRecord.toFixed(1)} µs of PostgreSQL CPU per record written (+${result.feedPercent.toFixed(0)} % on the writer's own)`,
    ...result.delivery.map(
      (d) =>
        `delivery to a local receiver, ${d.batchMax} change${d.batchMax === 1 ? '' : 's'} per message at most: ${d.changes.toLocaleString('en-US')} changes in ${d.messages.toLocaleString('en-US')} messages, ${d.seconds.toFixed(1)} s, ${Math.round(d.changesPerSecond).toLocaleString('en-US')} changes/s`,
    ),
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseBenchArgs({
    command: 'npx tsx bench/feed-bench.ts',
    about:
      "What the change feed costs and how fast it delivers: a first copy through the product's writer with the feed's trigger on and off, PostgreSQL's CPU per record; then the same changes delivered to a local receiver, batched and one per message.",
    options: {
      orders: {
        type: 'string',
        value: 'N',
        default: '20000',
        number: 'whole',
        about: 'BCs of the first copy',
      },
      lines: { type: 'string', value: 'M', default: '10', number: 'whole', about: 'lines per BC' },
      repeat: {
        type: 'string',
        value: 'R',
        default: '3',
        number: 'whole',
        about: 'first copies with the trigger off and on, in turn; their medians compared',
      },
      json: { type: 'boolean', default: false, about: 'print the result as JSON' },
    },
    examples: ['npx tsx bench/feed-bench.ts --orders 2000 --repeat 1', 'npm run bench -- feed'],
  });
  const result = await runFeedBench({
    orders: Number(values.orders),
    lines: Number(values.lines),
    repeat: Number(values.repeat),
  });
  process.stdout.write(
    values.json ? `${JSON.stringify(result)}\n` : `${describeFeedBench(result).join('\n')}\n`,
  );
}
