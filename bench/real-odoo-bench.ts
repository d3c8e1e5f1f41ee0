/**
 * At the real Odoo's pace: against a real Odoo the copy is bound by Odoo, and what users feel is
 * how close the product comes to the fastest reader Odoo allows. The bench seeds a real Odoo
 * (bench/real-odoo-server.ts) and times, side by side, the order swapped each round:
 *
 * - **the bare reader**: the best transport (`auto`'s choice, with the sync user's API key when
 *   it has one), keyset pages of 500 roots with their children, every stored field the product
 *   reads (the same schema code), nothing written;
 * - **the product**: the compiled worker as `npm run start:worker` starts it, every setting at its
 *   default, on a fresh, migrated database; its runs queued and awaited, as a deployment's first
 *   copy and its next runs are (the sync CLI adds its own start: bench/cold-run-bench.ts);
 *
 * on a first copy and on the rerun after a tenth of the records changed. One record is edited
 * before each first copy, as a deployment's users go on editing: the rerun's window then holds
 * the last minutes' changes, not the seeds written in a burst before them. It prints the product's
 * share of the bare rate (median of the rounds), the Odoo calls the product made, Odoo's CPU
 * during each, how busy the machine's cores were (a copy that kept them all busy was bound by
 * this machine's CPU, not by what it waited for), the worker's CPU and its peak RSS. Cases:
 * `res.partner` (the `partners` family) and `account.move` with its lines (the `moves` family).
 *
 * With `--odoo-workers N`, the cases run again on the same server started with `workers = N`
 * (prefork: pages in flight are served in parallel), as a plain process on this machine.
 *
 * With `--variant 'KEY=VALUE …'` (repeatable), each round also runs the product with those
 * settings on a fresh database of its own (say `ODOO_MAX_CONCURRENT_CALLS=1`), on the same seeds
 * and in the same rounds: settings compared on one server, in one wait for the seeds to settle.
 * The runs of a round take turns: each round starts with the next one. With `--against DIR`
 * (repeatable), another checkout's product (its dist/ built, say main of last week in a git
 * worktree) runs the same way, every setting at its default: two versions side by side.
 *
 * `npm run bench -- real-odoo` (not part of the default run: it needs a real Odoo), or
 * `npx tsx bench/real-odoo-bench.ts [--start CMD --stop CMD] [--case partners|moves]
 * [--partners N] [--moves N] [--lines N] [--rounds N] [--odoo-workers N]
 * [--variant 'KEY=VALUE …']… [--against DIR]… [--no-build]`. Without `--start`, the
 * bench starts Odoo 19 from Debian's package; with it, the operator's command starts an Odoo (an
 * Odoo 17, say) and prints how to reach it (bench/real-odoo-server.ts). docs/performance.md, "At a
 * real Odoo's pace", holds the figures.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { OdooClient } from '../src/clients/odoo/index.js';
import type { RecordFamily } from '../src/families/family.js';
import { movesFamily } from '../src/families/moves/family.js';
import { partnersFamily } from '../src/families/partners/family.js';
import { SYNC_SETTINGS } from '../src/config/settings/copy-settings.js';
import { describeError } from '../src/lib/errors.js';
import { createSchemaCache } from '../src/sync/odoo-reads.js';
import { CLOCK_SKEW_MARGIN_SECONDS } from '../src/sync/settled.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { fetchPage, PAGE_SIZE } from './bare-pipeline.js';
import {
  changeTenth,
  editOneNow,
  latestStamp,
  odooClientOf,
  machineBusyCpuSeconds,
  odooCpuSeconds,
  restartWithWorkers,
  tenthOf,
  seed,
  startRealOdoo,
  type BenchModel,
  type RealOdoo,
} from './real-odoo-server.js';
import { pino } from 'pino';
import { setPaused } from '../src/sync/sync-state.js';
import { stopChild } from '../dev/services/sandbox-process.js';
import { BUILD_OPTIONS, parseBenchArgs } from './bench-args.js';
import { openBenchProducer } from './bench-runtime.js';
import { markdownTable, median } from './report.js';
import { buildDist, cpuSecondsOf, createDatabase, peakRssMb, startWorker } from './sync-bench.js';

/**
 * One copy: how long, how many records (roots and children for the bare reader, roots for the
 * product, as its run counts them), Odoo's CPU meanwhile; the product's calls and peak RSS.
 */
