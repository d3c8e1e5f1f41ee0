/**
 * `npm run bench`: every benchmark, one after the other (they share two cores), then one table
 * with every figure the performance goals name (docs/performance.md), its goal and its ratio,
 * under the machine's Node and PostgreSQL versions. Never a pass/fail: timing belongs here, not in
 * tests. Ratios of timings are taken within one run, on the same data: CPU steal on a shared
 * machine moves absolute figures from one run to the next.
 *
 * 1. Sync: the product's worker against the bare pipeline (each compiled, in its own process,
 *    with the same Node options), a full copy of 20,000 BCs × 10 lines and a re-read after 10%
 *    changed, over XML-RPC and JSON-RPC; the worker's peak RSS, then again at 200,000 × 10.
 *    Over JSON-RPC, the seeds' plan done literally copies the same records after the product
 *    (bench/seeds-plan.ts): the copy's own cost against it, and the full copy's Odoo calls.
 *    The same BC models declared in a file (a configured family) against the bare pipeline copying
 *    that declaration (for context, against the bare pipeline of the BC tables and the BC family),
 *    and a verify of every record on a fresh worker.
 *    Where the writer's PostgreSQL time goes (bench/write-bench.ts).
 * 2. A fresh process: the Odoo calls of an idle `sync run`, and how long `sync status` takes.
 * 3. Tryton gateway and 4. the API: the production app under load from a client process; another
 *    key's reads while one key sends slow requests (bench/in-flight-bench.ts).
 * 5. Odoo codec and webhooks: figures for context.
 * 6. The change feed: its write cost per record of a first copy, and its delivery throughput
 *    (bench/feed-bench.ts).
 *    The feed's retention: the batched delete it ran before against the drop of a day's partition,
 *    one day of 10,000,000 changes, and migration 0032 on them (bench/feed-prune-bench.ts).
 * 7. Transports and the call budget: a full copy of 20,000 × 10 from Odoo 17.0 over the default
 *    transport (JSON-RPC there) against XML-RPC, and under ODOO_MAX_CALLS_PER_SECOND=5
 *    (bench/transport-bench.ts).
 * 8. One large value: a first copy holding a 100 MB text over JSON-RPC and XML-RPC, then reads
 *    and downloads of it at once, each process's peak RSS against its deployment's memory limit
 *    (bench/big-value-bench.ts).
 *    A record's large values: a first copy of 1,000 BCs with one holding four values of 99 MB
 *    and one a value of 300 MB (past ODOO_VALUE_MAX_BYTES), over each transport, then the API's
 *    reads and downloads of that record, each process's peak RSS against its limit
 *    (bench/large-values-bench.ts).
 * 9. The call budget's cost per call on Redis and on PostgreSQL, one process and four at once
 *    (bench/budget-bench.ts).
 * 10. The queues on Redis against the queues in PostgreSQL (QUEUE_BACKEND=postgres, no Redis): a
 *    full copy of 20,000 × 10 and its 10 % changed rerun over JSON-RPC, each store three times in
 *    turn; time, jobs per second, and the CPU of PostgreSQL and of the worker.
 * 11. Sources: another source's first copy of 100,000 BCs against the default source's webhook
 *    lag, and 100 sources × 2 families on one worker: memory, connections, Redis keys
 *    (bench/sources-bench.ts).
 * 12. A mass window: the compiled sync CLI's first copy of 250,000 BCs × 12 lines, then every
 *    record changed in one window, then every record new in one window, over each transport; its
 *    peak RSS against 250 MB (bench/mass-window-bench.ts).
 *    The run after such a window proves from the settling run's audit rows what it need not read
 *    again: one scan page of that proof, children of roots of 12 to 2,000 (bench/proof-bench.ts).
 * 13. The webhook inbox at 1,000,000 events: a worker's pass and metrics reading, the API's count
 *    against a source's bound, a job's look-up, against the pass and the reading before migration
 *    0036 on the same rows (bench/webhook-inbox-bench.ts).
 * 14. At a real Odoo's pace (opt-in, `npm run bench -- real-odoo`: it needs a real Odoo): the
 *    product's first copy and rerun against a bare reader, for `res.partner` and `account.move`
 *    (bench/real-odoo-bench.ts). BENCH_ODOO_START names a command that starts an Odoo and prints
 *    how to reach it, BENCH_ODOO_STOP one that stops it; unset, the bench starts Odoo 19.
 * 15. Chaos (opt-in, `npm run bench -- chaos`: about an hour): the ten-minute chaos runs that
 *    once found a defect, replayed on their queue stores, each with its line of the runs' table
 *    and its differences against 0 (bench/chaos-replays.ts, docs/chaos.md).
 *
 * `npm run bench -- sync` (or `configured`, `verify`, `write`, `memory`, `cold`, `tryton`, `api`,
 * `inflight`, `codec`, `webhook`, `webhook-inbox`, `feed`, `feed-prune`, `transport`, `bigvalue`,
 * `large-values`, `budget`, `queues`, `sources`, `mass`, `proof`, `real-odoo`, `chaos`) runs some. Each runs in a
 * process of its own, so none inherits what the ones before it left behind. `npm run bench --
 * --help` lists them.
 */
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { OdooProtocol } from '../src/clients/odoo/index.js';
import { measureApiGoals } from './api-bench.js';
import { parseBenchArgs } from './bench-args.js';
import { runColdRunBench } from './cold-run-bench.js';
import { measureInFlight } from './in-flight-bench.js';
import { runOdooCodecBench } from './odoo-codec.js';
import { atLeast, atMost, context, formatGoalTable, median, type GoalRow } from './report.js';
import { buildDist, type SyncBenchResult } from './sync-bench.js';
import { measureTrytonProxyGoals } from './tryton-proxy.js';
import { runWriteBench } from './write-bench.js';
import { postgresServerVersion } from '../test/helpers/local-services.js';
import { printWebhookBench, runWebhookBench } from './webhook-bench.js';
import { describeFeedBench, runFeedBench } from './feed-bench.js';
import { describeFeedPruneBench, runFeedPruneBench } from './feed-prune-bench.js';
import { describeWebhookInboxBench, runWebhookInboxBench } from './webhook-inbox-bench.js';
import { describeTransportBench, runTransportBench } from './transport-bench.js';
import { describeBigValueBench, runBigValueBench } from './big-value-bench.js';
import {
  describeLargeValuesBench,
  LARGE_VALUES_GOALS_MB,
  runLargeValuesBench,
} from './large-values-bench.js';
import { describeBudgetBench, labelOf, runBudgetBench } from './budget-bench.js';
import { describeRealOdooBench, runRealOdooBench } from './real-odoo-bench.js';
import { describeChaosReplays, runChaosReplays } from './chaos-replays.js';
import { CHAOS_DEFAULTS } from '../dev/chaos/chaos-run.js';
import {
  describeMassWindowBench,
  MASS_WINDOW_RSS_LIMIT_MB,
  MASS_WINDOW_SIZE,
  runMassWindowBench,
} from './mass-window-bench.js';
import { describeSourcesBench, runFairnessBench, runScaleBench } from './sources-bench.js';
import { describeProofBench, PROOF_HISTORY, runProofBench } from './proof-bench.js';

