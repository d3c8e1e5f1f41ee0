/**
 * Sync benchmark: a full sync of 20,000 BCs × 10 lines from the Odoo sandbox (in a process of
 * its own, so it has the second core) into a throw-away PostgreSQL, through the real queues and
 * workers, then an incremental run after 1% of the BCs changed. Prints records/s (BCs and lines),
 * Odoo calls, wall time and the worker process's peak RSS.
 *
 * `npx tsx bench/sync-bench.ts [--protocol xmlrpc|jsonrpc|json2] [--orders N] [--lines M]`;
 * `npm run bench` runs it once per transport, each in a fresh process (so peak RSS is its own).
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import postgres from 'postgres';
import { createOdooClient, type OdooProtocol } from '../src/clients/odoo/index.js';
import { createDb } from '../src/db/create-db.js';
import { runMigrations } from '../src/db/migrate.js';
import { BC_MODEL } from '../src/sync/models.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { startBenchRuntime } from './bench-runtime.js';

export interface SyncBenchResult {
  protocol: OdooProtocol;
  orders: number;
  records: number;
  fullSeconds: number;
  fullRecordsPerSecond: number;
  fullOdooCalls: number;
  incrementalSeconds: number;
  incrementalChangedBcs: number;
  incrementalOdooCalls: number;
  peakRssMb: number;
}

async function startSandbox(
  orders: number,
  lines: number,
): Promise<{ env: Record<string, string>; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'dev/sandbox/cli.ts',
      '--orders',
      String(orders),
      '--lines',
      String(lines),
      '--port',
      '0',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const env: Record<string, string> = {};
  await new Promise<void>((resolve, reject) => {
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      for (const match of buffer.matchAll(/^(ODOO_\w+)=(.*)$/gm)) env[match[1]!] = match[2]!.trim();
      if (env.ODOO_PASSWORD) resolve();
    });
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  return {
    env,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function runSyncBench(
  protocol: OdooProtocol,
  orders = 20_000,
  lines = 10,
): Promise<SyncBenchResult> {
  const logger = pino({ level: 'warn' });
  const [pg, redis, sandbox] = await Promise.all([
    startLocalPostgres(),
    startLocalRedis(),
    startSandbox(orders, lines),
  ]);
  try {
    const admin = postgres(pg.url, { max: 1, onnotice: () => undefined });
    await admin.unsafe('create database bench');
    await admin.end();
    const url = new URL(pg.url);
    url.pathname = '/bench';
    const db = await createDb({ url: url.toString(), poolMax: 12 });
    await runMigrations(db);
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
    const bench = await startBenchRuntime({ db: db.db, odoo, logger, redisUrl: redis.url });
    const runOnce = async () => {
      const started = performance.now();
      const result = await bench.runSync();
      return { seconds: (performance.now() - started) / 1_000, result };
    };

    const full = await runOnce();
    if (full.result.status !== 'succeeded') throw new Error(`full sync ${full.result.status}`);
    const [counted] = await db.sql!<{ bcs: number; lines: number }[]>`
      select (select count(*)::int from scrap_dimagaz_bc) as bcs, (select count(*)::int from scrap_dimagaz_bc_line) as lines`;
    const records = counted!.bcs + counted!.lines;

    const changed = Math.round(orders / 100);
    const ids = await odoo.search(BC_MODEL, [], {
      order: 'id asc',
      limit: changed,
      context: { active_test: false },
    });
    await odoo.executeKw(BC_MODEL, 'write', [ids, { origin: 'bench: changed' }]);
    const incremental = await runOnce();

    await bench.close();
    await odoo.close();
    await db.close();
    return {
      protocol,
      orders,
      records,
      fullSeconds: full.seconds,
      fullRecordsPerSecond: Math.round(records / full.seconds),
      fullOdooCalls: full.result.counts.odooCalls,
      incrementalSeconds: incremental.seconds,
      incrementalChangedBcs: incremental.result.counts.bcsSeen,
      incrementalOdooCalls: incremental.result.counts.odooCalls,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1_024),
    };
  } finally {
    await Promise.all([sandbox.stop(), redis.stop(), pg.stop()]);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      protocol: { type: 'string', default: 'xmlrpc' },
      orders: { type: 'string' },
      lines: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const result = await runSyncBench(
    values.protocol as OdooProtocol,
    Number(values.orders ?? 20_000),
    Number(values.lines ?? 10),
  );
  process.stdout.write(
    values.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`,
  );
  process.exit(0);
}
