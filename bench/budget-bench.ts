/**
 * What the fleet's call budget costs an Odoo call on each of its stores, the queue Redis and
 * PostgreSQL (docs/odoo.md, "Call budget"): admissions and releases as fast as they go, under
 * ODOO_MAX_CONCURRENT_CALLS=8 (a bound never reached, so no call waits: the figure is the store's
 * round trips and its atomic step, twice per call), one throw-away server of each on this
 * machine. First one process admitting one call after another, then four processes (a connection
 * each) at once on the same budget, so that they contend for it; then one process again with
 * ODOO_MAX_CALLS_PER_SECOND set too high to be reached, so that every call of the last second is
 * in the window the store counts.
 *
 * `npx tsx bench/budget-bench.ts [--calls N]`; `npm run bench -- budget` runs it.
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createDb } from '../src/db/create-db.js';
import { runMigrations } from '../src/db/migrate.js';
import { createCallBudget } from '../src/odoo-budget/call-budget.js';
import type { SharedState } from '../src/stores/shared-state.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { parseBenchArgs } from './bench-args.js';

export interface BudgetBenchFigure {
  readonly store: 'redis' | 'postgres';
  readonly processes: number;
  /** Whether the rate was bounded too, every call of the last second in the window. */
  readonly windowed: boolean;
  readonly calls: number;
  readonly callsPerSecond: number;
  /** One admission and its release, as one process sees them (processes × seconds ÷ calls). */
  readonly microsPerCall: number;
}

export interface BudgetBenchResult {
  readonly figures: readonly BudgetBenchFigure[];
}

const ODOO = { url: 'http://odoo.bench', database: 'budget' };
const logger = pino({ level: 'silent' });

/** `calls` admissions and releases, spread over one budget per process, all at once. */
async function timeCalls(
  store: BudgetBenchFigure['store'],
  states: readonly SharedState[],
  calls: number,
  windowed = false,
): Promise<BudgetBenchFigure> {
  const gates = states.map((shared) =>
    createCallBudget({
      shared,
      odoo: ODOO,
      settings: {
        maxConcurrentCalls: 8,
        maxCallsPerSecond: windowed ? 1_000_000 : 0,
        leaseMs: 35_000,
      },
      logger,
    }),
  );
  const perProcess = Math.ceil(calls / gates.length);
  const startedMs = performance.now();
  await Promise.all(
    gates.map(async (gate) => {
      for (let call = 0; call < perProcess; call += 1) await (await gate.admit('x.read')).release();
    }),
  );
  const seconds = (performance.now() - startedMs) / 1_000;
  const done = perProcess * gates.length;
  return {
    store,
    processes: gates.length,
    windowed,
    calls: done,
    callsPerSecond: done / seconds,
    microsPerCall: (gates.length * seconds * 1e6) / done,
  };
}

/** Calls admitted and released in each measure, unless told. */
const CALLS = 20_000;

export async function runBudgetBench(options: { calls?: number } = {}): Promise<BudgetBenchResult> {
  const calls = options.calls ?? CALLS;
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const [pg, redis] = await Promise.all([startLocalPostgres(), startLocalRedis()]);
    stops.push(
      () => pg.stop(),
      () => redis.stop(),
    );
    const migrator = await createDb({ url: pg.url, poolMax: 1 });
    await runMigrations(migrator);
    await migrator.close();
    const connect = async (store: BudgetBenchFigure['store']): Promise<SharedState> => {
      if (store === 'redis') {
        const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
        stops.unshift(() => connection.quit());
        return { kind: 'redis', redis: connection, prefix: 'bench' };
      }
      const handle = await createDb({ url: pg.url, poolMax: 1 });
      stops.unshift(() => handle.close());
      return { kind: 'postgres', db: handle.db };
    };
    const figures: BudgetBenchFigure[] = [];
    for (const store of ['redis', 'postgres'] as const) {
      // A first round unmeasured: connections opened, statements prepared, the JIT warm.
      await timeCalls(store, [await connect(store)], 1_000);
      figures.push(await timeCalls(store, [await connect(store)], calls));
      const four = await Promise.all([1, 2, 3, 4].map(() => connect(store)));
      figures.push(await timeCalls(store, four, calls));
      figures.push(await timeCalls(store, [await connect(store)], calls, true));
    }
    return { figures };
  } finally {
    for (const stop of stops) await stop();
  }
}

export function labelOf(f: BudgetBenchFigure): string {
  const processes = `${f.processes} process${f.processes === 1 ? '' : 'es'}`;
  return `${f.store}, ${processes}${f.windowed ? ', every call of the last second in the window' : ''}`;
}

export function describeBudgetBench(result: BudgetBenchResult): string[] {
  return result.figures.map(
    (f) =>
      `${labelOf(f)}: ` +
      `${Math.round(f.callsPerSecond).toLocaleString('en-US')} calls/s ` +
      `(${f.microsPerCall.toFixed(0)} µs an admission and its release, ${f.calls.toLocaleString('en-US')} calls)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseBenchArgs({
    command: 'npx tsx bench/budget-bench.ts',
    about:
      "What the fleet's call budget costs an Odoo call on each of its stores, the queue Redis and PostgreSQL: admissions and releases as fast as they go, from one process, then four at once, then one with every call of the last second in the window.",
    options: {
      calls: {
        type: 'string',
        value: 'N',
        number: 'whole',
        defaultText: String(CALLS),
        about: 'admissions and releases in each measure, spread over its processes',
      },
    },
    examples: ['npx tsx bench/budget-bench.ts --calls 5000', 'npm run bench -- budget'],
  });
  const result = await runBudgetBench(
    values.calls === undefined ? {} : { calls: Number(values.calls) },
  );
  for (const line of describeBudgetBench(result)) process.stdout.write(`${line}\n`);
}
