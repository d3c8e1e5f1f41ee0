/**
 * Benchmark of the whole API as it runs in production (built by `createApi`: auth, rate limiter,
 * validation), listening on a real socket, loaded by a client in a process of its own: a
 * filtered BC list and a BC detail on 2,000 BCs (closed loop, for context), then on 200,000 BCs
 * at a fixed 500 req/s: a filtered page behind a cursor, and a BC with 50 lines (goal 5, p99 <
 * 50 ms). Compare its figures between commits: they hold every per-request check.
 *
 * `npx tsx bench/api-bench.ts`, or `npm run bench -- api`.
 */
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { createDb } from '../src/db/create-db.js';
import { createLogger } from '../src/lib/logger.js';

import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { fakeBc, fakeLine, mapBc, writeBcs } from '../test/helpers/seed-bcs.js';
import { startBenchApi } from './bench-api.js';
import { getJson, getJsonBody, printFigures, REQUESTS, runLoadClient } from './load.js';
import { atMost, context, formatGoalTable, type GoalRow } from './report.js';
import { formatServerStalls, watchServerStalls } from './server-stalls.js';
import { parseBenchArgs } from './bench-args.js';

const BCS = 2_000;
const LARGE_BCS = 200_000;
const LARGE_LIST = '/api/bcs?partnerId=42&state=sent&sort=-dateOrder&limit=50';
const BATCH = 500;
const RATE_PER_SECOND = 500;
const RATE_SECONDS = 10;
const GOAL_P99_MS = 50;

