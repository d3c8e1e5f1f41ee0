/**
 * Webhook lag: the sandbox's automation rule posts each change from inside its transaction (as
 * Odoo 17/18 do) to the API listening on a real socket; the workers read the BC once committed.
 * 50 edits per second on random BCs for 60 s; the lag of each edit is the time from the edit in
 * Odoo to the row showing it in PostgreSQL (polled every 20 ms). Prints p50, p95 and max.
 *
 * `npx tsx bench/webhook-bench.ts [--seconds 60] [--rate 50] [--orders 2000]`, or
 * `npm run bench -- webhook`.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createOdooClient } from '../src/clients/odoo/index.js';
import { hashApiKey } from '../src/config/api-keys.js';
import { loadConfig } from '../src/config/config.js';
import { createDb } from '../src/db/create-db.js';
import { runMigrations } from '../src/db/migrate.js';
import { buildApp } from '../src/http/app.js';
import { createLogger } from '../src/lib/logger.js';
import { createOdooSandbox } from '../dev/sandbox/odoo-sandbox.js';
import { parseBenchArgs } from './bench-args.js';
import { startBenchRuntime } from './bench-runtime.js';
import { measureWebhookLag, percentile } from './webhook-lag.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { CODE_FAMILIES } from '../src/families/registry.js';

export interface WebhookBenchResult {
  edits: number;
  seen: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export async function runWebhookBench(
  options: { seconds?: number; rate?: number; orders?: number } = {},
): Promise<WebhookBenchResult> {
  const seconds = options.seconds ?? 60;
  const rate = options.rate ?? 50;
  const logger = createLogger({ level: 'warn', pretty: false, name: 'bench' });
  const stops: (() => Promise<void>)[] = [];
  try {
    const [pg, redis] = await Promise.all([startLocalPostgres(), startLocalRedis()]);
    stops.push(
      () => pg.stop(),
      () => redis.stop(),
    );
    const sandbox = createOdooSandbox({
      orders: options.orders ?? 2_000,
      linesPerOrder: 5,
      seed: 5,
    });
    await sandbox.start();
    stops.push(() => sandbox.stop());
    const db = await createDb({ url: pg.url, poolMax: 12 });
    stops.push(() => db.close());
    await runMigrations(db);
    const odoo = createOdooClient(
      {
        url: sandbox.url,
        database: sandbox.database,
        username: sandbox.username,
        password: sandbox.password,
        protocol: 'xmlrpc',
        timeoutMs: 30_000,
        retries: 2,
      },
      { logger },
    );
    stops.push(() => odoo.close());
    const bench = await startBenchRuntime({ db: db.db, odoo, logger, redisUrl: redis.url });
    stops.push(() => bench.close());
    await bench.runSync();

    const token = randomBytes(32).toString('base64url');
    const config = loadConfig(
      {
        DATABASE_URL: pg.url,
        REDIS_URL: redis.url,
        QUEUE_PREFIX: bench.prefix,
        API_KEYS: `bench:reader:${hashApiKey('unused')}`,
        ODOO_WEBHOOK_TOKENS: hashApiKey(token),
        LOG_LEVEL: 'warn',
      },
      { mode: 'production', role: 'api', codeFamilies: CODE_FAMILIES },
    );
    const app = await buildApp({ config, logger, db, queues: bench.runtime.queues });
    stops.push(() => app.close());
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    sandbox.control.setWebhook({ url: `${address}/hooks/odoo/${token}`, fields: ['write_date'] });

    const sample = await measureWebhookLag({
      db,
      control: sandbox.control,
      rate,
      seconds,
      label: 'bench',
    });
    return {
      edits: sample.edits,
      seen: sample.seen,
      p50Ms: percentile(sample.lagsMs, 0.5),
      p95Ms: percentile(sample.lagsMs, 0.95),
      maxMs: sample.lagsMs.at(-1) ?? Number.NaN,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

export function printWebhookBench(result: WebhookBenchResult, seconds: number, rate: number) {
  console.log(
    `\nWebhook lag: ${rate} edits/s on random BCs for ${seconds} s, Odoo edit → row in PostgreSQL`,
  );
  console.log(
    `edits ${result.edits}, in the copy ${result.seen}; p50 ${result.p50Ms.toFixed(0)} ms, ` +
      `p95 ${result.p95Ms.toFixed(0)} ms, max ${result.maxMs.toFixed(0)} ms (goal: p95 < 2,000 ms)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseBenchArgs({
    command: 'npx tsx bench/webhook-bench.ts',
    about:
      "Webhook lag: the sandbox's automation rule posts each edit of a random BC to the API on a real socket; the time from the edit in Odoo to the row showing it in PostgreSQL, p50, p95 and max.",
    options: {
      seconds: {
        type: 'string',
        value: 'S',
        default: '60',
        number: 'decimal',
        about: 'how long the edits go on',
      },
      rate: {
        type: 'string',
        value: 'R',
        default: '50',
        number: 'decimal',
        about: 'edits a second',
      },
      orders: {
        type: 'string',
        value: 'N',
        default: '2000',
        number: 'whole',
        about: 'BCs in the sandbox',
      },
    },
    examples: [
      'npx tsx bench/webhook-bench.ts --seconds 20 --rate 100',
      'npm run bench -- webhook',
    ],
  });
  const seconds = Number(values.seconds);
  const rate = Number(values.rate);
  const result = await runWebhookBench({ seconds, rate, orders: Number(values.orders) });
  printWebhookBench(result, seconds, rate);
  process.exit(0);
}
