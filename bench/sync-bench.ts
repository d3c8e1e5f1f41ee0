/**
 * Sync benchmark: the product's sync against the bare pipeline (bench/bare-pipeline.ts), in one
 * run, on the same data, from the same Odoo sandbox (a process of its own) into two databases of
 * one throw-away PostgreSQL:
 *
 * 1. a full copy into an empty database: the bare pipeline, then the product, one right after the
 *    other (`--product-first` swaps them);
 * 2. 10% of the BCs changed in Odoo, then the same window (watermark − overlap) read again: the
 *    bare pipeline and the product's incremental run, in the same order.
 *
 * The product runs as operators run it: the compiled worker (`dist/workers/main.js`, production
 * defaults) in its own process, its runs queued through BullMQ and awaited; its peak RSS is the
 * kernel's high-water mark of that process (VmHWM). The bare pipeline runs the same way: bundled
 * like the worker and started with the worker's Node options and memory settings, so the ratio
 * measures what the product does more (queue, lease, change detection, audit), not two runtimes.
 * For context, the bare pipeline also copies once at Node's default heap sizing, which trades
 * memory for fewer garbage collections.
 *
 * `npx tsx bench/sync-bench.ts [--protocol xmlrpc|jsonrpc|json2] [--orders N] [--lines M]
 * [--product-only] [--configured] [--product-first] [--statements] [--verify]
 * [--queues redis|postgres] [--seeds-plan] [--worker-node-args=--trace-gc] [--worker-log]
 * [--worker-env K=V]… [--json]`:
 * - `--queues postgres`: the worker's queues in the product's database (QUEUE_BACKEND=postgres),
 *   no Redis at all; the copies' and a storm of per-record jobs' time and PostgreSQL's CPU then
 *   say what they cost;
 * - `--configured`: the product copies the BC models declared in a file, the bare pipeline the
 *   same declaration into the same tables, and a second bare pipeline the BC family's narrower
 *   tables, for what the declaration's width costs;
 * - `--statements`: the statements that took PostgreSQL longest in each full copy and in the
 *   webhook storm, from pg_stat_statements, with the time JIT compiling took of it, and the
 *   statements of all kinds counted, on stderr;
 * - `--verify`: then a fresh worker verifies every record;
 * - `--seeds-plan`: after the product's full copy, the seeds' plan done literally copies the same
 *   records into a database of its own (bench/seeds-plan.ts): the copy's own cost against it,
 *   with the round trips the plan waited on and what one took on this machine just before.
 *
 * It builds dist/ first, unless `--no-build`; `npm run bench` runs it per transport.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import postgres from 'postgres';
import { createOdooClient, type OdooClient, type OdooProtocol } from '../src/clients/odoo/index.js';
import { readFamiliesFile } from '../src/config/families-file.js';
import { createDb, type DbHandle } from '../src/db/create-db.js';
import { applyLayouts } from '../src/families/configured/apply-layouts.js';
import { runMigrations } from '../src/db/migrate.js';
import { BUILD_OPTIONS, COPY_SIZE_OPTIONS, parseBenchArgs, TRANSPORTS } from './bench-args.js';
import { openBenchProducer, type BenchQueues } from './bench-runtime.js';
import { runQueueMigrations } from '../src/stores/queue-store.js';
import { BC_LINE_MODEL, BC_MODEL, bcsFamily } from '../src/families/bcs/family.js';
import { setPaused } from '../src/sync/sync-state.js';
import {
  startSandboxProcess,
  stopChild,
  type SandboxProcess,
} from '../dev/services/sandbox-process.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { bundleOptions } from '../build.js';
import { productionCommand } from '../dev/services/production-command.js';
import type { BareCopy, BareFigures, BareSpec } from './bare-pipeline.js';
import { median } from './report.js';
import { copyAsSeedsPlan } from './seeds-plan.js';

/** SYNC_OVERLAP_SECONDS's default: the window both sides read again after the change. */
const OVERLAP_SECONDS = 600;
const CHANGED_FRACTION = 0.1;
/** Per-record jobs queued at once after the copies, as a webhook storm does. */
const STORM_JOBS = 2_000;

