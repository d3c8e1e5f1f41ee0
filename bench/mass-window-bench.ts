/**
 * A mass window: a mass update in Odoo (a recomputed stored field, an import, a sync resumed after
 * days) puts every record of a large copy in one run's window. The compiled CLI
 * (`npm run sync -- run`, as `start:sync` starts it, every setting at its default, a fresh process
 * each run) makes a first copy of 250,000 BCs × 12 lines (3.25 million records), then copies them
 * again as one window, then once more as a window of records the copy has never seen, over each
 * transport; the bench prints each run's time, Odoo calls and peak
 * RSS (the kernel's VmHWM, read while it runs) against the goal of 250 MB (docs/performance.md,
 * "A mass window").
 *
 * The window: every record of the copy stamped a day older than Odoo's and named otherwise, the
 * watermarks years old,
 * so the run scans every record as changed, stages the scan in PostgreSQL, queues its pages a wave
 * at a time and writes every record again.
 *
 * `npx tsx bench/mass-window-bench.ts [--orders N] [--lines M] [--protocol jsonrpc,xmlrpc,json2]
 * [--cli-node-args=--heapsnapshot-signal=SIGUSR2] [--snapshot-at-mb MB] [--no-build] [--json]`, or
 * `npm run bench -- mass`. `--cli-node-args=--trace-gc` prints the CLI's collections on stderr.
 * `--snapshot-at-mb` sends the CLI SIGUSR2 once its RSS first passes MB
 * (give it `--cli-node-args=--heapsnapshot-signal=SIGUSR2`): the heap snapshot lands in the
 * working directory, for what grows with the window.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { OdooProtocol } from '../src/clients/odoo/index.js';
import type { DbHandle } from '../src/db/create-db.js';
import { BC_LINE_MODEL, BC_MODEL, bcsFamily } from '../src/families/bcs/family.js';
import { setPaused } from '../src/sync/sync-state.js';
import { startSandboxProcess } from '../dev/services/sandbox-process.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { parseBenchArgs, TRANSPORTS } from './bench-args.js';
import { markdownTable } from './report.js';
import { productionCommand } from '../dev/services/production-command.js';
import { buildDist, createDatabase, peakRssMb } from './sync-bench.js';

/** The goal: the CLI's peak RSS over every transport (docs/performance.md); 300 MB before 2026-11-26. */
export const MASS_WINDOW_RSS_LIMIT_MB = 250;
/** The window's size: 250,000 BCs × 12 lines, 3.25 million records. */
export const MASS_WINDOW_SIZE = { orders: 250_000, lines: 12 } as const;
/** How often the CLI's RSS is read while it runs. */
const RSS_POLL_MS = 100;

/**
 * A first copy of every record; then the window: each record of the copy stamped a day older than
 * Odoo's (as if Odoo had changed them all since) and the watermarks years old; then a window of
 * new records: the copy emptied, its watermarks years old, so that every record of the window is
 * one the copy has never seen (as if Odoo had created them all since the last run).
 */
const PHASES = ['first copy', 'window', 'new records'] as const;

export interface MassWindowResult {
  protocol: OdooProtocol;
  phase: (typeof PHASES)[number];
  records: number;
  seconds: number;
  odooCalls: number;
  pages: number;
  /** Root records the run wrote again. */
  updated: number;
  /** Root records the run wrote for the first time. */
  created: number;
  peakRssMb: number;
}

/** What `sync run --json` prints of a run. */
interface RunResult {
  status: string;
  counts: { odooCalls: number; pages: number; updated: number; created: number };
}

/** A process's resident memory now, from the kernel (VmRSS). */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1_024;
}