const run = promisify(execFile);
/** Goal 1: the worker's peak RSS for 20,000 × 10. */
const RSS_LIMIT_MB = 250;
/** Goal 2: the product's share of the bare pipeline's speed. */
const SPEED_FLOOR = 0.8;
/** Goal 10: the seeds' plan's full copy ÷ the product's, at least. */
const SEEDS_PLAN_FACTOR = 10;
/** Goal 10: the Odoo calls of a full copy of 20,000 × 10, at most. */
const FULL_COPY_CALLS = 120;
/** Goal 11: sources one worker holds, two families each, within RSS_LIMIT_MB. */
const SOURCES_PER_WORKER = 100;
/** Against a real Odoo: the product's share of the bare reader's rate. */
const REAL_ODOO_FLOOR_PERCENT = 95;

async function syncBench(
  protocol: OdooProtocol,
  orders: number,
  productOnly = false,
  extra: readonly (
    | '--configured'
    | '--verify'
    | '--product-first'
    | '--queues=redis'
    | '--queues=postgres'
    | '--seeds-plan'
  )[] = [],
) {
  const args = ['--import', 'tsx', 'bench/sync-bench.ts', '--protocol', protocol];
  args.push('--orders', String(orders), '--json', '--no-build', ...extra);
  if (productOnly) args.push('--product-only');
  const { stdout } = await run(process.execPath, args, {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 3_600_000,
  });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as SyncBenchResult;
  return result;
}

/** Runs of goal 2's pair per transport: an odd number, for a median. */
const SYNC_RUNS = 3;

const percents = (values: readonly number[]) =>
  values.map((r) => `${Math.round(100 * r)} %`).join(', ');

/**
 * Goal 2: the BC family's full copy and its 10 % changed rerun against the bare pipeline, over
 * XML-RPC and JSON-RPC, each three times, the two side by side and the first of them swapped each
 * run; the goal reads the median. The yardstick writes each record's history and feed rows; the
 * old one, without them, is shown beside it for continuity.
 */