export interface SyncBenchResult {
  protocol: OdooProtocol;
  /** The family the product copied: the BC family declared in code, or the same models configured. */
  family: string;
  orders: number;
  records: number;
  changedBcs: number;
  postgresVersion: string;
  bare?: {
    fullSeconds: number;
    changedSeconds: number;
    fullCpu: CpuSplit;
    changedCpu: CpuSplit;
    peakRssMb: number;
    /** A full copy at Node's default heap sizing (no memory settings), for context. */
    defaultHeap: { fullSeconds: number; peakRssMb: number; copierCpu: number };
    /** The old yardstick, without history rows, for continuity. */
    legacy: { fullSeconds: number; changedSeconds: number };
  };
  /**
   * With `--configured`, `bare` copies the configured declaration into its tables, and this one
   * the BC family declared in code into its narrower tables: what the declaration's width costs.
   */
  bareCode?: { fullSeconds: number; changedSeconds: number; fullCpu: CpuSplit };
  product: {
    /** QUEUE_BACKEND. */
    queues: 'redis' | 'postgres';
    fullSeconds: number;
    changedSeconds: number;
    fullOdooCalls: number;
    changedOdooCalls: number;
    /**
     * A run that finds nothing new, right after the full copy, on the worker that ran it: the
     * roots within the overlap, which the full copy wrote itself, are proven by their audit rows
     * (docs/sync.md, "Settled stamps"), not read again.
     */
    firstIdleOdooCalls: number;
    /** The idle run after that one: what a quiet Odoo costs a long-running worker. */
    idleOdooCalls: number;
    peakRssMb: number;
    fullCpu: CpuSplit;
    changedCpu: CpuSplit;
    /**
     * The run right after the 10 % changed rerun, nothing changed meanwhile: it reads the changed
     * BCs again (they are within the overlap and not settled yet) and finds every one current,
     * as each run of a busy Odoo finds most of its window.
     */
    unchanged: { seconds: number; odooCalls: number; cpu: CpuSplit };
    /** STORM_JOBS per-record jobs queued at once (webhook-record), each reading one BC. */
    recordJobs: { jobs: number; seconds: number; cpu: CpuSplit };
  };
  /**
   * The seeds' plan's full copy of the same records (`--seeds-plan`), over XML-RPC: its time, its
   * round trips (Odoo calls, statements) and what one round trip took just before it (median of
   * ROUND_TRIPS_TIMED, to Odoo a read of one line, to PostgreSQL `select 1`). The plan waits on
   * some 500,000 round trips one after the other, so its time, and goal 10's ratio, move with
   * the machine's round trip as much as with anything the product does.
   */
  seedsPlan?: {
    fullSeconds: number;
    odooCalls: number;
    statements: number;
    roundTripMs: { odoo: number; postgres: number };
    cpu: CpuSplit;
  };
  /** A verify of every record, on a fresh worker, after the copy is current (`--verify`). */
  verify?: {
    seconds: number;
    odooCalls: number;
    recordsChecked: number;
    drifted: number;
    /** The fresh worker's peak: what a verify itself holds. */
    peakRssMb: number;
    cpu: CpuSplit;
  };
}

/**
 * The compiled worker as `npm run start:worker` starts it, on `env`, once it logged `worker
 * started`; `onStarted` is given that line.
 */
export async function startWorker(
  env: NodeJS.ProcessEnv,
  nodeArgs: string[],
  echo: boolean,
  onStarted?: (line: string) => void,
  /** Another checkout's compiled worker (its dist/ built), to compare with: run from there. */
  cwd?: string,
): Promise<ChildProcess> {
  const production = productionCommand('start:worker');
  const child = spawn(
    process.execPath,
    [...production.nodeArgs, ...nodeArgs, 'dist/workers/main.js'],
    {
      env: { ...production.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
      ...(cwd === undefined ? {} : { cwd }),
    },
  );
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    if (!line.includes('worker started')) continue;
    onStarted?.(line);
    // Keep reading: a worker whose stdout pipe fills up blocks on its next log line.
    lines.on('line', (next) => echo && process.stderr.write(`${next}\n`));
    return child;
  }
  throw new Error('the worker exited before it started');
}

/**
 * A process's `/proc/<pid>/stat` from its state on (field 3 of stat(5) at index 0): the command's
 * name before it may hold spaces.
 */
export function procStat(pid: number): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
}

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSecondsOf(pid: number): number {
  try {
    const fields = procStat(pid);
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Every PostgreSQL process's CPU seconds: the bench's server is the only one it starts. */
export function postgresCpuSeconds(): number {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('postgres');
      } catch {
        return false;
      }
    })
    .reduce((sum, pid) => sum + cpuSecondsOf(Number(pid)), 0);
}

/** Where a phase's CPU went: Odoo (the sandbox), the copier, PostgreSQL. */
export interface CpuSplit {
  odoo: number;
  copier: number;
  postgres: number;
}

function cpuSplit(odooPid: number, copierPid: number | undefined): CpuSplit {
  return {
    odoo: cpuSecondsOf(odooPid),
    copier:
      copierPid === undefined
        ? process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6
        : cpuSecondsOf(copierPid),
    postgres: postgresCpuSeconds(),
  };
}

