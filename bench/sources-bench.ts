/**
 * Sources (docs/sources.md), measured with the compiled worker as a deployment runs it:
 *
 * 1. Fairness. Source `big` copies `--big` BCs × 2 lines from scratch while the default source's
 *    Odoo edits its BCs (`--rate` a second for `--seconds`), each edit posted by Odoo's webhook to
 *    the API (a process of its own, as deployed); the lag of each edit is the time from the edit to
 *    the row in PostgreSQL (polled every 20 ms). Prints p50, p95 and max, and how far the big copy
 *    got meanwhile. `--big-concurrency N` gives big that share of the worker's slots
 *    (docs/sources.md, "Queues"). Then big's Odoo is
 *    down (every call a proxy's 502) for `--down` seconds while the edits go on, then its
 *    credentials are refused as long: the default source's lag again, and a run of it queued
 *    halfway through each; and how long after big's Odoo is back a run of big succeeds.
 * 2. Scale. `--sources` sources (the default one and the others of a sources file), each copying
 *    the BC family and the partners from a database of one sandbox: how long until every family's
 *    first copy succeeded, the worker's peak RSS, PostgreSQL's connections, Redis's connections
 *    and keys, in all and per source.
 *
 * `npx tsx bench/sources-bench.ts [--big 100000] [--big-concurrency N] [--rate 10] [--seconds 30]
 * [--down 60] [--sources 50] [--no-build]`, or `npm run bench -- sources`.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createOdooSandbox, type OdooSandbox } from '../dev/sandbox/odoo-sandbox.js';
import { hashApiKey } from '../src/config/api-keys.js';
import type { DbHandle } from '../src/db/create-db.js';
import { createLogger } from '../src/lib/logger.js';
import { createQueues } from '../src/queues/queues.js';
import { redisQueues } from '../src/stores/queue-store.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { startApiProcess } from './bench-api.js';
import { parseBenchArgs } from './bench-args.js';
import { startSandboxProcess } from '../dev/services/sandbox-process.js';
import { buildDist, createDatabase, peakRssMb, startWorker } from './sync-bench.js';
import { measureWebhookLag, percentile, type LagSample } from './webhook-lag.js';

const run = promisify(execFile);

/** The default source while big's Odoo fails: its edits' lag, and a run of it. */
export interface FailingSample {
  readonly seconds: number;
  readonly edits: number;
  readonly seen: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  /** A run of the default source queued halfway through: from queued to succeeded. */
  readonly defaultRunSeconds: number;
}

export interface FairnessResult {
  readonly bigRecords: number;
  /** Big's `concurrency`, when the bench gave it one. */
  readonly bigConcurrency: number | undefined;
  readonly edits: number;
  readonly seen: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  /** BCs of the big source copied when the edits ended, of `bigRecords`. */
  readonly bigCopiedDuringEdits: number;
  /** The default source's lag, and a run of it, while big's Odoo was down. */
  readonly down: FailingSample;
  /** The same while big's credentials were refused. */
  readonly revoked: FailingSample;
  /** From big's Odoo back to a run of big that succeeded. */
  readonly recoveredSeconds: number;
}

export interface ScaleResult {
  readonly sources: number;
  readonly families: number;
  readonly firstCopiesSeconds: number;
  readonly workerPeakRssMb: number;
  readonly postgresConnections: number;
  readonly redisKeys: number;
  /** Clients of the queues' Redis: the worker's, each of its BullMQ workers blocking one. */
  readonly redisConnections: number;
}

/**
 * A source of the sources file: one sandbox database, its password from the environment
 * (`passwordEnv` names the variable).
 */
const sourceEntry = (
  odoo: { readonly url: string; readonly username: string },
  name: string,
  database: string,
  families: string,
  concurrency?: number,
  passwordEnv = 'BENCH_ODOO_PASSWORD',
) =>
  `  - name: ${name}\n    odoo: { url: "${odoo.url}", database: ${database}, username: ${odoo.username}, password: { env: ${passwordEnv} }, protocol: jsonrpc }\n    families: [${families}]\n` +
  (concurrency === undefined ? '' : `    concurrency: ${concurrency}\n`);

interface Deployment {
  readonly db: DbHandle;
  readonly env: NodeJS.ProcessEnv;
  readonly worker: ChildProcess;
  readonly redisUrl: string;
  readonly stops: (() => Promise<void>)[];
}

