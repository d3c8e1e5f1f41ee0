/**
 * Transports and the call budget, in one run, on one Odoo sandbox playing 17.0 (a process of its
 * own) and one throw-away PostgreSQL: a full copy of 20,000 BCs × 10 lines by the compiled worker
 * as operators start it, into a fresh database each time,
 *
 * 1. with the default transport (ODOO_PROTOCOL unset, `auto`: JSON-RPC on 17.0),
 * 2. with XML-RPC (`ODOO_PROTOCOL=xmlrpc`, the default before `auto`),
 * 3. with the default transport under ODOO_MAX_CALLS_PER_SECOND=5,
 *
 * each with every other key at its default (pages sized by ODOO_PAGE_MAX_BYTES, four calls in
 * flight): the run's time, the Odoo calls it counted, the transport the worker chose and the
 * worker's peak RSS (VmHWM of a fresh process per copy). docs/odoo.md, "Limits and what they
 * cost", gives the figures.
 *
 * `npx tsx bench/transport-bench.ts [--orders N] [--lines M] [--no-build]`; `npm run bench --
 * transport` runs it.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { bcsFamily } from '../src/families/bcs/family.js';
import { setPaused } from '../src/sync/sync-state.js';
import { startSandboxProcess, stopChild } from '../dev/services/sandbox-process.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { BUILD_OPTIONS, COPY_SIZE_OPTIONS, parseBenchArgs } from './bench-args.js';
import { timedSyncRun } from './bench-runtime.js';
import { buildDist, createDatabase, peakRssMb, startWorker } from './sync-bench.js';

/** One full copy and what it cost. */
export interface TransportCopy {
  /** What the copy was asked to run with. */
  readonly label: string;
  /** The transport the worker chose, from its start line. */
  readonly transport: string;
  readonly seconds: number;
  readonly odooCalls: number;
  readonly peakRssMb: number;
}

export interface TransportBenchResult {
  readonly orders: number;
  readonly records: number;
  readonly copies: readonly TransportCopy[];
}

const VARIANTS: readonly { label: string; env: Record<string, string> }[] = [
  { label: 'default (auto)', env: {} },
  { label: 'ODOO_PROTOCOL=xmlrpc', env: { ODOO_PROTOCOL: 'xmlrpc' } },
  { label: 'default, ODOO_MAX_CALLS_PER_SECOND=5', env: { ODOO_MAX_CALLS_PER_SECOND: '5' } },
];

export async function runTransportBench(input: {
  orders: number;
  lines: number;
}): Promise<TransportBenchResult> {
  const logger = pino({ level: 'warn' });
  const [pg, redis, sandbox] = await Promise.all([
    startLocalPostgres(),
    startLocalRedis(),
    startSandboxProcess({ orders: input.orders, lines: input.lines, series: '17.0' }),
  ]);
  const closers: (() => Promise<unknown>)[] = [
    () => sandbox.stop(),
    () => redis.stop(),
    () => pg.stop(),
  ];
  try {
    const copies: TransportCopy[] = [];
    let records = 0;
    for (const [index, variant] of VARIANTS.entries()) {
      const db = await createDatabase(pg.url, `copy_${index}`);
      // Scheduled runs skip while paused; the bench's own run is asked for, so it runs.
      await setPaused(db.db, bcsFamily.name, 'bench');
      const prefix = `bench-${randomBytes(3).toString('hex')}`;
      let startLine = '';
      const worker = await startWorker(
        {
          PATH: process.env.PATH,
          HOME: process.env.HOME ?? '/tmp',
          DATABASE_URL: db.url,
          REDIS_URL: redis.url,
          QUEUE_PREFIX: prefix,
          ...sandbox.env,
          SYNC_EVERY: '1h',
          WORKER_HTTP_PORT: '0',
          LOG_LEVEL: 'info',
          LOG_FORMAT: 'json',
          ...variant.env,
        },
        [],
        false,
        (line) => (startLine = line),
      );
      try {
        const { seconds, result } = await timedSyncRun(redis.url, prefix, logger);
        if (result.status !== 'succeeded')
          throw new Error(`${variant.label}: run ${result.status}`);
        const [counted] = await db.sql!<{ records: number }[]>`
          select (select count(*)::int from scrap_dimagaz_bc)
            + (select count(*)::int from scrap_dimagaz_bc_line) as records`;
        records = counted!.records;
        const started = JSON.parse(startLine) as { odooTransport?: { protocol?: string } };
        copies.push({
          label: variant.label,
          transport: started.odooTransport?.protocol ?? 'unknown',
          seconds,
          odooCalls: result.counts.odooCalls ?? 0,
          peakRssMb: peakRssMb(worker.pid!),
        });
      } finally {
        await stopChild(worker);
        await db.close();
      }
    }
    return { orders: input.orders, records, copies };
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

/** The result as lines for a reader. */
export function describeTransportBench(result: TransportBenchResult): string[] {
  const perSecond = (copy: TransportCopy) =>
    Math.round(result.records / copy.seconds).toLocaleString('en-US');
  return result.copies.map(
    (copy) =>
      `${copy.label} → ${copy.transport}: ${copy.seconds.toFixed(1)} s (${perSecond(copy)} records/s), ` +
      `${copy.odooCalls} Odoo calls, worker peak RSS ${copy.peakRssMb} MB`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseBenchArgs({
    command: 'npx tsx bench/transport-bench.ts',
    about:
      "Transports and the call budget: the compiled worker's full copy from an Odoo sandbox playing 17.0 with the default transport, with XML-RPC, and with the default under ODOO_MAX_CALLS_PER_SECOND=5; each copy's time, Odoo calls, transport and peak RSS.",
    options: {
      ...COPY_SIZE_OPTIONS,
      ...BUILD_OPTIONS,
    },
    examples: ['npx tsx bench/transport-bench.ts --orders 2000', 'npm run bench -- transport'],
  });
  if (!values['no-build']) buildDist();
  const result = await runTransportBench({
    orders: Number(values.orders),
    lines: Number(values.lines),
  });
  for (const line of describeTransportBench(result)) process.stdout.write(`${line}\n`);
  process.exit(0);
}