async function measured<T>(
  work: () => Promise<T>,
  odooPid: number,
  copierPid?: number,
): Promise<{ seconds: number; value: T; cpu: CpuSplit }> {
  const before = cpuSplit(odooPid, copierPid);
  const { seconds, value } = await timed(work);
  const after = cpuSplit(odooPid, copierPid);
  return {
    seconds,
    value,
    cpu: {
      odoo: after.odoo - before.odoo,
      copier: after.copier - before.copier,
      postgres: after.postgres - before.postgres,
    },
  };
}

/** The kernel's high-water mark of a process's resident memory, in MB. */
export function peakRssMb(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(match![1]) / 1_024);
}

/** Where the bench bundles its bare pipeline: beside node_modules, whose packages it imports. */
const BARE_BUILD_DIR = 'node_modules/.cache/erp-bridge-bench';

/** The bare pipeline bundled as the worker is (build.ts); resolves with the script's path. */
async function buildBarePipeline(): Promise<string> {
  await build(bundleOptions(['bench/bare-pipeline.ts'], BARE_BUILD_DIR));
  return `${BARE_BUILD_DIR}/bench/bare-pipeline.js`;
}

/** A bare pipeline process, ready to copy. */
interface BareProcess {
  /** One copy; Odoo's and PostgreSQL's CPU counted from the request to the answer. */
  copy(
    since: Date | null,
  ): Promise<{ seconds: number; records: number; cpu: CpuSplit; peakRssMb: number }>;
  close(): Promise<void>;
}

/**
 * The bare pipeline in a process of its own, started with the worker's Node options and memory
 * settings (or, `defaultHeap`, without the memory settings), logged in, its stored fields read
 * and its database connected, as the worker is when a run starts.
 */
