/**
 * One key cannot hold the API, measured. Twelve clients of one reader key send a slow list again
 * and again, each as soon as the last answered (`/api/bcs?q=bouteille gaz` on 200,000 BCs named
 * and originated in those words: every trigram of the needle is in every BC, so PostgreSQL
 * rechecks them all and finds none), while another key reads one BC five times a second and
 * readiness is asked twice a second. It prints that other key's latency and the readiness
 * answers with no cap on a key's requests in flight (as before API_MAX_IN_FLIGHT_PER_KEY: a cap
 * of 1,000), then with the default cap, its refused clients waiting for the Retry-After they are
 * given, then not waiting: in one run on the same data, the production app (`createApi`) with its
 * pool of ten, clients in processes of their own.
 *
 * `npx tsx bench/in-flight-bench.ts`, or `npm run bench -- inflight`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createDb } from '../src/db/create-db.js';
import { ENV_KEYS } from '../src/config/env-schema.js';
import { createLogger } from '../src/lib/logger.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { startBenchApi } from './bench-api.js';
import type { InFlightClientResult, InFlightClientSpec } from './in-flight-client.js';
import { context, formatGoalTable, type GoalRow } from './report.js';
import { parseBenchArgs } from './bench-args.js';

const BCS = 200_000;
const SLOW_PATH = `/api/bcs?q=${encodeURIComponent('bouteille gaz')}&limit=50`;
const DETAIL_PATH = `/api/bcs/${BCS / 2}`;
const SLOW_CLIENTS = 12;
const PROBES_PER_SECOND = 5;
const SECONDS = 15;
const DEFAULT_CAP = ENV_KEYS.find((doc) => doc.key === 'API_MAX_IN_FLIGHT_PER_KEY')!.default!;

const CLIENT = fileURLToPath(new URL('./in-flight-client.ts', import.meta.url));
const runFile = promisify(execFile);

async function runClient(spec: InFlightClientSpec): Promise<InFlightClientResult> {
  const { stdout } = await runFile(
    process.execPath,
    ['--import', 'tsx', CLIENT, JSON.stringify(spec)],
    {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as InFlightClientResult;
}

const at = (sorted: readonly number[], fraction: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;

const statuses = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([status, n]) => `${n} × ${status}`)
    .join(', ');

interface Variant {
  readonly label: string;
  readonly cap: string;
  readonly honoursRetryAfter: boolean;
}

/** Runs the bench and returns its rows of the goal table (context: no goal names it yet). */
export async function measureInFlight(): Promise<GoalRow[]> {
  const logger = createLogger({ level: 'warn', pretty: false, name: 'bench' });
  const stops: (() => Promise<void>)[] = [];
  try {
    const [postgres, redis] = await Promise.all([startLocalPostgres(), startLocalRedis()]);
    stops.push(
      () => postgres.stop(),
      () => redis.stop(),
    );
    const variants: Variant[] = [
      { label: 'no cap (1,000 in flight per key)', cap: '1000', honoursRetryAfter: true },
      {
        label: `cap of ${DEFAULT_CAP} (the default), refused clients wait for Retry-After`,
        cap: DEFAULT_CAP,
        honoursRetryAfter: true,
      },
      {
        label: `cap of ${DEFAULT_CAP} (the default), refused clients retry at once`,
        cap: DEFAULT_CAP,
        honoursRetryAfter: false,
      },
    ];
    const rows: GoalRow[] = [];
    let seeded = false;
    for (const variant of variants) {
      const api = await startBenchApi({
        env: {
          DATABASE_URL: postgres.url,
          REDIS_URL: redis.url,
          API_MAX_IN_FLIGHT_PER_KEY: variant.cap,
        },
        logger,
      });
      try {
        if (!seeded) {
          // Longer than the API's statement timeout: a connection of its own, without it.
          const db = await createDb({ url: postgres.url, poolMax: 1, logger });
          await db.sql!`
            insert into scrap_dimagaz_bc (odoo_id, name, state, partner_id, date_order,
              amount_total, origin, odoo_write_date, data)
            select n, 'Bouteille de gaz ' || n,
              (array['draft','sent','purchase','done','cancel'])[1 + n % 5], 1 + n % 500,
              timestamptz '2024-01-01' + (n % 900) * interval '1 day', (n % 10000)::numeric / 7,
              'Gaz de bouteille ' || n, timestamptz '2026-01-01' + n * interval '1 second',
              '{}'::jsonb
            from generate_series(1, ${BCS}::int) as n`;
          await db.sql!`vacuum (analyze)`;
          await db.close();
          seeded = true;
        }
        const [flood, probe] = await Promise.all([
          runClient({
            role: 'flood',
            origin: api.origin,
            path: SLOW_PATH,
            authorization: api.asReader,
            concurrency: SLOW_CLIENTS,
            seconds: SECONDS,
            honoursRetryAfter: variant.honoursRetryAfter,
          }),
          runClient({
            role: 'probe',
            origin: api.origin,
            path: DETAIL_PATH,
            authorization: api.asOperator,
            ratePerSecond: PROBES_PER_SECOND,
            seconds: SECONDS,
          }),
        ]);
        const detail = probe.latenciesMs;
        const figure = `p50 ${at(detail, 0.5).toFixed(1)} ms, p99 ${at(detail, 0.99).toFixed(1)} ms, max ${at(detail, 1).toFixed(1)} ms (${statuses(probe.statuses)})`;
        console.log(`\n${variant.label}`);
        console.log(`  another key's GET ${DETAIL_PATH}: ${figure}`);
        console.log(`  /health/ready: ${statuses(probe.readyStatuses)}`);
        console.log(
          `  the ${SLOW_CLIENTS} slow clients: ${statuses(flood.statuses)}; an answer took p50 ${at(flood.latenciesMs, 0.5).toFixed(0)} ms, p99 ${at(flood.latenciesMs, 0.99).toFixed(0)} ms`,
        );
        rows.push(
          context(
            '-',
            `another key's BC read under ${SLOW_CLIENTS} slow requests, ${variant.label}`,
            figure,
          ),
          context('-', `/health/ready meanwhile, ${variant.label}`, statuses(probe.readyStatuses)),
        );
      } finally {
        await api.close();
      }
    }
    return rows;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  parseBenchArgs({
    command: 'npx tsx bench/in-flight-bench.ts',
    about:
      "One key cannot hold the API: twelve clients of one reader key send a slow list again and again while another key reads one BC five times a second and readiness is asked twice a second; that key's latency and the readiness answers, without a cap on a key's requests in flight, then with the default cap.",
    options: {},
    examples: ['npx tsx bench/in-flight-bench.ts', 'npm run bench -- inflight'],
  });
  measureInFlight()
    .then((rows) => console.log(`\n${formatGoalTable(rows)}`))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