async function sync(): Promise<GoalRow[]> {
  const rows: GoalRow[] = [];
  for (const protocol of ['xmlrpc', 'jsonrpc'] as const) {
    const runs: SyncBenchResult[] = [];
    for (let i = 0; i < SYNC_RUNS; i += 1) {
      const order = i % 2 === 1 ? (['--product-first'] as const) : [];
      // Goal 10's yardstick copies as the product does over JSON-RPC (the plan itself reads
      // XML-RPC), after the product, in the same run.
      const seeds = protocol === 'jsonrpc' ? (['--seeds-plan'] as const) : [];
      const r = await syncBench(protocol, 20_000, false, [...order, ...seeds]);
      process.stdout.write(`sync ${protocol} ${i + 1}: ${JSON.stringify(r)}\n`);
      runs.push(r);
    }
    const [first] = runs as [SyncBenchResult];
    if (protocol === 'xmlrpc')
      rows.push(
        atMost(
          '1',
          `worker peak RSS, 20,000 × 10 (xmlrpc, the highest of ${runs.length} runs)`,
          Math.max(...runs.map((r) => r.product.peakRssMb)),
          RSS_LIMIT_MB,
          'MB',
        ),
      );
    const shares = (phase: 'full' | 'changed', yardstick: 'history' | 'legacy') =>
      runs.map(
        (r) =>
          (yardstick === 'history'
            ? r.bare![`${phase}Seconds`]
            : r.bare!.legacy[`${phase}Seconds`]) / r.product[`${phase}Seconds`],
      );
    const rate = (records: number, seconds: number) =>
      `${Math.round(records / seconds).toLocaleString('en-US')} records/s`;
    for (const phase of ['full', 'changed'] as const) {
      const label = phase === 'full' ? 'full copy' : '10% changed';
      const records = phase === 'full' ? first.records : first.changedBcs * 11;
      rows.push(
        atLeast(
          '2',
          `${protocol} ${label}, product/bare with history rows (median of ${runs.length}: ${percents(shares(phase, 'history'))}; ${rate(records, median(runs.map((r) => r.product[`${phase}Seconds`])))})`,
          100 * median(shares(phase, 'history')),
          100 * SPEED_FLOOR,
          '%',
        ),
        context(
          '2',
          `${protocol} ${label}, product/the old bare pipeline (no history rows)`,
          percents(shares(phase, 'legacy')),
        ),
      );
    }
    if (protocol === 'jsonrpc') {
      const factors = runs.map((r) => r.seedsPlan!.fullSeconds / r.product.fullSeconds);
      // The plan's time is mostly its round trips: the machine's, printed beside the ratio.
      const roundTrip = (to: 'odoo' | 'postgres') =>
        median(runs.map((r) => r.seedsPlan!.roundTripMs[to])).toFixed(3);
      rows.push(
        atLeast(
          '10',
          `full copy of 20,000 × 10 (jsonrpc): the seeds' plan done literally ÷ the product (median of ${runs.length}: ${factors.map((f) => `${f.toFixed(1)}×`).join(', ')}; the plan ${median(runs.map((r) => r.seedsPlan!.fullSeconds)).toFixed(0)} s, ${first.seedsPlan!.odooCalls.toLocaleString('en-US')} calls and ${first.seedsPlan!.statements.toLocaleString('en-US')} statements one after the other, a round trip ${roundTrip('odoo')} ms to Odoo and ${roundTrip('postgres')} ms to PostgreSQL)`,
          median(factors),
          SEEDS_PLAN_FACTOR,
          '×',
          1,
        ),
      );
    }
    rows.push(
      atMost(
        '10',
        `full copy of 20,000 × 10 (${protocol}), Odoo calls`,
        Math.max(...runs.map((r) => r.product.fullOdooCalls)),
        FULL_COPY_CALLS,
        'calls',
      ),
      context(
        '2',
        `${protocol} full copy, bare at Node's default heap sizing`,
        `${rate(first.records, first.bare!.defaultHeap.fullSeconds)}, product ${Math.round((100 * first.bare!.defaultHeap.fullSeconds) / first.product.fullSeconds)} %; RSS ${first.bare!.defaultHeap.peakRssMb} MB (${first.bare!.peakRssMb} MB with the worker's settings)`,
      ),
      context(
        '2',
        `${protocol}: the run after the 10 % changed rerun, its ${first.changedBcs.toLocaleString('en-US')} BCs read again and found current (median of ${runs.length})`,
        `${median(runs.map((r) => r.product.unchanged.seconds)).toFixed(2)} s, PostgreSQL CPU ${median(runs.map((r) => r.product.unchanged.cpu.postgres)).toFixed(2)} s, worker CPU ${median(runs.map((r) => r.product.unchanged.cpu.copier)).toFixed(2)} s`,
      ),
      atMost(
        '3',
        `idle run on a long-running worker (${protocol}), Odoo calls`,
        Math.max(...runs.map((r) => r.product.idleOdooCalls)),
        4,
        'calls',
      ),
      atMost(
        '3',
        `the first idle run right after a full copy (${protocol}), Odoo calls`,
        Math.max(...runs.map((r) => r.product.firstIdleOdooCalls)),
        4,
        'calls',
      ),
    );
  }
  return rows;
}