async function startBare(
  script: string,
  spec: BareSpec,
  odooPid: number,
  defaultHeap = false,
): Promise<BareProcess> {
  const production = productionCommand('start:worker');
  const nodeArgs = defaultHeap
    ? production.nodeArgs.filter(
        (arg) => !/^--(max-semi-space-size|heap-growing-percent)=/.test(arg),
      )
    : production.nodeArgs;
  const child = spawn(process.execPath, [...nodeArgs, script, JSON.stringify(spec)], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(defaultHeap ? {} : production.env) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (what: string) => {
    const line = await lines.next();
    if (line.done) throw new Error(`the bare pipeline exited (${await exited}) before ${what}`);
    return line.value;
  };
  if ((await next('it was ready')) !== 'ready') throw new Error('the bare pipeline did not start');
  return {
    async copy(since) {
      const before = {
        odoo: cpuSecondsOf(odooPid),
        copier: cpuSecondsOf(child.pid!),
        postgres: postgresCpuSeconds(),
      };
      const request: BareCopy = { since: since?.toISOString() ?? null };
      child.stdin.write(`${JSON.stringify(request)}\n`);
      const figures = JSON.parse(await next('it copied')) as BareFigures;
      const cpu = {
        odoo: cpuSecondsOf(odooPid) - before.odoo,
        copier: cpuSecondsOf(child.pid!) - before.copier,
        postgres: postgresCpuSeconds() - before.postgres,
      };
      return {
        seconds: figures.seconds,
        records: figures.records,
        cpu,
        peakRssMb: peakRssMb(child.pid!),
      };
    },
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}

/** An empty database `name` on the server of `adminUrl`; resolves with its URL. */
async function createEmptyDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createDatabase(adminUrl: string, name: string): Promise<DbHandle> {
  const db = await createDb({ url: await createEmptyDatabase(adminUrl, name), poolMax: 4 });
  await runMigrations(db);
  return db;
}

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const startedMs = performance.now();
  const value = await work();
  return { seconds: (performance.now() - startedMs) / 1_000, value };
}

/**
 * The BC models declared in a file instead of in code: the same data, tables `migrate` makes from
 * fields_get (a typed column per field, a link table for the lines' taxes), filtered and sorted
 * like the BC routes. Copying it against the BC family measures what a configured family costs.
 */
const CONFIGURED_FAMILY = 'bcs_configured';
const CONFIGURED_FILE = `families:
  - name: ${CONFIGURED_FAMILY}
    model: dimagaz.bc
    table: bc_configured
    children: [{ model: dimagaz.bc.line, link: bc_id, table: bc_line_configured }]
    api:
      filter: [state, partner_id, name, origin]
      sort: [name, date_order, amount_total]
`;

/**
 * Writes the declaration file and creates its tables in each database; resolves with the worker's
 * settings and the bare pipeline's.
 */
async function configureFamily(
  dbs: readonly DbHandle[],
  odoo: OdooClient,
): Promise<{
  env: Record<string, string>;
  tables: string[];
  bare: NonNullable<BareSpec['family']>;
  close: () => Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-bench-'));
  const path = join(dir, 'families.yaml');
  writeFileSync(path, CONFIGURED_FILE);
  const { families, problems } = readFamiliesFile(path, { families: [], tables: [] });
  if (problems.length > 0) throw new Error(problems.join('; '));
  for (const db of dbs) await applyLayouts(db.db, odoo, families);
  return {
    env: { SYNC_FAMILIES_FILE: path, SYNC_FAMILIES: CONFIGURED_FAMILY },
    tables: ['bc_configured', 'bc_line_configured'],
    bare: { file: path, name: CONFIGURED_FAMILY },
    close: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  };
}

/** The bare pipeline's copy and the product's, one right after the other (`between` them). */
export async function inOrder<B, P>(
  productFirst: boolean | undefined,
  bare: () => Promise<B>,
  product: () => Promise<P>,
  between: () => Promise<void>,
): Promise<[B, P]> {
  if (productFirst) {
    const productCopy = await product();
    await between();
    return [await bare(), productCopy];
  }
  const bareCopy = await bare();
  await between();
  return [bareCopy, await product()];
}

/** Statements PostgreSQL spent the most time on, per database, from `pg_stat_statements`. */
async function statementsOf(db: DbHandle) {
  await db.sql!.unsafe('create extension if not exists pg_stat_statements');
  return {
    reset: async () => {
      await db.sql!.unsafe('select pg_stat_statements_reset()');
    },
    async print(what: string, of: DbHandle | undefined) {
      if (!of) return;
      const name = new URL(of.url!).pathname.slice(1);
      const rows = await db.sql!<
        { ms: number; calls: number; rows: number; jit: number; query: string }[]
      >`select round(total_exec_time)::int as ms, calls::int, rows::int,
          round(jit_generation_time + jit_inlining_time + jit_optimization_time
            + jit_emission_time)::int as jit,
          regexp_replace(left(query, 160), '[[:space:]]+', ' ', 'g') as query
        from pg_stat_statements s join pg_database d on d.oid = s.dbid
        where d.datname = ${name} order by total_exec_time desc limit 15`;
      const total = rows.reduce((sum, row) => sum + row.ms, 0);
      const [all] = await db.sql!<{ ms: number; calls: number }[]>`
        select coalesce(round(sum(total_exec_time)), 0)::int as ms,
          coalesce(sum(calls), 0)::int as calls
        from pg_stat_statements s join pg_database d on d.oid = s.dbid
        where d.datname = ${name}`;
      process.stderr.write(
        `statements of ${what} (top 15: ${total} ms; all: ${all!.calls} calls, ${all!.ms} ms)\n`,
      );
      for (const row of rows)
        process.stderr.write(
          `${String(row.ms).padStart(7)} ms ${String(row.calls).padStart(6)} calls ${String(row.rows).padStart(7)} rows ${String(row.jit).padStart(5)} ms JIT  ${row.query}\n`,
        );
    },
  };
}

/** Writes `origin` on every 1/fraction-th BC; resolves with their count. */
async function changeBcs(odoo: OdooClient, fraction: number): Promise<number> {
  const ids = await odoo.search(BC_MODEL, [], { order: 'id asc', context: { active_test: false } });
  const chosen = ids.filter((_, i) => i % Math.round(1 / fraction) === 0);
  await odoo.executeKw(BC_MODEL, 'write', [chosen, { origin: 'bench: changed' }]);
  return chosen.length;
}

/** The largest `write_date` Odoo holds for a BC: the watermark a run would have kept. */
async function lastWriteDate(odoo: OdooClient): Promise<Date> {
  const [last] = await odoo.searchRead(BC_MODEL, [], {
    fields: ['write_date'],
    order: 'write_date desc',
    limit: 1,
    context: { active_test: false },
  });
  return new Date(`${String(last!.write_date).replace(' ', 'T')}Z`);
}

export async function runSyncBench(input: {
  protocol: OdooProtocol;
  orders: number;
  lines: number;
  productOnly?: boolean;
  /** Extra Node options for the worker (`--trace-gc`, `--heapsnapshot-signal=SIGUSR2` …). */
  workerNodeArgs?: string[];
  /** Copies the worker's output to stderr. */
  workerLog?: boolean;
  /** Extra environment for the worker (`SYNC_CONCURRENCY=8` …). */
  workerEnv?: Record<string, string>;
  /** The product copies the BC models as a configured family (CONFIGURED_FILE). */
  configured?: boolean;
  /** Then a fresh worker verifies every record. */
  verify?: boolean;
  /** Prints the statements that took PostgreSQL the longest in each full copy (to stderr). */
  statements?: boolean;
  /** The product copies before the bare pipeline of the same declaration (default after). */
  productFirst?: boolean;
  /** Where the product's queues are (QUEUE_BACKEND; default redis). */
  queues?: 'redis' | 'postgres';
  /** Then the seeds' plan copies the same records (bench/seeds-plan.ts). */
  seedsPlan?: boolean;
}): Promise<SyncBenchResult> {
  const { protocol, orders, lines } = input;
  const logger = pino({ level: 'warn' });
  const [pg, redis, sandbox] = await Promise.all([
    startLocalPostgres(
      input.statements
        ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' }
        : {},
    ),
    startLocalRedis(),
    startSandboxProcess({ orders, lines }),
  ]);
  const closers: (() => Promise<unknown>)[] = [
    () => sandbox.stop(),
    () => redis.stop(),
    () => pg.stop(),
  ];
  try {
    const odoo = createOdooClient(
      {
        url: sandbox.env.ODOO_URL!,
        database: sandbox.env.ODOO_DATABASE!,
        username: sandbox.env.ODOO_USERNAME!,
        password: sandbox.env.ODOO_PASSWORD!,
        protocol,
        timeoutMs: 60_000,
        retries: 2,
      },
      { logger },
    );
    closers.unshift(() => odoo.close());
    const bareDb = input.productOnly ? undefined : await createDatabase(pg.url, 'bare');
    const bareDefaultDb = input.productOnly
      ? undefined
      : await createDatabase(pg.url, 'bare_default_heap');
    const bareLegacyDb = input.productOnly
      ? undefined
      : await createDatabase(pg.url, 'bare_legacy');
    const bareCodeDb =
      input.productOnly || !input.configured
        ? undefined
        : await createDatabase(pg.url, 'bare_code');
    const productDb = await createDatabase(pg.url, 'product');
    closers.unshift(
      () => productDb.close(),
      async () => bareDb?.close(),
      async () => bareDefaultDb?.close(),
      async () => bareLegacyDb?.close(),
      async () => bareCodeDb?.close(),
    );
    const configured = input.configured
      ? await configureFamily(
          [
            productDb,
            ...(bareDb && bareDefaultDb && bareLegacyDb
              ? [bareDb, bareDefaultDb, bareLegacyDb]
              : []),
          ],
          odoo,
        )
      : undefined;
    if (configured) closers.unshift(configured.close);
    const bareScript = input.productOnly ? undefined : await buildBarePipeline();
    const bareSpec = (
      db: DbHandle,
      declared = configured?.bare ?? null,
      audited = true,
    ): BareSpec => ({
      odoo: {
        url: sandbox.env.ODOO_URL!,
        database: sandbox.env.ODOO_DATABASE!,
        username: sandbox.env.ODOO_USERNAME!,
        password: sandbox.env.ODOO_PASSWORD!,
        protocol,
      },
      databaseUrl: db.url!,
      ...(declared ? { family: declared } : {}),
      audited,
    });
    const bare = bareDb && (await startBare(bareScript!, bareSpec(bareDb), sandbox.pid));
    closers.unshift(async () => bare?.close());
    const bareCode =
      bareCodeDb && (await startBare(bareScript!, bareSpec(bareCodeDb, null), sandbox.pid));
    closers.unshift(async () => bareCode?.close());
    // The old yardstick, without history rows: for continuity with the figures before it.
    const bareLegacy =
      bareLegacyDb &&
      (await startBare(bareScript!, bareSpec(bareLegacyDb, undefined, false), sandbox.pid));
    closers.unshift(async () => bareLegacy?.close());
    const copyOnce = async (spec: BareSpec) => {
      const once = await startBare(bareScript!, spec, sandbox.pid, true);
      try {
        return await once.copy(null);
      } finally {
        await once.close();
      }
    };
    const family = configured ? CONFIGURED_FAMILY : bcsFamily.name;
    const tables = configured?.tables ?? ['scrap_dimagaz_bc', 'scrap_dimagaz_bc_line'];
    // Scheduled runs skip while paused; the bench's own runs are asked for, so they run.
    await setPaused(productDb.db, family, 'bench');

    const queuesAt: BenchQueues =
      input.queues === 'postgres'
        ? { kind: 'postgres', url: productDb.url! }
        : { kind: 'redis', url: redis.url, prefix: `bench-${randomBytes(3).toString('hex')}` };
    // PostgreSQL only: the queues in the product's database, no Redis (migrate makes their tables).
    if (queuesAt.kind === 'postgres') await runQueueMigrations(queuesAt.url);
    const workerEnvironment = {
      PATH: process.env.PATH,
      HOME: process.env.HOME ?? '/tmp',
      DATABASE_URL: productDb.url,
      ...(queuesAt.kind === 'redis'
        ? { REDIS_URL: queuesAt.url, QUEUE_PREFIX: queuesAt.prefix }
        : { QUEUE_BACKEND: 'postgres' }),
      ODOO_URL: sandbox.env.ODOO_URL,
      ODOO_DATABASE: sandbox.env.ODOO_DATABASE,
      ODOO_USERNAME: sandbox.env.ODOO_USERNAME,
      ODOO_PASSWORD: sandbox.env.ODOO_PASSWORD,
      // The sandbox takes its password as the API key JSON-2 requires.
      ...(protocol === 'json2' ? { ODOO_API_KEY: sandbox.env.ODOO_PASSWORD } : {}),
      ODOO_PROTOCOL: protocol,
      SYNC_EVERY: '1h',
      WORKER_HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      ...configured?.env,
      ...input.workerEnv,
    };
    const worker = await startWorker(
      workerEnvironment,
      input.workerNodeArgs ?? [],
      input.workerLog ?? false,
    );
    closers.unshift(() => stopChild(worker));
    const producer = openBenchProducer(queuesAt, logger);
    const { queues } = producer;
    closers.unshift(() => producer.close());
    const productRun = async () => {
      const job = await queues.add('sync-run', { family, trigger: 'bench' });
      const result = (await producer.waitFor(job)) as {
        status: string;
        counts: { odooCalls: number };
      };
      if (result.status !== 'succeeded') throw new Error(`product run ${result.status}`);
      return result.counts.odooCalls;
    };

    // Each phase starts on a quiet server: autovacuum cleaning up after the phase before, or a
    // checkpoint writing out its pages (all the copies share one server), would otherwise run and
    // be counted during the next one.
    const settle = async () => {
      for (const db of [productDb, bareDb, bareDefaultDb, bareLegacyDb, bareCodeDb])
        await db?.sql!.unsafe('vacuum (analyze)');
      await productDb.sql!.unsafe('checkpoint');
    };
    const statements = input.statements ? await statementsOf(productDb) : undefined;
    // The yardsticks for context first, then the goal's pair side by side, in the order asked:
    // the machine's speed drifts over minutes, and so would a ratio taken minutes apart.
    await settle();
    const bareCodeFull = await bareCode?.copy(null);
    await settle();
    const bareLegacyFull = await bareLegacy?.copy(null);
    await settle();
    const bareDefaultHeap = bareDefaultDb && (await copyOnce(bareSpec(bareDefaultDb)));
    const copyBare = async () => {
      await statements?.reset();
      const copied = await bare?.copy(null);
      await statements?.print('the bare pipeline of the same declaration, full copy', bareDb);
      return copied;
    };
    const copyProduct = async () => {
      await statements?.reset();
      const copied = await measured(productRun, sandbox.pid, worker.pid);
      await statements?.print('the product, full copy', productDb);
      return copied;
    };
    await settle();
    const [bareFull, productFull] = await inOrder(
      input.productFirst,
      copyBare,
      copyProduct,
      settle,
    );
    await settle();
    const [counted] = await productDb.sql!<{ records: number }[]>`
      select (select count(*)::int from ${productDb.sql!(tables[0]!)})
        + (select count(*)::int from ${productDb.sql!(tables[1]!)}) as records`;
    // Each yardstick copies what the product copies, record for record.
    for (const [what, copy] of [
      ['bare pipeline', bareFull],
      ['bare pipeline without history rows', bareLegacyFull],
      ["bare pipeline of the BC family's tables", bareCodeFull],
    ] as const)
      if (copy && copy.records !== counted!.records)
        throw new Error(
          `the ${what} copied ${copy.records} records, the product ${counted!.records}`,
        );

    const seedsPlan = input.seedsPlan
      ? await copySeedsPlan(pg.url, sandbox, counted!.records)
      : undefined;

    // Nothing changed since the full copy: what a quiet Odoo costs a long-running worker, right
    // after the copy and once more.
    const firstIdleOdooCalls = await productRun();
    const idleOdooCalls = await productRun();
    const since = new Date((await lastWriteDate(odoo)).getTime() - OVERLAP_SECONDS * 1_000);
    const changedBcs = await changeBcs(odoo, CHANGED_FRACTION);
    const bareCodeChanged = await bareCode?.copy(since);
    await settle();
    const bareLegacyChanged = await bareLegacy?.copy(since);
    await settle();
    const [bareChanged, productChanged] = await inOrder(
      input.productFirst,
      async () => bare?.copy(since),
      () => measured(productRun, sandbox.pid, worker.pid),
      settle,
    );
    await settle();
    const productUnchanged = await measured(productRun, sandbox.pid, worker.pid);
    await settle();
    // A storm of per-record jobs, as Odoo's webhooks queue them: what each job costs the queues.
    const stormIds = (await odoo.search(BC_MODEL, [], { order: 'id asc', limit: STORM_JOBS })).map(
      Number,
    );
    await statements?.reset();
    const recordJobs = await measured(
      async () => {
        for (let i = 0; i < stormIds.length; i += 500)
          await queues.addBulk(
            'webhook-record',
            stormIds.slice(i, i + 500).map((id) => ({
              data: { family, model: BC_MODEL, recordId: id, rootId: id, receivedAtMs: Date.now() },
            })),
          );
        await producer.drained('sync-webhook');
        return stormIds.length;
      },
      sandbox.pid,
      worker.pid,
    );
    await statements?.print(`the product, ${STORM_JOBS} webhook jobs`, productDb);
    const [version] = await productDb.sql!<{ server_version: string }[]>`show server_version`;

    const productPeakMb = peakRssMb(worker.pid!);
    let verified: SyncBenchResult['verify'];
    if (input.verify) {
      // A fresh worker: its peak is what the verify holds, not what the copy before it did.
      await stopChild(worker);
      const fresh = await startWorker(
        workerEnvironment,
        input.workerNodeArgs ?? [],
        input.workerLog ?? false,
      );
      closers.unshift(() => stopChild(fresh));
      const run = await measured(
        async () => {
          const job = await queues.add('verify', { family, trigger: 'bench', all: true });
          return (await producer.waitFor(job)) as {
            status: string;
            recordsSeen: number;
            drifted: number;
            odooCalls: number;
          };
        },
        sandbox.pid,
        fresh.pid,
      );
      if (run.value.status !== 'succeeded') throw new Error(`verify ${run.value.status}`);
      verified = {
        seconds: run.seconds,
        odooCalls: run.value.odooCalls,
        recordsChecked: run.value.recordsSeen,
        drifted: run.value.drifted,
        peakRssMb: peakRssMb(fresh.pid!),
        cpu: run.cpu,
      };
    }

    return {
      protocol,
      family,
      orders,
      records: counted!.records,
      changedBcs,
      postgresVersion: version!.server_version,
      ...(bareFull && bareChanged && bareDefaultHeap && bareLegacyFull && bareLegacyChanged
        ? {
            bare: {
              fullSeconds: bareFull.seconds,
              changedSeconds: bareChanged.seconds,
              fullCpu: bareFull.cpu,
              changedCpu: bareChanged.cpu,
              peakRssMb: Math.max(bareFull.peakRssMb, bareChanged.peakRssMb),
              defaultHeap: {
                fullSeconds: bareDefaultHeap.seconds,
                peakRssMb: bareDefaultHeap.peakRssMb,
                copierCpu: bareDefaultHeap.cpu.copier,
              },
              legacy: {
                fullSeconds: bareLegacyFull.seconds,
                changedSeconds: bareLegacyChanged.seconds,
              },
            },
          }
        : {}),
      ...(bareCodeFull && bareCodeChanged
        ? {
            bareCode: {
              fullSeconds: bareCodeFull.seconds,
              changedSeconds: bareCodeChanged.seconds,
              fullCpu: bareCodeFull.cpu,
            },
          }
        : {}),
      product: {
        queues: queuesAt.kind,
        fullSeconds: productFull.seconds,
        changedSeconds: productChanged.seconds,
        fullOdooCalls: productFull.value,
        changedOdooCalls: productChanged.value,
        firstIdleOdooCalls,
        idleOdooCalls,
        peakRssMb: productPeakMb,
        fullCpu: productFull.cpu,
        changedCpu: productChanged.cpu,
        unchanged: {
          seconds: productUnchanged.seconds,
          odooCalls: productUnchanged.value,
          cpu: productUnchanged.cpu,
        },
        recordJobs: { jobs: recordJobs.value, seconds: recordJobs.seconds, cpu: recordJobs.cpu },
      },
      ...(seedsPlan ? { seedsPlan } : {}),
      ...(verified ? { verify: verified } : {}),
    };
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

/** Round trips timed, one after the other, for the median of one. */
const ROUND_TRIPS_TIMED = 500;

async function medianRoundTripMs(trip: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS_TIMED; i += 1) {
    const start = performance.now();
    await trip();
    times.push(performance.now() - start);
  }
  return median(times);
}

/**
 * The seeds' plan's full copy from the sandbox into a database of its own, over XML-RPC as the
 * plan reads Odoo, in this process; checked to copy `records` records, as the product did.
 */
async function copySeedsPlan(
  serverUrl: string,
  sandbox: Pick<SandboxProcess, 'env' | 'pid'>,
  records: number,
): Promise<NonNullable<SyncBenchResult['seedsPlan']>> {
  let statements = 0;
  const sql = postgres(await createEmptyDatabase(serverUrl, 'seeds'), {
    max: 1,
    onnotice: () => undefined,
    debug: () => (statements += 1),
  });
  const odoo = createOdooClient(
    {
      url: sandbox.env.ODOO_URL!,
      database: sandbox.env.ODOO_DATABASE!,
      username: sandbox.env.ODOO_USERNAME!,
      password: sandbox.env.ODOO_PASSWORD!,
      protocol: 'xmlrpc',
      timeoutMs: 30_000,
      retries: 0,
    },
    { logger: pino({ level: 'warn' }) },
  );
  try {
    const [line] = await odoo.searchRead(BC_LINE_MODEL, [], {
      fields: ['name'],
      order: 'id',
      limit: 1,
    });
    const roundTripMs = {
      odoo: await medianRoundTripMs(() => odoo.read(BC_LINE_MODEL, [line!.id], ['name'])),
      postgres: await medianRoundTripMs(() => sql`select 1`),
    };
    statements = 0;
    const run = await measured(() => copyAsSeedsPlan(odoo, sql), sandbox.pid, process.pid);
    const copied = run.value.bcs + run.value.lines;
    if (run.value.errors > 0 || copied !== records)
      throw new Error(
        `the seeds' plan copied ${copied} records with ${run.value.errors} errors, the product ${records}`,
      );
    return {
      fullSeconds: run.seconds,
      odooCalls: run.value.odooCalls,
      statements,
      roundTripMs,
      cpu: run.cpu,
    };
  } finally {
    await odoo.close();
    await sql.end();
  }
}

/** The production build the worker runs. */
export function buildDist(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseBenchArgs({
    command: 'npx tsx bench/sync-bench.ts',
    about:
      "The product's sync against the bare pipeline, on the same data from one Odoo sandbox: a full copy, then the same window read again after 10 % of the BCs changed; each copy's time, Odoo calls, PostgreSQL's CPU and the compiled worker's peak RSS.",
    options: {
      protocol: {
        type: 'string',
        value: TRANSPORTS.join('|'),
        default: 'xmlrpc',
        choices: TRANSPORTS,
        about: 'the transport',
      },
      ...COPY_SIZE_OPTIONS,
      'product-only': { type: 'boolean', about: 'the product alone, no bare pipeline' },
      ...BUILD_OPTIONS,
      'worker-node-args': {
        type: 'string',
        value: 'ARGS',
        about:
          "Node options for the worker after its production ones, separated by spaces: --worker-node-args='--trace-gc --heap-growing-percent=G'",
      },
      'worker-log': { type: 'boolean', about: "copy the worker's output to stderr" },
      'worker-env': {
        type: 'string',
        value: 'K=V',
        multiple: true,
        about: "a setting for the worker's environment, say SYNC_CONCURRENCY=8",
      },
      configured: {
        type: 'boolean',
        about:
          "the product copies the BC models declared in a file, the bare pipeline the same declaration and, for what the width costs, the BC family's tables",
      },
      verify: { type: 'boolean', about: 'then a fresh worker verifies every record' },
      statements: {
        type: 'boolean',
        about:
          'the statements that took PostgreSQL longest in each full copy and in the webhook storm, from pg_stat_statements, on stderr',
      },
      'product-first': {
        type: 'boolean',
        about: 'the product copies first, the bare pipeline after',
      },
      queues: {
        type: 'string',
        value: 'redis|postgres',
        default: 'redis',
        choices: ['redis', 'postgres'],
        about:
          "where the worker's queues are: Redis, or the product's PostgreSQL with no Redis at all",
      },
      'seeds-plan': {
        type: 'boolean',
        about:
          "after the product's full copy, the seeds' plan done literally copies the same records (bench/seeds-plan.ts)",
      },
      json: { type: 'boolean', about: 'print the result on one line (otherwise indented)' },
    },
    examples: [
      'npx tsx bench/sync-bench.ts --protocol jsonrpc --seeds-plan',
      'npx tsx bench/sync-bench.ts --protocol jsonrpc --product-only --verify --no-build',
      'npm run bench -- sync',
    ],
  });
  if (!values['no-build']) buildDist();
  const result = await runSyncBench({
    protocol: values.protocol,
    orders: Number(values.orders),
    lines: Number(values.lines),
    productOnly: values['product-only'],
    workerNodeArgs: values['worker-node-args']?.split(' ').filter(Boolean),
    workerLog: values['worker-log'],
    configured: values.configured,
    verify: values.verify,
    statements: values.statements,
    productFirst: values['product-first'],
    queues: values.queues,
    seedsPlan: values['seeds-plan'],
    workerEnv: Object.fromEntries(
      (values['worker-env'] ?? []).map((pair) => [
        pair.split('=')[0]!,
        pair.split('=').slice(1).join('='),
      ]),
    ),
  });
  process.stdout.write(`${JSON.stringify(result, null, values.json ? undefined : 2)}\n`);
  process.exit(0);
}
