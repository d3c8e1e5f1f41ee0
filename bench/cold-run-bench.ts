/**
 * What a fresh process pays: `npm run sync -- run` started as a new process, first on an empty
 * copy, then again with nothing changed in Odoo (the sandbox counts every call it answers), and
 * how long `npm run sync -- status` takes from start to exit. The CLI runs compiled, as the image
 * runs it (`dist/workers/sync-cli.js`: `npm run build` first; `npm run bench` does).
 *
 * `npx tsx bench/cold-run-bench.ts`, or `npm run bench -- cold`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createDb } from '../src/db/create-db.js';
import { runMigrations } from '../src/db/migrate.js';
import { createOdooSandbox } from '../dev/sandbox/odoo-sandbox.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { parseBenchArgs } from './bench-args.js';

const run = promisify(execFile);

export interface ColdRunResult {
  firstRunCalls: number;
  idleRunCalls: number;
  statusSeconds: number;
}

export async function runColdRunBench(): Promise<ColdRunResult> {
  const [pg, redis] = await Promise.all([startLocalPostgres(), startLocalRedis()]);
  const sandbox = createOdooSandbox({ orders: 1_000, linesPerOrder: 5, seed: 9 });
  await sandbox.start();
  try {
    const db = await createDb({ url: pg.url, poolMax: 2 });
    await runMigrations(db);
    await db.close();
    const env = {
      ...process.env,
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: `cold-${randomBytes(3).toString('hex')}`,
      ODOO_URL: sandbox.url,
      ODOO_DATABASE: sandbox.database,
      ODOO_USERNAME: sandbox.username,
      ODOO_PASSWORD: sandbox.password,
      LOG_LEVEL: 'warn',
    };
    const cli = (...args: string[]) =>
      run(process.execPath, ['--enable-source-maps', 'dist/workers/sync-cli.js', ...args], {
        env,
        timeout: 300_000,
        maxBuffer: 16 * 1024 * 1024,
      });
    const calls = () =>
      sandbox.control
        .calls()
        .filter((call) => call.service !== 'db')
        .reduce((sum, call) => sum + call.count, 0);

    await cli('run');
    const firstRunCalls = calls();
    sandbox.control.resetCalls();
    await cli('run');
    const idleRunCalls = calls();
    const startedMs = performance.now();
    await cli('status');
    return {
      firstRunCalls,
      idleRunCalls,
      statusSeconds: (performance.now() - startedMs) / 1_000,
    };
  } finally {
    await sandbox.stop();
    await Promise.all([redis.stop(), pg.stop()]);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  parseBenchArgs({
    command: 'npx tsx bench/cold-run-bench.ts',
    about:
      'What a fresh process pays: the compiled `sync run` started as a new process on an empty copy, then again with nothing changed in Odoo (its Odoo calls, goal 3: at most 4), and how long `sync status` takes from start to exit (goal 3: < 1 s). Run `npm run build` first (`npm run bench` does).',
    options: {},
    examples: ['npx tsx bench/cold-run-bench.ts', 'npm run bench -- cold'],
  });
  console.log(await runColdRunBench());
  process.exit(0);
}