async function memory(): Promise<GoalRow[]> {
  const small = await syncBench('xmlrpc', 20_000, true);
  const large = await syncBench('xmlrpc', 200_000, true);
  const growth = large.product.peakRssMb / small.product.peakRssMb;
  return [
    context('1', 'worker peak RSS, 20,000 × 10 (same run)', `${small.product.peakRssMb} MB`),
    atMost(
      '1',
      'worker peak RSS, 200,000 × 10 (xmlrpc)',
      large.product.peakRssMb,
      1.2 * small.product.peakRssMb,
      'MB',
    ),
    context(
      '1',
      'growth from 20,000 to 200,000 BCs',
      `${(100 * (growth - 1)).toFixed(0)} % (goal ≤ 20 %)`,
    ),
    context(
      '1',
      'full copy, 2.2 million records',
      `${Math.round(large.records / large.product.fullSeconds).toLocaleString('en-US')} records/s`,
    ),
  ];
}

/** The queue stores compared, and how many times each copies (the order swapped each time). */
const QUEUE_STORES = ['redis', 'postgres'] as const;
const QUEUE_RUNS = 3;

/** Goal 6: a configured family's copy rate per record against the bare pipeline's. */
const CONFIGURED_FLOOR = 0.8;
/** Runs of goal 6's pair: an odd number, for a median. */
const CONFIGURED_RUNS = 3;

/**
 * The BC models declared in a file (a configured family) copied against the bare pipeline copying
 * the same declaration into the same tables, full copy and 10 % changed, over XML-RPC, three
 * times, the two copied one right after the other and the first of them swapped each run (the
 * machine's speed drifts over minutes: a ratio of copies minutes apart, always in one order, drifts
 * with it); the goal reads the median. For context, the bare pipeline copying the BC family's
 * narrower tables (what the declaration's width costs) and the BC family declared in code.
 */
async function configured(): Promise<GoalRow[]> {
  const runs: { code: SyncBenchResult; file: SyncBenchResult }[] = [];
  for (let i = 0; i < CONFIGURED_RUNS; i += 1) {
    const order = i % 2 === 1 ? (['--product-first'] as const) : [];
    const file = await syncBench('xmlrpc', 20_000, false, ['--configured', ...order]);
    const code = await syncBench('xmlrpc', 20_000, true);
    process.stdout.write(`configured ${i + 1}: file ${JSON.stringify(file)}\n`);
    process.stdout.write(`configured ${i + 1}: code ${JSON.stringify(code)}\n`);
    runs.push({ code, file });
  }
  const shares = (bareSeconds: (r: SyncBenchResult) => number, product: 'full' | 'changed') =>
    runs.map(({ file }) => bareSeconds(file) / file.product[`${product}Seconds`]);
  const full = shares((r) => r.bare!.fullSeconds, 'full');
  const changed = shares((r) => r.bare!.changedSeconds, 'changed');
  const besideBareCode = shares((r) => r.bareCode!.fullSeconds, 'full');
  const besideCode = runs.map(
    ({ code, file }) => code.product.fullSeconds / file.product.fullSeconds,
  );
  return [
    atLeast(
      '6',
      `configured family full copy, per record, vs the bare pipeline of the same declaration (xmlrpc, median of ${runs.length} runs: ${percents(full)})`,
      100 * median(full),
      100 * CONFIGURED_FLOOR,
      '%',
    ),
    context('6', 'configured family, 10% changed, vs the same bare pipeline', percents(changed)),
    context(
      '6',
      'configured family full copy vs the old bare pipeline of the same declaration (no history rows)',
      percents(shares((r) => r.bare!.legacy.fullSeconds, 'full')),
    ),
    context(
      '6',
      "configured family full copy vs the bare pipeline of the BC family's tables",
      percents(besideBareCode),
    ),
    context(
      '6',
      'configured family full copy vs the BC family declared in code',
      percents(besideCode),
    ),
  ];
}

/**
 * A verify of every record of a current 20,000 × 10 copy, on a fresh worker: its time, its Odoo
 * calls and the worker's peak, for the cost of a nightly slice (docs/performance.md).
 */
async function verifyBench(): Promise<GoalRow[]> {
  const r = await syncBench('xmlrpc', 20_000, true, ['--verify']);
  const v = r.verify!;
  process.stdout.write(`verify: ${JSON.stringify(v)}\n`);
  return [
    context(
      '7',
      `verify of every record, ${r.records.toLocaleString('en-US')} records (xmlrpc)`,
      `${v.seconds.toFixed(1)} s, ${Math.round(r.records / v.seconds).toLocaleString('en-US')} records/s, ${v.odooCalls} Odoo calls, ${v.drifted} drifted`,
    ),
    atMost(
      '1',
      'worker peak RSS, verify of 20,000 × 10 (fresh worker)',
      v.peakRssMb,
      RSS_LIMIT_MB,
      'MB',
    ),
  ];
}