/** PostgreSQL, Redis, a migrated database, `migrate` run with the sources file, a worker. */
async function deploy(
  sandbox: OdooSandbox,
  sourcesFile: string,
  extra: Record<string, string>,
): Promise<Deployment> {
  const stops: (() => Promise<void>)[] = [];
  const [pg, redis] = await Promise.all([startLocalPostgres(), startLocalRedis()]);
  stops.push(
    () => pg.stop(),
    () => redis.stop(),
  );
  const db = await createDatabase(pg.url, 'sources_bench');
  stops.push(() => db.close());
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: `bench-${randomBytes(3).toString('hex')}`,
    ODOO_URL: sandbox.url,
    ODOO_DATABASE: sandbox.database,
    ODOO_USERNAME: sandbox.username,
    ODOO_PASSWORD: sandbox.password,
    ODOO_PROTOCOL: 'jsonrpc',
    BENCH_ODOO_PASSWORD: sandbox.password,
    SYNC_SOURCES_FILE: sourcesFile,
    SYNC_EVERY: '1h',
    WORKER_HTTP_PORT: '0',
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
    ...extra,
  };
  await run(process.execPath, ['dist/src/cli/migrate.js'], { env, maxBuffer: 64 * 1024 * 1024 });
  const worker = await startWorker({ ...env, LOG_LEVEL: 'info' }, [], false);
  stops.push(async () => {
    worker.kill('SIGTERM');
    await once(worker, 'exit');
  });
  return { db, env, worker, redisUrl: redis.url, stops };
}

/** Families whose last run succeeded, of those named. */
async function succeeded(db: DbHandle, families: readonly string[]): Promise<number> {
  const [row] = await db.sql!<{ n: number }[]>`
    select count(distinct family)::int as n from sync_log
    where status = 'succeeded' and family = any(${families as string[]}::text[])`;
  return row!.n;
}

