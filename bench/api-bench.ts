/**
 * Benchmark of the whole API as it runs in production (built by `createApi`: auth, rate limiter,
 * validation, the Tryton cache), listening on a real socket: a filtered BC list, a BC detail and a
 * cached Tryton call. Compare its figures between commits: they hold every per-request check.
 *
 * `npx tsx bench/api-bench.ts`, or `npm run bench -- api`.
 */
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { generateApiKey } from '../src/config/api-keys.js';
import { loadConfig } from '../src/config/config.js';
import { createApi } from '../src/create-api.js';
import { createDb } from '../src/db/create-db.js';
import { runMigrations } from '../src/db/migrate.js';
import { createLogger } from '../src/lib/logger.js';
import { createShutdown } from '../src/lib/shutdown.js';
import { mapBc } from '../src/sync/map-records.js';
import { writeBcs } from '../src/sync/write-bcs.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { fakeBc, fakeLine } from '../test/helpers/seed-bcs.js';
import { startTrytond } from '../test/helpers/trytond.js';
import {
  CONCURRENCY,
  getJson,
  getJsonBody,
  measure,
  measureAtRate,
  postJson,
  printFigures,
  REQUESTS,
} from './load.js';

const BCS = 2_000;
const LARGE_BCS = 200_000;
const LARGE_LIST = '/api/bcs?partnerId=42&state=sent&sort=-dateOrder&limit=50';
const BATCH = 500;

export async function runApiBench(): Promise<void> {
  const logger = createLogger({ level: 'warn', pretty: false, name: 'bench' });
  const stops: (() => Promise<void>)[] = [];
  try {
    const [postgres, redis, trytond] = await Promise.all([
      startLocalPostgres(),
      startLocalRedis(),
      startTrytond(),
    ]);
    stops.push(
      () => postgres.stop(),
      () => redis.stop(),
      () => trytond.stop(),
    );
    const reader = generateApiKey('bench-reader', 'reader');
    const operator = generateApiKey('bench-operator', 'operator');
    const config = loadConfig(
      {
        DATABASE_URL: postgres.url,
        REDIS_URL: redis.url,
        API_KEYS: `${reader.entry},${operator.entry}`,
        RATE_LIMIT_PER_MINUTE: '1000000',
        TRYTON_RPC_URL: trytond.url,
        TRYTON_DATABASE: trytond.database,
        TRYTON_USER: trytond.user,
        TRYTON_PASSWORD: trytond.password,
        TRYTON_MODELS: 'party.party',
        TRYTON_ALLOWED_METHODS: 'model.*.*.search_read',
        LOG_LEVEL: 'warn',
      },
      { mode: 'production', role: 'api' },
    );
    const db = await createDb({ url: postgres.url, poolMax: 10, logger });
    stops.push(() => db.close());
    await runMigrations(db);
    for (let first = 1; first <= BCS; first += BATCH) {
      const items = Array.from({ length: Math.min(BATCH, BCS - first + 1) }, (_, i) => {
        const id = first + i;
        return mapBc({ bc: fakeBc(id), lines: [fakeLine(id, 1), fakeLine(id, 2)] });
      });
      await writeBcs(db.db, items, { runId: null, lease: null });
    }

    const shutdown = createShutdown(logger, 10_000);
    stops.push(() => shutdown.run('bench done'));
    const app = await createApi({ config, logger, db, shutdown });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const pool = new Pool(url, { connections: CONCURRENCY });
    stops.push(() => pool.close());

    const asReader = `Bearer ${reader.key}`;
    const asOperator = `Bearer ${operator.key}`;
    const listPath = '/api/bcs?state=purchase&sort=-dateOrder&limit=50';
    const detailPath = `/api/bcs/${BCS / 2}`;
    const trytonCall = {
      method: 'model.party.party.search_read',
      params: [[], 0, 50, [['id', 'ASC']], ['name', 'code'], {}],
    };
    // Warm-up: JIT, the pools, the Tryton login and cache entry.
    for (let i = 0; i < 50; i += 1) {
      await getJson(pool, listPath, asReader);
      await postJson(pool, '/api/tryton/rpc', trytonCall, asOperator);
    }
    const figures = [
      await measure('GET /api/bcs (filter, sort, 50 rows)', () =>
        getJson(pool, listPath, asReader),
      ),
      await measure('GET /api/bcs/:odooId (with lines)', () => getJson(pool, detailPath, asReader)),
      await measure('POST /api/tryton/rpc (cached)', () =>
        postJson(pool, '/api/tryton/rpc', trytonCall, asOperator),
      ),
    ];
    printFigures(
      `API (createApi: auth, limiter, validation): ${REQUESTS} requests each, concurrency ${CONCURRENCY}, ${BCS.toLocaleString('en-US')} BCs`,
      figures,
    );

    // The same API on 200,000 BCs, at a fixed 500 req/s: a filtered page behind a cursor, and a
    // BC with 50 lines.
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
    await db.sql!`analyze`;
    const firstPage = await getJsonBody(pool, `${LARGE_LIST}`, asReader);
    const cursorPath = `${LARGE_LIST}&cursor=${encodeURIComponent(firstPage.nextCursor as string)}`;
    const atRate = [
      await measureAtRate('GET /api/bcs (partner, sort, cursor)', 500, 10, () =>
        getJson(pool, cursorPath, asReader),
      ),
      await measureAtRate('GET /api/bcs/:odooId (50 lines)', 500, 10, () =>
        getJson(pool, `/api/bcs/${BCS + 1}`, asReader),
      ),
    ];
    printFigures(
      `API on ${LARGE_BCS.toLocaleString('en-US')} BCs at 500 req/s for 10 s (goal: p99 < 50 ms)`,
      atRate,
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runApiBench().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