/** Runs the bench and returns its rows of the goal table (goal 5). */
export async function measureApiGoals(): Promise<GoalRow[]> {
  const logger = createLogger({ level: 'warn', pretty: false, name: 'bench' });
  const stops: (() => Promise<void>)[] = [];
  try {
    const [postgres, redis] = await Promise.all([startLocalPostgres(), startLocalRedis()]);
    stops.push(
      () => postgres.stop(),
      () => redis.stop(),
    );
    const api = await startBenchApi({
      env: { DATABASE_URL: postgres.url, REDIS_URL: redis.url },
      logger,
    });
    stops.push(() => api.close());
    const { origin, asReader } = api;
    // Seeding takes longer than the API's statement timeout: a connection of its own, without it.
    const db = await createDb({ url: postgres.url, poolMax: 2, logger });
    stops.push(() => db.close());
    for (let first = 1; first <= BCS; first += BATCH) {
      const items = Array.from({ length: Math.min(BATCH, BCS - first + 1) }, (_, i) => {
        const id = first + i;
        return mapBc({ bc: fakeBc(id), lines: [fakeLine(id, 1), fakeLine(id, 2)] });
      });
      await writeBcs(db.db, items, { runId: null, lease: null });
    }
    // The bench's own requests (warm-up, the first page); the load comes from the client process.
    const pool = new Pool(origin, { connections: 1 });
    stops.push(() => pool.close());

    const listPath = '/api/bcs?state=purchase&sort=-dateOrder&limit=50';
    const detailPath = `/api/bcs/${BCS / 2}`;
    // Warm-up: JIT, the pools.
    for (let i = 0; i < 200; i += 1) {
      await getJson(pool, listPath, asReader);
      await getJson(pool, detailPath, asReader);
    }
    const small = [
      await runLoadClient({
        label: 'GET /api/bcs (filter, sort, 50 rows)',
        origin,
        path: listPath,
        authorization: asReader,
      }),
      await runLoadClient({
        label: 'GET /api/bcs/:odooId (with lines)',
        origin,
        path: detailPath,
        authorization: asReader,
      }),
    ];
    printFigures(
      `API (createApi: auth, limiter, validation): ${REQUESTS} requests each, concurrency 8, ${BCS.toLocaleString('en-US')} BCs`,
      small,
    );

    await db.sql!`
      insert into scrap_dimagaz_bc (odoo_id, name, state, partner_id, date_order, amount_total,
        origin, odoo_write_date, data)
      select n, 'P' || lpad(n::text, 6, '0'), (array['draft','sent','purchase','done','cancel'])[1 + n % 5],
        1 + n % 500, timestamptz '2024-01-01' + (n % 900) * interval '1 day', (n % 10000)::numeric / 7,
        'SO' || n, timestamptz '2026-01-01' + n * interval '1 second', '{}'::jsonb
      from generate_series(${BCS + 1}::int, ${LARGE_BCS}::int) as n`;
    await db.sql!`
      insert into scrap_dimagaz_bc_line (odoo_id, bc_odoo_id, sequence, name, odoo_write_date, data)
      select 1000000 + n, ${BCS + 1}::int, n, 'line ' || n, now(), '{}'::jsonb from generate_series(1, 50) as n`;
    // Vacuumed too, so autovacuum does not wake up on the fresh rows in the middle of a measurement.
    await db.sql!`vacuum (analyze)`;
    const firstPage = await getJsonBody(pool, LARGE_LIST, asReader);
    if (typeof firstPage.nextCursor !== 'string')
      throw new Error(`${LARGE_LIST} gave no cursor: the bench's data is not what it expects`);
    const cursorPath = `${LARGE_LIST}&cursor=${encodeURIComponent(firstPage.nextCursor)}`;
    const largeDetailPath = `/api/bcs/${BCS + 1}`;
    for (let i = 0; i < 200; i += 1) {
      await getJson(pool, cursorPath, asReader);
      await getJson(pool, largeDetailPath, asReader);
    }
    const atRate = { rate: RATE_PER_SECOND, seconds: RATE_SECONDS, origin };
    const stalls: string[] = [];
    const atRateWatched = async (label: string, path: string) => {
      api.takeServerTimesMs();
      const stop = watchServerStalls();
      const figures = await runLoadClient({ ...atRate, label, path, authorization: asReader });
      const inServerMs = api.takeServerTimesMs();
      const at = (fraction: number) =>
        (
          inServerMs[Math.min(inServerMs.length - 1, Math.floor(inServerMs.length * fraction))] ??
          NaN
        ).toFixed(1);
      stalls.push(
        `${formatServerStalls(label, stop())}; in the server p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`,
      );
      return figures;
    };
    const list = await atRateWatched('GET /api/bcs (partner, sort, cursor)', cursorPath);
    const detail = await atRateWatched('GET /api/bcs/:odooId (50 lines)', largeDetailPath);
    printFigures(
      `API on ${LARGE_BCS.toLocaleString('en-US')} BCs at ${RATE_PER_SECOND} req/s for ${RATE_SECONDS} s (goal: p99 < ${GOAL_P99_MS} ms)`,
      [list, detail],
    );
    console.log(`\nThe server's process meanwhile:\n${stalls.join('\n')}`);
    return [
      ...small.map((f) =>
        context(
          '5',
          `${f.label} on ${BCS.toLocaleString('en-US')} BCs, concurrency 8`,
          `${f.requestsPerSecond.toFixed(0)} req/s, p99 ${f.p99Ms.toFixed(1)} ms`,
        ),
      ),
      atMost(
        '5',
        `GET /api/bcs filter+cursor at ${RATE_PER_SECOND} req/s, p99`,
        list.p99Ms,
        GOAL_P99_MS,
        'ms',
        1,
      ),
      atMost(
        '5',
        `GET /api/bcs/:odooId (50 lines) at ${RATE_PER_SECOND} req/s, p99`,
        detail.p99Ms,
        GOAL_P99_MS,
        'ms',
        1,
      ),
    ];
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/** Runs the bench and prints its goal rows after its own tables (what `npm run bench` calls). */
export async function runApiBench(): Promise<void> {
  console.log(`\n${formatGoalTable(await measureApiGoals())}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  parseBenchArgs({
    command: 'npx tsx bench/api-bench.ts',
    about:
      'The whole API as it runs in production (createApi: auth, rate limiter, validation) on a real socket, loaded by a client process: a filtered BC list and a BC detail on 2,000 BCs, then on 200,000 BCs at 500 req/s, a filtered page behind a cursor and a BC with 50 lines (goal 5: p99 < 50 ms).',
    options: {},
    examples: ['npx tsx bench/api-bench.ts', 'npm run bench -- api'],
  });
  runApiBench().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