export async function runFairnessBench(options: {
  big: number;
  rate: number;
  seconds: number;
  /** How long big's Odoo is down. */
  down: number;
  /** Big's share of the worker's slots (its `concurrency`); SYNC_CONCURRENCY when absent. */
  bigConcurrency?: number;
}): Promise<FairnessResult> {
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-sources-bench-'));
  // The default source's Odoo here, where the bench edits it; big's a server of its own, as
  // another company's Odoo is: its million records' heap and its CPU are not the bench's, whose
  // clock times the edits.
  const sandbox = createOdooSandbox({
    databases: { small_db: { orders: 2_000, linesPerOrder: 2, seed: 8 } },
  });
  await sandbox.start();
  const stops: (() => Promise<void>)[] = [() => sandbox.stop()];
  try {
    const bigOdoo = await startSandboxProcess({
      orders: options.big,
      lines: 2,
      database: 'big_db',
      control: true,
      // A million BCs with their lines take gigabytes.
      nodeOptions: ['--max-old-space-size=12288'],
    });
    stops.push(() => bigOdoo.stop());
    const token = randomBytes(32).toString('base64url');
    const file = join(dir, 'sources.yaml');
    writeFileSync(
      file,
      `sources:\n${sourceEntry(
        { url: bigOdoo.env.ODOO_URL!, username: bigOdoo.env.ODOO_USERNAME! },
        'big',
        'big_db',
        'bcs',
        options.bigConcurrency,
        'BENCH_BIG_PASSWORD',
      )}`,
    );
    const deployment = await deploy(sandbox, file, {
      SYNC_FAMILIES: 'bcs',
      ODOO_WEBHOOK_TOKENS: hashApiKey(token),
      BENCH_BIG_PASSWORD: bigOdoo.env.ODOO_PASSWORD!,
    });
    stops.push(...deployment.stops.reverse());
    const { db } = deployment;
    const logger = createLogger({ level: 'warn', pretty: false, name: 'bench' });
    // The bench's runs of big, on the worker's queues.
    const connection = new Redis(deployment.redisUrl, { maxRetriesPerRequest: null });
    stops.push(() => Promise.resolve(connection.disconnect()));
    const queues = createQueues({
      backend: redisQueues(connection, deployment.env.QUEUE_PREFIX!),
      settings: { attempts: 3, backoffMs: 1_000 },
      logger,
    });
    stops.push(() => queues.close());
    // The compiled API in a process of its own, as deployed: Odoo's webhooks go to it.
    const api = await startApiProcess({
      ...(deployment.env as Record<string, string>),
      API_KEYS: `bench:reader:${hashApiKey('unused')}`,
    });
    stops.push(async () => {
      api.child.kill('SIGTERM');
      await once(api.child, 'exit');
    });
    const address = api.origin;

    // The small source's first copy done, the big one's under way: the edits start.
    while ((await succeeded(db, ['bcs'])) === 0) await sleep(200);
    const small = sandbox.db('small_db').control;
    small.setWebhook({ url: `${address}/hooks/odoo/${token}`, fields: ['write_date'] });
    const editFor = (seconds: number, label: string) =>
      measureWebhookLag({ db, control: small, rate: options.rate, seconds, label });
    const first = await editFor(options.seconds, 'busy');
    const [copied] = await db.sql!<{ n: number }[]>`
      select count(*)::int as n from big.scrap_dimagaz_bc`;

    // A run of a family until one succeeds (a run of big is skipped while one its Odoo failed holds
    // the lease, and fails while its retries are spent); the seconds it took.
    const runUntilSucceeded = async (family: string): Promise<number> => {
      const startedMs = performance.now();
      for (let job = await queues.add('sync-run', { family, trigger: 'bench' }); ;) {
        await sleep(200);
        const fresh = await queues.ofFamily('sync', family).getJob(job.id!);
        const state = await fresh?.getState();
        if (
          state === 'completed' &&
          (fresh!.returnvalue as { status?: string }).status === 'succeeded'
        )
          return (performance.now() - startedMs) / 1_000;
        if (state === 'completed' || state === 'failed' || state === undefined)
          job = await queues.add('sync-run', { family, trigger: 'bench' });
      }
    };
    // While big's Odoo fails, the default source's edits go on, and so does a run of it.
    const whileBigFails = async (label: string) => {
      const [lag, runSeconds] = await Promise.all([
        editFor(options.down, label),
        sleep((options.down * 1_000) / 2).then(() => runUntilSucceeded('bcs')),
      ]);
      return { ...lag, runSeconds };
    };
    // Big's Odoo down: every call a proxy's error page (a fault of JSON's own: no Infinity).
    await bigOdoo.control({
      op: 'fault',
      rule: { kind: 'html', status: 502, times: Number.MAX_SAFE_INTEGER },
    });
    const down = await whileBigFails('outage');
    await bigOdoo.control({ op: 'clearFaults' });
    // Big's credentials revoked: every login and call refused.
    await bigOdoo.control({
      op: 'password',
      password: `revoked-${randomBytes(4).toString('hex')}`,
    });
    const revoked = await whileBigFails('revoked');
    await bigOdoo.control({ op: 'password', password: bigOdoo.env.ODOO_PASSWORD! });
    const backMs = performance.now();
    await runUntilSucceeded('big.bcs');
    const recoveredSeconds = (performance.now() - backMs) / 1_000;
    const failing = (sample: LagSample & { runSeconds: number }): FailingSample => ({
      seconds: options.down,
      edits: sample.edits,
      seen: sample.seen,
      p95Ms: percentile(sample.lagsMs, 0.95),
      maxMs: sample.lagsMs.at(-1) ?? Number.NaN,
      defaultRunSeconds: sample.runSeconds,
    });
    return {
      bigRecords: options.big,
      bigConcurrency: options.bigConcurrency,
      edits: first.edits,
      seen: first.seen,
      p50Ms: percentile(first.lagsMs, 0.5),
      p95Ms: percentile(first.lagsMs, 0.95),
      maxMs: first.lagsMs.at(-1) ?? Number.NaN,
      bigCopiedDuringEdits: copied!.n,
      down: failing(down),
      revoked: failing(revoked),
      recoveredSeconds,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runScaleBench(options: { sources: number }): Promise<ScaleResult> {
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-sources-bench-'));
  const names = Array.from(
    { length: options.sources - 1 },
    (_, i) => `s${String(i + 1).padStart(2, '0')}`,
  );
  const sandbox = createOdooSandbox({
    databases: Object.fromEntries(
      [['main_db', 0] as const, ...names.map((name, i) => [`${name}_db`, i + 1] as const)].map(
        ([database, seed]) => [database, { orders: 100, linesPerOrder: 2, partners: 50, seed }],
      ),
    ),
  });
  await sandbox.start();
  const stops: (() => Promise<void>)[] = [() => sandbox.stop()];
  try {
    const file = join(dir, 'sources.yaml');
    writeFileSync(
      file,
      `sources:\n${names.map((name) => sourceEntry(sandbox, name, `${name}_db`, 'bcs, partners')).join('')}`,
    );
    const startedMs = performance.now();
    const deployment = await deploy(sandbox, file, { SYNC_FAMILIES: 'bcs,partners' });
    stops.push(...deployment.stops.reverse());
    const families = [
      'bcs',
      'partners',
      ...names.flatMap((name) => [`${name}.bcs`, `${name}.partners`]),
    ];
    // Every schedule fires at the worker's start: each family's first copy.
    while ((await succeeded(deployment.db, families)) < families.length) await sleep(500);
    const firstCopiesSeconds = (performance.now() - startedMs) / 1_000;
    const [connections] = await deployment.db.sql!<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity where datname = current_database()`;
    const redis = new Redis(deployment.redisUrl);
    const redisKeys = await redis.dbsize();
    // Less this one.
    const redisConnections =
      String(await redis.call('CLIENT', 'LIST'))
        .trim()
        .split('\n').length - 1;
    redis.disconnect();
    return {
      sources: options.sources,
      families: families.length,
      firstCopiesSeconds,
      workerPeakRssMb: peakRssMb(deployment.worker.pid!),
      postgresConnections: connections!.n,
      redisKeys,
      redisConnections,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function describeSourcesBench(fair: FairnessResult, scale: ScaleResult): string[] {
  return [
    `fairness: while source big copies ${fair.bigRecords.toLocaleString('en-US')} BCs × 2 from scratch ` +
      `(its concurrency ${fair.bigConcurrency ?? 'SYNC_CONCURRENCY'}), ` +
      `${fair.edits} webhook edits on the default source: in the copy ${fair.seen}; ` +
      `p50 ${fair.p50Ms.toFixed(0)} ms, p95 ${fair.p95Ms.toFixed(0)} ms, max ${fair.maxMs.toFixed(0)} ms ` +
      `(goal: p95 < 2,000 ms); big's BCs copied meanwhile: ${fair.bigCopiedDuringEdits.toLocaleString('en-US')}`,
    ...(
      [
        ['an outage', "big's Odoo down", 'every call a 502', fair.down],
        [
          'revoked credentials',
          "big's password changed in its Odoo",
          'every login refused',
          fair.revoked,
        ],
      ] as const
    ).map(
      ([what, how, answer, sample]) =>
        `${what}: ${how} ${sample.seconds} s (${answer}), ${sample.edits} edits on the default source: ` +
        `in the copy ${sample.seen}; p95 ${sample.p95Ms.toFixed(0)} ms, max ${sample.maxMs.toFixed(0)} ms; ` +
        `a run of the default source meanwhile succeeded in ${sample.defaultRunSeconds.toFixed(1)} s`,
    ),
    `big's Odoo back: a run of big succeeded ${fair.recoveredSeconds.toFixed(1)} s later`,
    `scale: ${scale.sources} sources × 2 families (${scale.families}) on one worker: every first copy in ` +
      `${scale.firstCopiesSeconds.toFixed(1)} s (migrate and start included); worker peak RSS ` +
      `${scale.workerPeakRssMb} MB (${(scale.workerPeakRssMb / scale.sources).toFixed(1)} MB a source); ` +
      `PostgreSQL connections ${scale.postgresConnections}; Redis connections ${scale.redisConnections}; ` +
      `Redis keys ${scale.redisKeys} ` +
      `(${(scale.redisKeys / scale.sources).toFixed(0)} a source)`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseBenchArgs({
    command: 'npx tsx bench/sources-bench.ts',
    about:
      "Sources, with the compiled worker and API as deployed. Fairness: the default source's webhook lag while source big makes a first copy, then while big's Odoo is down, then while its credentials are refused. Scale: many sources on one worker, each copying two families: time to every first copy, peak RSS, connections, Redis keys.",
    options: {
      big: {
        type: 'string',
        value: 'N',
        default: '100000',
        number: 'whole',
        about: "BCs of 2 lines in big's first copy",
      },
      rate: {
        type: 'string',
        value: 'R',
        default: '10',
        number: 'decimal',
        about: "edits a second to the default source's BCs, each posted by its webhook",
      },
      seconds: {
        type: 'string',
        value: 'S',
        default: '30',
        number: 'decimal',
        about: 'how long the edits go on during the first copy',
      },
      down: {
        type: 'string',
        value: 'S',
        default: '60',
        number: 'decimal',
        about: "seconds big's Odoo is down, and then as many its credentials are refused",
      },
      sources: {
        type: 'string',
        value: 'N',
        default: '50',
        number: 'whole',
        about: 'sources on one worker for the scale part, the default one among them',
      },
      'big-concurrency': {
        type: 'string',
        value: 'N',
        number: 'whole',
        defaultText: 'SYNC_CONCURRENCY',
        about: "big's jobs of each kind at once: its concurrency in the sources file",
      },
      'no-build': {
        type: 'boolean',
        default: false,
        about: 'run dist/ as it is (otherwise built first)',
      },
    },
    examples: [
      'npx tsx bench/sources-bench.ts --big 20000 --seconds 10 --down 20 --sources 10',
      'npm run bench -- sources',
    ],
  });
  if (!values['no-build']) buildDist();
  const fair = await runFairnessBench({
    big: Number(values.big),
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    down: Number(values.down),
    ...(values['big-concurrency'] === undefined
      ? {}
      : { bigConcurrency: Number(values['big-concurrency']) }),
  });
  const scale = await runScaleBench({ sources: Number(values.sources) });
  for (const line of describeSourcesBench(fair, scale)) console.log(line);
  process.exit(0);
}