/** One `sync run` by a fresh CLI process, its peak RSS read until it exits. */
async function timedSyncRun(input: {
  env: NodeJS.ProcessEnv;
  nodeArgs: readonly string[];
  snapshotAtMb: number | undefined;
}): Promise<{ seconds: number; peakRssMb: number; result: RunResult }> {
  const production = productionCommand('start:sync');
  const startedMs = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...production.nodeArgs,
      ...input.nodeArgs,
      'dist/workers/sync-cli.js',
      'run',
      '--family',
      bcsFamily.name,
      '--json',
    ],
    { env: { ...production.env, ...input.env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  // The answer is a JSON array whose first line is `[`; anything else on stdout (`--trace-gc`'s
  // lines) goes to stderr as it comes.
  let stdout = '';
  const lines = createInterface({ input: child.stdout });
  const read = once(lines, 'close');
  lines.on('line', (line) => {
    if (stdout !== '' || line === '[') stdout += `${line}\n`;
    else process.stderr.write(`${line}\n`);
  });
  let peak = 0;
  let snapshotSent = false;
  const poll = setInterval(() => {
    try {
      peak = Math.max(peak, peakRssMb(child.pid!));
      if (
        input.snapshotAtMb !== undefined &&
        !snapshotSent &&
        rssMb(child.pid!) >= input.snapshotAtMb
      ) {
        snapshotSent = true;
        child.kill('SIGUSR2');
        process.stderr.write(`[mass window] heap snapshot asked for at ${input.snapshotAtMb} MB\n`);
      }
    } catch {
      // The process has exited between two reads: its last reading stands.
    }
  }, RSS_POLL_MS);
  const [[code]] = (await Promise.all([once(child, 'exit'), read])) as [[number | null], unknown];
  clearInterval(poll);
  const seconds = (performance.now() - startedMs) / 1_000;
  if (code !== 0) throw new Error(`sync run exited with ${code}: ${stdout.slice(-2_000)}`);
  const [outcome] = JSON.parse(stdout) as { family: string; result?: RunResult }[];
  if (outcome?.result?.status !== 'succeeded')
    throw new Error(`the run did not succeed: ${stdout.slice(-2_000)}`);
  return { seconds, peakRssMb: peak, result: outcome.result };
}

/**
 * Odoo changed every record since the copy: the copy's stamps a day older and its names other
 * than Odoo's, the watermarks years old (the run then scans every record, as after a sync resumed
 * after days). The copy's triggers are left out: this is the bench's doing, not a change the feed
 * reports.
 */
async function makeMassUpdate(db: DbHandle): Promise<void> {
  await db.sql!.begin(async (sql) => {
    await sql`set local session_replication_role = replica`;
    for (const table of ['scrap_dimagaz_bc', 'scrap_dimagaz_bc_line'])
      await sql`update ${sql(table)} set odoo_write_date = odoo_write_date - interval '1 day',
        name = 'before', data = jsonb_set(data, '{name}', '"before"')`;
    await sql`delete from sync_watermark where family = ${bcsFamily.name}`;
    const longAgo = '2000-01-01T00:00:00Z';
    await sql`insert into sync_watermark (family, model, watermark) values
      (${bcsFamily.name}, ${BC_MODEL}, ${longAgo}::timestamptz),
      (${bcsFamily.name}, ${BC_LINE_MODEL}, ${longAgo}::timestamptz)`;
  });
  await db.sql!.unsafe('vacuum (analyze)');
}

/**
 * Odoo created every record since the last run: the copy emptied, with its history (which would
 * otherwise tell the run the records were known), the watermarks years old.
 */
async function makeMassCreation(db: DbHandle): Promise<void> {
  await db.sql!.begin(async (sql) => {
    await sql`set local session_replication_role = replica`;
    await sql`truncate scrap_dimagaz_bc_line, scrap_dimagaz_bc, sync_audit`;
    await sql`update sync_watermark set watermark = '2000-01-01T00:00:00Z'::timestamptz
      where family = ${bcsFamily.name}`;
  });
  await db.sql!.unsafe('vacuum (analyze)');
}

export async function runMassWindowBench(input: {
  orders: number;
  lines: number;
  protocols: readonly OdooProtocol[];
  cliNodeArgs?: readonly string[];
  snapshotAtMb?: number;
}): Promise<MassWindowResult[]> {
  const [pg, redis, sandbox] = await Promise.all([
    startLocalPostgres(),
    startLocalRedis(),
    startSandboxProcess({
      orders: input.orders,
      lines: input.lines,
      nodeOptions: ['--max-old-space-size=12288'],
    }),
  ]);
  const results: MassWindowResult[] = [];
  try {
    for (const protocol of input.protocols) {
      const db = await createDatabase(pg.url, `mass_${protocol}`);
      try {
        await setPaused(db.db, bcsFamily.name, 'bench');
        const env = {
          PATH: process.env.PATH,
          HOME: process.env.HOME ?? '/tmp',
          DATABASE_URL: db.url,
          REDIS_URL: redis.url,
          QUEUE_PREFIX: `mass-${protocol}`,
          ODOO_URL: sandbox.env.ODOO_URL,
          ODOO_DATABASE: sandbox.env.ODOO_DATABASE,
          ODOO_USERNAME: sandbox.env.ODOO_USERNAME,
          ODOO_PASSWORD: sandbox.env.ODOO_PASSWORD,
          ODOO_PROTOCOL: protocol,
          // JSON-2 takes an API key; the sandbox's password is one.
          ...(protocol === 'json2' ? { ODOO_API_KEY: sandbox.env.ODOO_PASSWORD } : {}),
          LOG_LEVEL: 'warn',
          LOG_PRETTY: 'false',
        };
        for (const phase of PHASES) {
          if (phase === 'window') await makeMassUpdate(db);
          if (phase === 'new records') await makeMassCreation(db);
          const copied = await timedSyncRun({
            env,
            nodeArgs: input.cliNodeArgs ?? [],
            snapshotAtMb: input.snapshotAtMb,
          });
          const [counted] = await db.sql!<{ records: number }[]>`
            select (select count(*)::int from scrap_dimagaz_bc)
              + (select count(*)::int from scrap_dimagaz_bc_line) as records`;
          const expected = input.orders * (input.lines + 1);
          if (counted!.records !== expected)
            throw new Error(`the copy holds ${counted!.records} records, Odoo ${expected}`);
          // A window that wrote fewer roots again measured something else than a mass update.
          if (phase === 'window' && copied.result.counts.updated !== input.orders)
            throw new Error(
              `the window wrote ${copied.result.counts.updated} roots again, not ${input.orders}`,
            );
          if (phase === 'new records' && copied.result.counts.created !== input.orders)
            throw new Error(
              `the window of new records created ${copied.result.counts.created} roots, not ${input.orders}`,
            );
          results.push({
            protocol,
            phase,
            records: counted!.records,
            seconds: copied.seconds,
            odooCalls: copied.result.counts.odooCalls,
            pages: copied.result.counts.pages,
            updated: copied.result.counts.updated,
            created: copied.result.counts.created,
            peakRssMb: copied.peakRssMb,
          });
          process.stderr.write(
            `[mass window] ${protocol}, ${phase}: ${copied.seconds.toFixed(1)} s, peak RSS ${copied.peakRssMb.toFixed(0)} MB\n`,
          );
        }
      } finally {
        await db.close();
      }
    }
    return results;
  } finally {
    await sandbox.stop();
    await redis.stop();
    await pg.stop();
  }
}

export function describeMassWindowBench(results: readonly MassWindowResult[]): string {
  return [
    `A mass window, compiled CLI, every default (goal: peak RSS < ${MASS_WINDOW_RSS_LIMIT_MB} MB)`,
    ...markdownTable(
      [
        'transport',
        'run',
        'records',
        'time',
        'Odoo calls',
        'pages',
        'roots updated',
        'roots created',
        'peak RSS',
        'goal',
      ],
      results.map((result) => [
        result.protocol,
        result.phase,
        result.records.toLocaleString('en'),
        `${result.seconds.toFixed(1)} s`,
        result.odooCalls,
        result.pages,
        result.updated.toLocaleString('en'),
        result.created.toLocaleString('en'),
        `${result.peakRssMb.toFixed(0)} MB`,
        result.peakRssMb < MASS_WINDOW_RSS_LIMIT_MB ? 'met' : 'missed',
      ]),
    ),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, fail } = parseBenchArgs({
    command: 'npx tsx bench/mass-window-bench.ts',
    about:
      "A mass window: the compiled sync CLI's first copy of BCs × lines, then every record changed in one window, then every record new in one window, over each transport; each run's time, Odoo calls and peak RSS against the goal of 250 MB.",
    options: {
      orders: {
        type: 'string',
        value: 'N',
        default: String(MASS_WINDOW_SIZE.orders),
        number: 'whole',
        about: 'BCs in the copy',
      },
      lines: {
        type: 'string',
        value: 'M',
        default: String(MASS_WINDOW_SIZE.lines),
        number: 'whole',
        about: 'lines per BC',
      },
      protocol: {
        type: 'string',
        value: 'P,…',
        default: 'jsonrpc,xmlrpc,json2',
        about: `the transports copied over, separated by commas: ${TRANSPORTS.join(', ')}`,
      },
      'cli-node-args': {
        type: 'string',
        value: 'ARG',
        multiple: true,
        about:
          'a Node option for the CLI, written --cli-node-args=--trace-gc: that one prints its collections on stderr',
      },
      'snapshot-at-mb': {
        type: 'string',
        value: 'MB',
        number: 'decimal',
        about:
          'send the CLI SIGUSR2 once its RSS first passes MB; with --cli-node-args=--heapsnapshot-signal=SIGUSR2, a heap snapshot lands in the working directory',
      },
      'no-build': {
        type: 'boolean',
        default: false,
        about: 'run dist/ as it is (otherwise built first)',
      },
      json: { type: 'boolean', default: false, about: 'print the results as JSON' },
    },
    examples: [
      'npx tsx bench/mass-window-bench.ts --orders 20000 --lines 10 --protocol jsonrpc',
      'npm run bench -- mass',
    ],
  });
  const protocols = values.protocol.split(',');
  const unknown = protocols.find(
    (protocol) => !(TRANSPORTS as readonly string[]).includes(protocol),
  );
  if (unknown !== undefined)
    fail(`--protocol: "${unknown}" is not one of ${TRANSPORTS.join(', ')}`);
  if (!values['no-build']) buildDist();
  const results = await runMassWindowBench({
    orders: Number(values.orders),
    lines: Number(values.lines),
    protocols: protocols as OdooProtocol[],
    cliNodeArgs: values['cli-node-args'] ?? [],
    ...(values['snapshot-at-mb'] === undefined
      ? {}
      : { snapshotAtMb: Number(values['snapshot-at-mb']) }),
  });
  console.log(values.json ? JSON.stringify(results, null, 2) : describeMassWindowBench(results));
}