export interface RealOdooCopy {
  readonly seconds: number;
  readonly records: number;
  readonly odooCpuSeconds: number;
  /** Every core's busy CPU seconds meanwhile: Odoo, its PostgreSQL, the copier and the rest. */
  readonly machineCpuSeconds: number;
  readonly odooCalls?: number;
  readonly peakRssMb?: number;
  /** The worker's own CPU seconds during the run. */
  readonly workerCpuSeconds?: number;
}

/** One phase of a round: the bare reader, the product, and each variant in `--variant`'s order. */
export interface RealOdooPhase {
  readonly bare: RealOdooCopy;
  readonly product: RealOdooCopy;
  readonly variants: readonly RealOdooCopy[];
}

export interface RealOdooRound {
  /** Which run of the round went first: 0 the bare reader, 1 the product, 2… the variants. */
  readonly firstRun: number;
  readonly first: RealOdooPhase;
  readonly rerun: RealOdooPhase;
}

export interface RealOdooCase {
  /** Odoo's `workers`: 0 threaded (one process), else prefork. */
  readonly odooWorkers: number;
  readonly family: string;
  readonly model: BenchModel;
  readonly roots: number;
  readonly rounds: readonly RealOdooRound[];
  /** Medians over the rounds of the bare reader's time ÷ the product's, on the same records. */
  readonly firstShare: number;
  readonly rerunShare: number;
}

export interface RealOdooBenchResult {
  readonly odooVersion: string;
  /**
   * This machine's cores, shared by Odoo, its PostgreSQL, the copier and the copy's PostgreSQL:
   * all of them, as /proc/stat counts their busy time, even where the bench was pinned to some.
   */
  readonly cores: number;
  readonly transport: string;
  /** The product's other settings, each run beside the defaults (`--variant`). */
  readonly variants: readonly Variant[];
  readonly cases: readonly RealOdooCase[];
}

/** Settings the product also runs with, over its defaults; or another checkout's product. */
export interface Variant {
  readonly label: string;
  readonly env: Readonly<Record<string, string>>;
  /** Another checkout, its dist/ built: its worker runs on a database this one migrated. */
  readonly checkout?: string;
}

/** An `--against` argument: another checkout's product, every setting at its default. */
export function checkoutVariant(dir: string): Variant {
  if (!existsSync(join(dir, 'dist/workers/main.js')))
    throw new Error(`--against ${dir}: no dist/workers/main.js there (npm run build in it)`);
  return { label: `the product of ${dir}`, env: {}, checkout: resolve(dir) };
}