/** Where the writer's PostgreSQL time goes: context for goal 2 (bench/write-bench.ts). */
async function write(): Promise<GoalRow[]> {
  const result = await runWriteBench({ orders: 20_000, lines: 10, batchRoots: 100, repeat: 3 });
  const bare = result.figures.find((figure) => figure.way === 'bare')!;
  return result.figures.map((figure) =>
    context(
      '2',
      `PostgreSQL CPU of a first copy of ${result.records.toLocaleString('en-US')} records: ${figure.way}`,
      `${figure.postgresCpuSeconds.toFixed(1)} s (${Math.round((100 * figure.postgresCpuSeconds) / bare.postgresCpuSeconds)} % of bare)`,
    ),
  );
}

async function cold(): Promise<GoalRow[]> {
  const result = await runColdRunBench();
  return [
    atMost(
      '3',
      'idle `sync run` from a fresh process, Odoo calls',
      result.idleRunCalls,
      4,
      'calls',
    ),
    context('3', 'first `sync run` from a fresh process, Odoo calls', String(result.firstRunCalls)),
    atMost('3', '`sync status`, start to exit (compiled)', result.statusSeconds, 1, 's', 2),
  ];
}

/** The groups: what each measures (its line of `--help`), and how. */
const BENCHES: Record<string, { about: string; run: () => Promise<GoalRow[]> }> = {
  sync: { about: 'the worker against the bare pipeline, 20,000 BCs × 10 per transport', run: sync },
  configured: {
    about: 'the BC models declared in a file against the bare pipeline of that declaration',
    run: configured,
  },
  verify: { about: 'a verify of every record of 20,000 × 10 on a fresh worker', run: verifyBench },
  write: { about: "where the writer's PostgreSQL time goes", run: write },
  memory: { about: "the worker's peak RSS at 20,000 and at 200,000 BCs × 10", run: memory },
  cold: {
    about: "a fresh process: an idle `sync run`'s Odoo calls, how long `sync status` takes",
    run: cold,
  },
  tryton: {
    about: 'the Tryton gateway under load from a client process',
    run: measureTrytonProxyGoals,
  },
  api: { about: 'the API under load from a client process', run: measureApiGoals },
  inflight: {
    about: "another key's reads while one key sends slow requests",
    run: measureInFlight,
  },
  codec: {
    about: "the Odoo codec's decoding and each transport's pull, for context",
    run: async () => {
      await runOdooCodecBench();
      return [];
    },
  },
  feed: {
    about: "the change feed's write cost per record and its delivery throughput",
    run: async () => {
      const result = await runFeedBench({ orders: 20_000, lines: 10, repeat: 3 });
      for (const line of describeFeedBench(result)) process.stdout.write(`${line}\n`);
      return [
        context(
          '-',
          `change feed write cost, first copy of ${result.records.toLocaleString('en-US')} records`,
          `${result.feedMicrosPerRecord.toFixed(1)} µs PostgreSQL CPU per record (+${result.feedPercent.toFixed(0)} % on the writer's own)`,
        ),
        ...result.delivery.map((d) =>
          context(
            '-',
            `change feed delivery to a local receiver, ${d.batchMax} per message`,
            `${Math.round(d.changesPerSecond).toLocaleString('en-US')} changes/s`,
          ),
        ),
      ];
    },
  },
  'feed-prune': {
    about: "the feed's retention: a batched delete against a partition's drop",
    run: async () => {
      const result = await runFeedPruneBench({ changes: 10_000_000, days: 10 });
      for (const line of describeFeedPruneBench(result)) process.stdout.write(`${line}\n`);
      const { delete: del, drop } = result;
      const day = `one day (${del.changes.toLocaleString('en-US')} of ${result.changes.toLocaleString('en-US')} changes)`;
      return [
        context(
          '-',
          `feed retention, ${day}: batched delete + its VACUUM`,
          `${del.seconds.toFixed(1)} s + ${del.vacuumSeconds.toFixed(1)} s, WAL ${(del.walBytes / 1_048_576).toFixed(0)} + ${(del.vacuumWalBytes / 1_048_576).toFixed(0)} MB`,
        ),
        context(
          '-',
          `feed retention, ${day}: partition drop`,
          `${drop.seconds.toFixed(2)} s, WAL ${(drop.walBytes / 1_024).toFixed(0)} kB`,
        ),
        context(
          '-',
          `migration 0032 on a feed of ${result.changes.toLocaleString('en-US')} changes`,
          `${result.migration.seconds.toFixed(0)} s, WAL ${(result.migration.walBytes / 1_048_576).toFixed(0)} MB`,
        ),
        context(
          '-',
          `feed trigger per statement (a root, ten lines), unpartitioned / ${result.trigger.partitions} partitions`,
          `${result.trigger.plainMicros.toFixed(0)} / ${result.trigger.partitionedMicros.toFixed(0)} µs`,
        ),
      ];
    },
  },
  transport: {
    about: 'the default transport against XML-RPC, and under a call budget',
    run: async () => {
      const result = await runTransportBench({ orders: 20_000, lines: 10 });
      for (const line of describeTransportBench(result)) process.stdout.write(`${line}\n`);
      const [auto, xmlrpc] = result.copies;
      return [
        ...result.copies.map((copy) =>
          context(
            '-',
            `full copy of ${result.records.toLocaleString('en-US')} records from Odoo 17.0, ${copy.label} (${copy.transport})`,
            `${copy.seconds.toFixed(1)} s, ${copy.odooCalls} Odoo calls, worker peak RSS ${copy.peakRssMb} MB`,
          ),
        ),
        context(
          '-',
          'default transport against XML-RPC, full copy time (same run)',
          `${Math.round((100 * auto!.seconds) / xmlrpc!.seconds)} %`,
        ),
      ];
    },
  },
  bigvalue: {
    about: 'a 100 MB text copied and downloaded, against the memory limits',
    run: async () => {
      const result = await runBigValueBench({ megabytes: 100, protocols: ['jsonrpc', 'xmlrpc'] });
      for (const line of describeBigValueBench(result)) process.stdout.write(`${line}\n`);
      const { limitsMb } = result;
      return [
        ...result.copies.map((copy) =>
          atMost(
            '-',
            `worker peak RSS, first copy with a ${result.megabytes} MB text (${copy.protocol})`,
            copy.workerPeakRssMb,
            limitsMb.worker,
            'MB',
          ),
        ),
        atMost(
          '-',
          `API peak RSS, ${result.api.statuses.length} reads at once of that record (${result.api.statuses.filter((status) => status === 200).length} answered 200)`,
          result.api.recordsPeakRssMb,
          limitsMb.api,
          'MB',
        ),
        ...(result.api.fieldPeakRssMb === undefined
          ? []
          : [
              atMost(
                '-',
                `API peak RSS, ${result.api.statuses.length} downloads at once of the value`,
                result.api.fieldPeakRssMb,
                limitsMb.api,
                'MB',
              ),
            ]),
      ];
    },
  },
  'large-values': {
    about: "a record's four 99 MB values and one past the maximum, copied and read",
    run: async () => {
      const result = await runLargeValuesBench({ protocols: ['xmlrpc', 'jsonrpc', 'json2'] });
      for (const line of describeLargeValuesBench(result)) process.stdout.write(`${line}\n`);
      const goals = LARGE_VALUES_GOALS_MB;
      return [
        ...result.copies.map((copy) =>
          atMost(
            '-',
            `worker peak RSS, first copy with a record of four values of 99 MB (${copy.protocol})`,
            copy.workerPeakRssMb,
            goals.worker,
            'MB',
          ),
        ),
        atMost(
          '-',
          `API peak RSS, ${result.api.statuses.length} reads at once of that record (${result.api.statuses.filter((status) => status === 200).length} answered 200)`,
          result.api.recordsPeakRssMb,
          goals.api,
          'MB',
        ),
        atMost(
          '-',
          `API peak RSS, ${result.api.statuses.length} downloads at once of its values (${result.api.downloadsWhole} whole)`,
          result.api.fieldPeakRssMb,
          goals.api,
          'MB',
        ),
      ];
    },
  },
  budget: {
    about: "the call budget's cost per call on Redis and on PostgreSQL",
    run: async () => {
      const result = await runBudgetBench();
      for (const line of describeBudgetBench(result)) process.stdout.write(`${line}\n`);
      return result.figures.map((f) =>
        context(
          '-',
          `call budget on ${labelOf(f)}: an admission and its release`,
          `${f.microsPerCall.toFixed(0)} µs, ${Math.round(f.callsPerSecond).toLocaleString('en-US')} calls/s`,
        ),
      );
    },
  },
  queues: {
    about: 'the queues on Redis against the queues in PostgreSQL, 20,000 × 10 each',
    run: async () => {
      const runs: Record<'redis' | 'postgres', SyncBenchResult[]> = { redis: [], postgres: [] };
      for (let i = 0; i < QUEUE_RUNS; i += 1)
        for (const store of i % 2 === 0 ? QUEUE_STORES : [...QUEUE_STORES].reverse()) {
          const result = await syncBench('jsonrpc', 20_000, true, [`--queues=${store}`]);
          process.stdout.write(`queues ${store} ${i + 1}: ${JSON.stringify(result.product)}\n`);
          runs[store].push(result);
        }
      return QUEUE_STORES.flatMap((store) => {
        const product = runs[store].map((r) => r.product);
        const full = median(product.map((p) => p.fullSeconds));
        return [
          context(
            '-',
            `queues on ${store}: full copy of 20,000 × 10 (jsonrpc, median of ${QUEUE_RUNS})`,
            `${full.toFixed(1)} s, PostgreSQL CPU ${median(product.map((p) => p.fullCpu.postgres)).toFixed(1)} s, worker CPU ${median(product.map((p) => p.fullCpu.copier)).toFixed(1)} s, peak RSS ${median(product.map((p) => p.peakRssMb))} MB`,
          ),
          context(
            '-',
            `queues on ${store}: ${product[0]!.recordJobs.jobs.toLocaleString('en-US')} per-record jobs at once (webhook-record)`,
            `${Math.round(median(product.map((p) => p.recordJobs.jobs / p.recordJobs.seconds)))} jobs/s, PostgreSQL CPU ${median(product.map((p) => p.recordJobs.cpu.postgres)).toFixed(1)} s, worker CPU ${median(product.map((p) => p.recordJobs.cpu.copier)).toFixed(1)} s`,
          ),
          context(
            '-',
            `queues on ${store}: 10% changed rerun`,
            `${median(product.map((p) => p.changedSeconds)).toFixed(1)} s, PostgreSQL CPU ${median(product.map((p) => p.changedCpu.postgres)).toFixed(1)} s`,
          ),
        ];
      });
    },
  },
  sources: {
    about: "a source's webhook lag during another's first copy; 100 sources on one worker",
    run: async () => {
      const fair = await runFairnessBench({ big: 100_000, rate: 10, seconds: 30, down: 60 });
      const scale = await runScaleBench({ sources: SOURCES_PER_WORKER });
      for (const line of describeSourcesBench(fair, scale)) process.stdout.write(`${line}\n`);
      return [
        atMost(
          '-',
          "webhook lag p95 of one source while another's first copy of 100,000 BCs runs",
          Math.round(fair.p95Ms),
          2_000,
          'ms',
        ),
        atMost(
          '-',
          "webhook lag p95 of one source while another's Odoo is down for a minute",
          Math.round(fair.down.p95Ms),
          2_000,
          'ms',
        ),
        atMost(
          '11',
          `${SOURCES_PER_WORKER} sources × 2 families on one worker, peak RSS (${scale.postgresConnections} PostgreSQL connections, ${scale.redisKeys} Redis keys)`,
          scale.workerPeakRssMb,
          RSS_LIMIT_MB,
          'MB',
        ),
      ];
    },
  },
  webhook: {
    about: 'webhook lag, from an edit in Odoo to its row in PostgreSQL',
    run: async () => {
      const result = await runWebhookBench();
      printWebhookBench(result, 60, 50);
      return [context('-', 'webhook lag, edit to copy, p95', `${result.p95Ms.toFixed(0)} ms`)];
    },
  },
  'webhook-inbox': {
    about: "the webhook inbox's queries at 1,000,000 events",
    run: async () => {
      const result = await runWebhookInboxBench({ events: 1_000_000, families: 20 });
      for (const line of describeWebhookInboxBench(result)) process.stdout.write(`${line}\n`);
      const at = `webhook inbox of ${result.events.toLocaleString('en-US')} events`;
      const change = (before: number, after: number) =>
        `${before.toFixed(0)} ms -> ${after.toFixed(1)} ms`;
      return [
        context(
          '-',
          `${at}: a worker's pass (every 15 s), none due`,
          change(result.before.quietPassMs, result.after.quietPassMs),
        ),
        context(
          '-',
          `${at}: a worker's pass, 500 due`,
          change(result.before.busyPassMs, result.after.busyPassMs),
        ),
        context(
          '-',
          `${at}: a worker's metrics reading (every 5 s)`,
          change(result.before.metricsMs, result.after.metricsMs),
        ),
      ];
    },
  },
  mass: {
    about: "the sync CLI's peak RSS through a mass window of 3.25 million records",
    run: async () => {
      const results = await runMassWindowBench({
        ...MASS_WINDOW_SIZE,
        protocols: ['jsonrpc', 'xmlrpc', 'json2'],
      });
      process.stdout.write(`${describeMassWindowBench(results)}\n`);
      return results.map((result) =>
        atMost(
          '1',
          `sync CLI peak RSS, ${result.phase} of ${MASS_WINDOW_SIZE.orders.toLocaleString('en')} × ${MASS_WINDOW_SIZE.lines} (${result.protocol})`,
          result.peakRssMb,
          MASS_WINDOW_RSS_LIMIT_MB,
          'MB',
        ),
      );
    },
  },
  proof: {
    about: "the settled stamps' proof, one scan page at a time",
    run: async () => {
      const figures = await runProofBench({ history: PROOF_HISTORY });
      process.stdout.write(`${describeProofBench(figures, PROOF_HISTORY)}\n`);
      return figures.map((figure) =>
        context(
          '-',
          `settled stamps' proof, a scan page of ${figure.records.toLocaleString('en')}: ${figure.page}`,
          `${figure.milliseconds.toFixed(0)} ms`,
        ),
      );
    },
  },
  chaos: {
    about: 'the chaos runs that once found a defect, replayed: about an hour',
    run: async () => {
      const replays = await runChaosReplays((line) => process.stderr.write(`${line}\n`));
      process.stdout.write(`${describeChaosReplays(replays)}\n`);
      return replays.map((replay) =>
        atMost(
          '-',
          `chaos seed ${replay.seed} on ${replay.queues}, ${CHAOS_DEFAULTS.minutes} minutes: differences`,
          replay.differences,
          0,
          '',
        ),
      );
    },
  },
  'real-odoo': {
    about: 'the product against a bare reader of a real Odoo',
    run: async () => {
      const result = await runRealOdooBench({
        start: process.env.BENCH_ODOO_START,
        stop: process.env.BENCH_ODOO_STOP,
        cases: ['partners', 'moves'],
        partners: 20_000,
        moves: 2_000,
        lines: 10,
        rounds: 3,
        workers: [0, 2],
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${describeRealOdooBench(result)}\n`);
      return result.cases.flatMap((c) =>
        (['first copy', 'rerun after 10 % changed'] as const).map((phase, i) =>
          atLeast(
            '-',
            `${c.family} from a real Odoo ${result.odooVersion} (workers = ${c.odooWorkers}), ${phase}: product's rate ÷ the bare reader's`,
            Math.round(100 * (i === 0 ? c.firstShare : c.rerunShare)),
            REAL_ODOO_FLOOR_PERCENT,
            '%',
          ),
        ),
      );
    },
  },
};

/** Benches that need what `npm run bench` alone does not start (a real Odoo), or an hour: named only. */
const OPT_IN = new Set(['real-odoo', 'chaos']);

/** How a bench run as a child hands its rows back: its last line of output starts with this. */
const ROWS_MARKER = 'BENCH-ROWS ';

/**
 * Runs one bench in a process of its own, its output passed through: a bench that runs the API
 * in its process must not inherit the heap, timers and sockets of the benches before it.
 */
async function runInChild(name: string): Promise<GoalRow[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--child', name], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let result: GoalRow[] | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith(ROWS_MARKER))
      result = JSON.parse(line.slice(ROWS_MARKER.length)) as GoalRow[];
    else process.stdout.write(`${line}\n`);
  }
  const code = await exited;
  if (code !== 0 || !result) throw new Error(`bench "${name}" failed (exit code ${code})`);
  return result;
}

const { values, positionals: chosen } = parseBenchArgs({
  command: 'npm run bench --',
  about: [
    `Runs the benchmark groups named, in their order (without any, every group but ${[...OPT_IN].join(' and ')}), each in a process of its own, then prints one table of the figures the performance goals name (docs/performance.md), each against its goal.`,
    'real-odoo needs a real Odoo: BENCH_ODOO_START names a command that starts one and prints how to reach it, BENCH_ODOO_STOP one that stops it; unset, the bench starts Odoo 19.',
    'Most groups run a script of bench/ that takes options of its own: npx tsx bench/<script>.ts --help.',
  ].join('\n\n'),
  options: {
    child: {
      type: 'string',
      value: 'GROUP',
      choices: Object.keys(BENCHES),
      about:
        'run the group in this process and hand its rows back on the last line: how each group runs in a process of its own',
    },
  },
  positionals: {
    name: 'group',
    title: 'Groups',
    known: Object.entries(BENCHES).map(([name, bench]) => ({ name, about: bench.about })),
  },
  examples: ['npm run bench', 'npm run bench -- sync write', 'npm run bench -- real-odoo'],
});
if (values.child) {
  const rows = await BENCHES[values.child]!.run();
  process.stdout.write(`${ROWS_MARKER}${JSON.stringify(rows)}\n`);
  process.exit(0);
}
buildDist();
const rows: GoalRow[] = [];
for (const name of chosen.length > 0
  ? chosen
  : Object.keys(BENCHES).filter((name) => !OPT_IN.has(name))) {
  process.stdout.write(`\n== ${name} ==\n`);
  rows.push(...(await runInChild(name)));
}
process.stdout.write(
  `\n== Goals (docs/performance.md) — Node ${process.version}, PostgreSQL ${await postgresServerVersion()}, ` +
    `${new Date().toISOString().slice(0, 10)} ==\n${formatGoalTable(rows)}\n`,
);
process.exit(0);