/** A `--variant` argument: `KEY=VALUE` pairs separated by spaces. */
export function parseVariant(text: string): Variant {
  const pairs = text.trim().split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--variant '${text}': '${pair}' is not KEY=VALUE`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if (pairs.length === 0) throw new Error('--variant needs at least one KEY=VALUE');
  return { label: pairs.join(' '), env };
}

const DEFAULT_OVERLAP_SECONDS = Number(SYNC_SETTINGS.SYNC_OVERLAP_SECONDS.doc.default);

const CASES: Record<string, { family: RecordFamily; model: BenchModel }> = {
  partners: { family: partnersFamily, model: 'res.partner' },
  moves: { family: movesFamily, model: 'account.move' },
};

/** The bare reader: every root written since `since` (all with null), with its children. */
async function bareRead(
  odoo: OdooClient,
  family: RecordFamily,
  since: Date | null,
): Promise<number> {
  const schema = await createSchemaCache(60_000)(family, odoo);
  let records = 0;
  for (let afterId = 0; ;) {
    const page = await fetchPage(odoo, family, schema, since, afterId);
    records += page.reduce(
      (sum, item) => sum + 1 + item.children.reduce((n, children) => n + children.length, 0),
      0,
    );
    if (page.length < PAGE_SIZE) return records;
    afterId = page[page.length - 1]!.root.id;
  }
}

/** The product on a fresh copy: one worker, its runs queued and awaited. */
interface ProductWorker {
  /** One run (a first copy, then what changed), with Odoo's CPU meanwhile and the worker's peak. */
  copy(): Promise<RealOdooCopy>;
  close(): Promise<void>;
}

/**
 * The compiled worker as `npm run start:worker` starts it, every setting at its default, on a
 * fresh, migrated database; its family paused, so that only the bench's runs run.
 */
async function startProduct(
  odoo: RealOdoo,
  adminUrl: string,
  redisUrl: string,
  family: string,
  variant?: Variant,
): Promise<ProductWorker> {
  const database = `real_${family}_${randomBytes(3).toString('hex')}`;
  const handle = await createDatabase(adminUrl, database);
  await setPaused(handle.db, family, 'bench');
  const databaseUrl = handle.url!;
  await handle.close();
  const prefix = `real-${database}`;
  const worker = await startWorker(
    { ...productEnv(odoo, databaseUrl, redisUrl, family, prefix), ...variant?.env },
    [],
    false,
    undefined,
    variant?.checkout,
  );
  const producer = openBenchProducer(
    { kind: 'redis', url: redisUrl, prefix },
    pino({ level: 'warn' }),
  );
  return {
    async copy() {
      const odooBefore = odooCpuSeconds(odoo.pid);
      const machineBefore = machineBusyCpuSeconds();
      const workerBefore = cpuSecondsOf(worker.pid!);
      const startedMs = performance.now();
      const job = await producer.queues.add('sync-run', { family, trigger: 'bench' });
      const result = (await producer.waitFor(job, { pollMs: 100 })) as {
        status: string;
        counts: { recordsSeen: number; odooCalls: number };
      };
      const seconds = (performance.now() - startedMs) / 1_000;
      if (result.status !== 'succeeded') throw new Error(`${family} run ${result.status}`);
      return {
        seconds,
        records: result.counts.recordsSeen,
        odooCpuSeconds: odooCpuSeconds(odoo.pid) - odooBefore,
        machineCpuSeconds: machineBusyCpuSeconds() - machineBefore,
        odooCalls: result.counts.odooCalls,
        peakRssMb: peakRssMb(worker.pid!),
        workerCpuSeconds: cpuSecondsOf(worker.pid!) - workerBefore,
      };
    },
    async close() {
      await producer.close();
      await stopChild(worker);
    },
  };
}

/** Times the bare reader, with Odoo's CPU meanwhile. */
async function bareCopy(
  odoo: OdooClient,
  family: RecordFamily,
  since: Date | null,
  odooPid: number,
): Promise<RealOdooCopy> {
  const odooBefore = odooCpuSeconds(odooPid);
  const machineBefore = machineBusyCpuSeconds();
  const startedMs = performance.now();
  const records = await bareRead(odoo, family, since);
  return {
    seconds: (performance.now() - startedMs) / 1_000,
    records,
    odooCpuSeconds: odooCpuSeconds(odooPid) - odooBefore,
    machineCpuSeconds: machineBusyCpuSeconds() - machineBefore,
  };
}

/**
 * The product's defaults re-read what changed within SYNC_OVERLAP_SECONDS (and a minute of
 * clock skew) before Odoo's clock: records seeded just now would be read again by every rerun,
 * which a deployment's records, written long before, are not (docs/sync.md, "Settled stamps").
 * So the rounds start once the seeds the rounds do not change are older than that.
 */
async function untilSettled(
  admin: OdooClient,
  model: BenchModel,
  ids: readonly number[],
  log: (line: string) => void,
): Promise<void> {
  const changed = new Set(tenthOf(ids));
  const untouched = ids.filter((id) => !changed.has(id));
  const settledAtMs =
    (await latestStamp(admin, model, untouched)).getTime() +
    (DEFAULT_OVERLAP_SECONDS + CLOCK_SKEW_MARGIN_SECONDS + 5) * 1_000;
  const waitMs = settledAtMs - Date.now();
  if (waitMs <= 0) return;
  log(`  waiting ${Math.ceil(waitMs / 1_000)} s until the ${model} seeds are out of the overlap`);
  await new Promise((resolve) => setTimeout(resolve, waitMs));
}

/**
 * The bare reader's copy, the product's and each variant's, one right after the other, starting
 * with run `firstRun` (0 the bare reader, 1 the product, 2… the variants) and taking turns.
 */
async function sideBySide(
  firstRun: number,
  runs: readonly (() => Promise<RealOdooCopy>)[],
): Promise<RealOdooPhase> {
  const copies: RealOdooCopy[] = [];
  for (let turn = 0; turn < runs.length; turn += 1) {
    const at = (firstRun + turn) % runs.length;
    copies[at] = await runs[at]!();
  }
  const [bare, product, ...variants] = copies;
  return { bare: bare!, product: product!, variants };
}

export async function runRealOdooBench(input: {
  start?: string;
  stop?: string;
  cases: readonly string[];
  partners: number;
  moves: number;
  lines: number;
  rounds: number;
  /** Odoo's `workers` for each pass: 0 as started (threaded), then each prefork count. */
  workers: readonly number[];
  variants?: readonly Variant[];
  log: (line: string) => void;
}): Promise<RealOdooBenchResult> {
  const variants = input.variants ?? [];
  let odoo = await startRealOdoo({ start: input.start, stop: input.stop });
  const closers: (() => Promise<unknown>)[] = [() => odoo.stop()];
  try {
    const [pg, redis] = await Promise.all([startLocalPostgres(), startLocalRedis()]);
    closers.unshift(
      () => pg.stop(),
      () => redis.stop(),
    );
    let admin = odooClientOf(odoo, 'admin');
    closers.unshift(() => admin.close());
    input.log(`Odoo ${odoo.version} at ${odoo.url}; seeding what is missing`);
    const partnerIds = await seed(
      admin,
      'res.partner',
      { count: input.partners, linesPerMove: 0, partnerIds: [] },
      (done) => input.log(`  res.partner: ${done} of ${input.partners}`),
    );
    // Every case's records first: the wait for them to settle is then paid once.
    const seeded = new Map<string, number[]>();
    for (const name of input.cases) {
      const { model } = CASES[name]!;
      seeded.set(
        name,
        model === 'res.partner'
          ? partnerIds
          : await seed(
              admin,
              model,
              {
                count: input.moves,
                linesPerMove: input.lines,
                partnerIds: partnerIds.slice(0, 20),
              },
              (done) => input.log(`  ${model}: ${done} of ${input.moves}`),
            ),
      );
    }
    for (const name of input.cases)
      await untilSettled(admin, CASES[name]!.model, seeded.get(name)!, input.log);
    const cases: RealOdooCase[] = [];
    let transport = '';
    for (const workers of input.workers) {
      if (workers > 0) {
        await admin.close();
        odoo = await restartWithWorkers(odoo, workers);
        admin = odooClientOf(odoo, 'admin');
        input.log(`Odoo started again with workers = ${workers}`);
      }
      const reader = odooClientOf(odoo, 'sync');
      try {
        transport = (await reader.transport()).protocol;
        for (const name of input.cases) {
          const measured = await measureCase(
            { ...input, variants },
            { odoo, admin, reader, redis, pg },
            name,
            seeded.get(name)!,
          );
          cases.push({ ...measured, odooWorkers: workers });
        }
      } finally {
        await reader.close();
      }
    }
    return { odooVersion: odoo.version, cores: cpus().length, transport, variants, cases };
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

/** One case's rounds on the server as it runs now. */
async function measureCase(
  input: { rounds: number; variants: readonly Variant[]; log: (line: string) => void },
  at: {
    odoo: RealOdoo;
    admin: OdooClient;
    reader: OdooClient;
    redis: { url: string };
    pg: { url: string };
  },
  name: string,
  ids: readonly number[],
): Promise<Omit<RealOdooCase, 'odooWorkers'>> {
  const { odoo, admin, reader } = at;
  const { family, model } = CASES[name]!;
  const rounds: RealOdooRound[] = [];
  const runCount = 2 + input.variants.length;
  for (let round = 0; round < input.rounds; round += 1) {
    const firstRun = round % runCount;
    const products: ProductWorker[] = [];
    try {
      for (const variant of [undefined, ...input.variants])
        products.push(await startProduct(odoo, at.pg.url, at.redis.url, name, variant));
      const runs = (since: Date | null) => [
        () => bareCopy(reader, family, since, odoo.pid),
        ...products.map((product) => () => product.copy()),
      ];
      // One of the tenth the rerun reads: the rerun still reads as many records.
      await editOneNow(admin, model, tenthOf(ids), round);
      const first = await sideBySide(firstRun, runs(null));
      // Odoo stamps write_date from the same clock, to the second.
      const since = new Date(Math.floor(Date.now() / 1_000) * 1_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const changed = await changeTenth(admin, model, ids, round);
      const rerun = await sideBySide(firstRun, runs(since));
      rounds.push({ firstRun, first, rerun });
      const times = (phase: RealOdooPhase, digits: number) =>
        [phase.product, ...phase.variants].map((copy) => copy.seconds.toFixed(digits)).join(' / ');
      input.log(
        `  ${name} round ${round + 1}: first copy bare ${first.bare.seconds.toFixed(1)} s, product ${times(first, 1)} s; ${changed} changed: bare ${rerun.bare.seconds.toFixed(2)} s, product ${times(rerun, 2)} s`,
      );
    } finally {
      for (const product of products) await product.close();
    }
  }
  return {
    family: name,
    model,
    roots: ids.length,
    rounds,
    firstShare: median(rounds.map((r) => r.first.bare.seconds / r.first.product.seconds)),
    rerunShare: median(rounds.map((r) => r.rerun.bare.seconds / r.rerun.product.seconds)),
  };
}

/** The product's environment: the server's sync user, every other key at its default. */
function productEnv(
  odoo: RealOdoo,
  databaseUrl: string,
  redisUrl: string,
  family: string,
  prefix: string,
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    SYNC_FAMILIES: family,
    ODOO_URL: odoo.url,
    ODOO_DATABASE: odoo.database,
    ODOO_USERNAME: odoo.username,
    ODOO_PASSWORD: odoo.password,
    ...(odoo.apiKey ? { ODOO_API_KEY: odoo.apiKey } : {}),
    WORKER_HTTP_PORT: '0',
    // The bench waits for the worker's start line.
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
  };
}

/** The figures as the bench prints them: one row per case, phase and settings. */
export function describeRealOdooBench(result: RealOdooBenchResult): string {
  const settings = ['defaults', ...result.variants.map((variant) => variant.label)];
  const rows = result.cases.flatMap((c) =>
    (['first', 'rerun'] as const).flatMap((phase) =>
      settings.map((label, i) => {
        const digits = phase === 'first' ? 1 : 2;
        const copyOf = (r: RealOdooRound) =>
          i === 0 ? r[phase].product : r[phase].variants[i - 1]!;
        const medianOf = (pick: (r: RealOdooRound) => number) =>
          median(c.rounds.map(pick)).toFixed(digits);
        const share = median(c.rounds.map((r) => r[phase].bare.seconds / copyOf(r).seconds));
        const busy = (copy: RealOdooCopy) => copy.machineCpuSeconds / (copy.seconds * result.cores);
        const busyOf = (pick: (r: RealOdooRound) => RealOdooCopy) =>
          `${(median(c.rounds.map((r) => busy(pick(r)))) * 100).toFixed(0)} %`;
        return [
          `${c.family} (${c.model})`,
          c.odooWorkers,
          phase === 'first' ? 'first copy' : 'rerun, 10 % changed',
          label,
          `${medianOf((r) => r[phase].bare.seconds)} s`,
          `${medianOf((r) => copyOf(r).seconds)} s`,
          `**${(share * 100).toFixed(0)} %**`,
          `${medianOf((r) => r[phase].bare.odooCpuSeconds)} / ${medianOf((r) => copyOf(r).odooCpuSeconds)} s`,
          `${busyOf((r) => r[phase].bare)} / ${busyOf(copyOf)}`,
          `${medianOf((r) => copyOf(r).workerCpuSeconds ?? 0)} s`,
          median(c.rounds.map((r) => copyOf(r).odooCalls ?? 0)),
          `${median(c.rounds.map((r) => copyOf(r).peakRssMb ?? 0))} MB`,
        ];
      }),
    ),
  );
  return [
    `Odoo ${result.odooVersion} over ${result.transport} on ${result.cores} cores; medians of ${result.cases[0]?.rounds.length ?? 0} rounds, the runs of a round taking turns`,
    '',
    ...markdownTable(
      [
        'case',
        'Odoo workers',
        'phase',
        'product settings',
        'bare reader',
        'product',
        'product ÷ bare rate',
        'Odoo CPU bare / product',
        `machine busy (${result.cores} cores) bare / product`,
        'worker CPU',
        'product calls',
        'worker peak RSS',
      ],
      rows,
    ),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, fail } = parseBenchArgs({
    command: 'npx tsx bench/real-odoo-bench.ts',
    about:
      "At a real Odoo's pace: the product's first copy and its rerun after a tenth changed, against a bare reader of the same records, side by side, the order swapped each round; the product's share of the bare rate, Odoo's CPU and the worker's. It needs a real Odoo: without --start, it starts Odoo 19 from Debian's package.",
    options: {
      start: {
        type: 'string',
        value: 'CMD',
        about:
          'a command that starts an Odoo (an Odoo 17, say) and prints how to reach it, as bench/real-odoo-server.ts reads it',
      },
      stop: {
        type: 'string',
        value: 'CMD',
        about: 'a command that stops the Odoo --start started',
      },
      case: {
        type: 'string',
        value: Object.keys(CASES).join('|'),
        multiple: true,
        choices: Object.keys(CASES),
        defaultText: Object.keys(CASES).join(', '),
        about: 'a case: partners copies res.partner, moves account.move with its lines',
      },
      partners: {
        type: 'string',
        value: 'N',
        default: '20000',
        number: 'whole',
        about: 'partners seeded',
      },
      moves: {
        type: 'string',
        value: 'N',
        default: '2000',
        number: 'whole',
        about: 'moves seeded',
      },
      lines: {
        type: 'string',
        value: 'N',
        default: '10',
        number: 'whole',
        about: 'lines per move',
      },
      rounds: {
        type: 'string',
        value: 'N',
        default: '3',
        number: 'whole',
        about: 'rounds of each case, their median printed',
      },
      'odoo-workers': {
        type: 'string',
        value: 'N',
        multiple: true,
        number: 'whole',
        about: 'the cases again, on the same server started with workers = N: prefork',
      },
      variant: {
        type: 'string',
        value: "'KEY=VALUE …'",
        multiple: true,
        about:
          'each round also runs the product with these settings, on a fresh database of its own',
      },
      against: {
        type: 'string',
        value: 'DIR',
        multiple: true,
        about:
          "another checkout's product (its dist/ built) runs the same way, every setting at its default",
      },
      ...BUILD_OPTIONS,
      json: { type: 'boolean', about: 'print the result as JSON' },
    },
    examples: [
      'npx tsx bench/real-odoo-bench.ts --case moves --no-build',
      'npx tsx bench/real-odoo-bench.ts --rounds 3 --variant ODOO_MAX_CONCURRENT_CALLS=1',
      'npm run bench -- real-odoo',
    ],
  });
  // Read before the build: a malformed one is a usage error, not a failure minutes later.
  const variants = (() => {
    try {
      return [
        ...(values.variant ?? []).map(parseVariant),
        ...(values.against ?? []).map(checkoutVariant),
      ];
    } catch (error) {
      return fail(describeError(error));
    }
  })();
  if (!values['no-build']) buildDist();
  const result = await runRealOdooBench({
    start: values.start,
    stop: values.stop,
    cases: values.case ?? Object.keys(CASES),
    partners: Number(values.partners),
    moves: Number(values.moves),
    lines: Number(values.lines),
    rounds: Number(values.rounds),
    workers: [0, ...(values['odoo-workers'] ?? []).map(Number)],
    variants,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(
    values.json ? `${JSON.stringify(result)}\n` : `${describeRealOdooBench(result)}\n`,
  );
  process.exit(0);
}
