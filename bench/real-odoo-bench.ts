/**
 * At the real Odoo's pace: against a real Odoo the copy is bound by Odoo, and what users feel is
 * how close the product comes to the fastest reader Odoo allows. The bench seeds a real Odoo
 * (bench/real-odoo-server.ts) and times, side by side, the order swapped each round:
 *
 * - **the bare reader**: the best transport (`auto`'s choice, with the sync user's API key when
 *   it has one), keyset pages of 500 roots with their children, every stored field the product
 *   reads (the same schema code), nothing written;
 * - **the product**: the compiled sync CLI as `npm run start:sync` starts it, every setting at its
 *   default, process start included (`run --family F` into a fresh, migrated database);
 *
 * on a first copy and on the rerun after a tenth of the records changed. It prints the product's
 * share of the bare rate (median of the rounds), the Odoo calls the product made, Odoo's CPU
 * during each and the CLI's peak RSS. Cases: `res.partner` (the `partners` family) and
 * `account.move` with its lines (the `moves` family).
 *
 * `npm run bench -- real-odoo` (not part of the default run: it needs a real Odoo), or
 * `npx tsx bench/real-odoo-bench.ts [--start CMD --stop CMD] [--case partners|moves]
 * [--partners N] [--moves N] [--lines N] [--rounds N] [--no-build]`. Without `--start`, the
 * bench starts Odoo 19 from Debian's package; with it, the operator's command starts an Odoo (an
 * Odoo 17, say) and prints how to reach it (bench/real-odoo-server.ts). docs/performance.md, "At a
 * real Odoo's pace", holds the figures.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { OdooClient } from '../src/clients/odoo/index.js';
import type { RecordFamily } from '../src/families/family.js';
import { movesFamily } from '../src/families/moves/family.js';
import { partnersFamily } from '../src/families/partners/family.js';
import { SYNC_SETTINGS } from '../src/config/settings/copy-settings.js';
import { createSchemaCache } from '../src/sync/odoo-reads.js';
import { CLOCK_SKEW_MARGIN_SECONDS } from '../src/sync/settled.js';
import { startLocalPostgres, startLocalRedis } from '../test/helpers/local-services.js';
import { fetchPage, PAGE_SIZE } from './bare-pipeline.js';
import {
  changeTenth,
  latestStamp,
  odooClientOf,
  seed,
  startRealOdoo,
  type BenchModel,
  type RealOdoo,
} from './real-odoo-server.js';
import {
  buildDist,
  cpuSecondsOf,
  createDatabase,
  peakRssMb as peakRssMbOf,
  productionCommand,
} from './sync-bench.js';

/**
 * One copy: how long, how many records (roots and children for the bare reader, roots for the
 * product, as its run counts them), Odoo's CPU meanwhile; the product's calls and peak RSS.
 */
export interface RealOdooCopy {
  readonly seconds: number;
  readonly records: number;
  readonly odooCpuSeconds: number;
  readonly odooCalls?: number;
  readonly peakRssMb?: number;
}

export interface RealOdooRound {
  readonly bareFirst: boolean;
  readonly first: { readonly bare: RealOdooCopy; readonly product: RealOdooCopy };
  readonly rerun: { readonly bare: RealOdooCopy; readonly product: RealOdooCopy };
}

export interface RealOdooCase {
  readonly family: string;
  readonly model: BenchModel;
  readonly roots: number;
  readonly rounds: readonly RealOdooRound[];
  /** Medians over the rounds of the bare reader's time ÷ the product's, on the same records. */
  readonly firstShare: number;
  readonly rerunShare: number;
}

export interface RealOdooBenchResult {
  readonly odooVersion: string;
  readonly transport: string;
  readonly cases: readonly RealOdooCase[];
}

const DEFAULT_OVERLAP_SECONDS = Number(SYNC_SETTINGS.SYNC_OVERLAP_SECONDS.doc.default);

const CASES: Record<string, { family: RecordFamily; model: BenchModel }> = {
  partners: { family: partnersFamily, model: 'res.partner' },
  moves: { family: movesFamily, model: 'account.move' },
};

/** The bare reader: every root written since `since` (all with null), with its children. */
async function bareRead(
  odoo: OdooClient,
  family: RecordFamily,
  since: Date | null,
): Promise<number> {
  const schema = await createSchemaCache(60_000)(family, odoo);
  let records = 0;
  for (let afterId = 0; ;) {
    const page = await fetchPage(odoo, family, schema, since, afterId);
    records += page.reduce(
      (sum, item) => sum + 1 + item.children.reduce((n, children) => n + children.length, 0),
      0,
    );
    if (page.length < PAGE_SIZE) return records;
    afterId = page[page.length - 1]!.root.id;
  }
}

/** The product's copy: the compiled sync CLI, started as `npm run start:sync` starts it. */
async function productCopy(env: Record<string, string>, family: string, odooPid: number) {
  const production = productionCommand('start:sync');
  const odooBefore = cpuSecondsOf(odooPid);
  const startedMs = performance.now();
  const child = spawn(
    process.execPath,
    [...production.nodeArgs, 'dist/workers/sync-cli.js', 'run', '--family', family, '--json'],
    { env: { ...production.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  // The kernel's high-water mark only grows: the last reading before the exit is the peak.
  let peakRssMb = 0;
  const sampler = setInterval(() => {
    try {
      peakRssMb = Math.max(peakRssMb, peakRssMbOf(child.pid!));
    } catch {
      // Gone between two readings: the last one stands.
    }
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  const seconds = (performance.now() - startedMs) / 1_000;
  if (code !== 0) throw new Error(`sync run --family ${family} exited with ${code}: ${stderr}`);
  const [outcome] = JSON.parse(stdout) as {
    result: { status: string; counts: { recordsSeen: number; odooCalls: number } };
  }[];
  if (outcome?.result.status !== 'succeeded')
    throw new Error(`sync run --family ${family}: ${stdout}`);
  return {
    seconds,
    records: outcome.result.counts.recordsSeen,
    odooCpuSeconds: cpuSecondsOf(odooPid) - odooBefore,
    odooCalls: outcome.result.counts.odooCalls,
    peakRssMb,
  };
}

/** Times the bare reader, with Odoo's CPU meanwhile. */
async function bareCopy(
  odoo: OdooClient,
  family: RecordFamily,
  since: Date | null,
  odooPid: number,
): Promise<RealOdooCopy> {
  const odooBefore = cpuSecondsOf(odooPid);
  const startedMs = performance.now();
  const records = await bareRead(odoo, family, since);
  return {
    seconds: (performance.now() - startedMs) / 1_000,
    records,
    odooCpuSeconds: cpuSecondsOf(odooPid) - odooBefore,
  };
}

/**
 * The product's defaults re-read what changed within SYNC_OVERLAP_SECONDS (and a minute of
 * clock skew) before Odoo's clock: records seeded just now would be read again by every rerun,
 * which a deployment's records, written long before, are not (docs/sync.md, "Settled stamps").
 * So the rounds start once the seeds are older than that.
 */
async function untilSettled(
  admin: OdooClient,
  model: BenchModel,
  ids: readonly number[],
  log: (line: string) => void,
): Promise<void> {
  const settledAtMs =
    (await latestStamp(admin, model, ids)).getTime() +
    (DEFAULT_OVERLAP_SECONDS + CLOCK_SKEW_MARGIN_SECONDS + 5) * 1_000;
  const waitMs = settledAtMs - Date.now();
  if (waitMs <= 0) return;
  log(`  waiting ${Math.ceil(waitMs / 1_000)} s until the ${model} seeds are out of the overlap`);
  await new Promise((resolve) => setTimeout(resolve, waitMs));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Both in the order given; the first of the pair is timed first. */
async function sideBySide<T>(
  bareFirst: boolean,
  bare: () => Promise<T>,
  product: () => Promise<T>,
) {
  if (bareFirst) {
    const b = await bare();
    return { bare: b, product: await product() };
  }
  const p = await product();
  return { bare: await bare(), product: p };
}

export async function runRealOdooBench(input: {
  start?: string;
  stop?: string;
  cases: readonly string[];
  partners: number;
  moves: number;
  lines: number;
  rounds: number;
  log: (line: string) => void;
}): Promise<RealOdooBenchResult> {
  const odoo = await startRealOdoo({ start: input.start, stop: input.stop });
  const closers: (() => Promise<unknown>)[] = [() => odoo.stop()];
  try {
    const [pg, redis] = await Promise.all([startLocalPostgres(), startLocalRedis()]);
    closers.unshift(
      () => pg.stop(),
      () => redis.stop(),
    );
    const admin = odooClientOf(odoo, 'admin');
    const reader = odooClientOf(odoo, 'sync');
    closers.unshift(
      () => admin.close(),
      () => reader.close(),
    );
    input.log(`Odoo ${odoo.version} at ${odoo.url}; seeding what is missing`);
    const partnerIds = await seed(
      admin,
      'res.partner',
      { count: input.partners, linesPerMove: 0, partnerIds: [] },
      (done) => input.log(`  res.partner: ${done} of ${input.partners}`),
    );
    // Every case's records first: the wait for them to settle is then paid once.
    const seeded = new Map<string, number[]>();
    for (const name of input.cases) {
      const { model } = CASES[name]!;
      seeded.set(
        name,
        model === 'res.partner'
          ? partnerIds
          : await seed(
              admin,
              model,
              {
                count: input.moves,
                linesPerMove: input.lines,
                partnerIds: partnerIds.slice(0, 20),
              },
              (done) => input.log(`  ${model}: ${done} of ${input.moves}`),
            ),
      );
    }
    for (const name of input.cases)
      await untilSettled(admin, CASES[name]!.model, seeded.get(name)!, input.log);
    const cases: RealOdooCase[] = [];
    for (const name of input.cases) {
      const { family, model } = CASES[name]!;
      const ids = seeded.get(name)!;
      const rounds: RealOdooRound[] = [];
      for (let round = 0; round < input.rounds; round += 1) {
        const bareFirst = round % 2 === 0;
        const database = `real_${name}_${round}_${Date.now()}`;
        await (await createDatabase(pg.url, database)).close();
        const databaseUrl = new URL(pg.url);
        databaseUrl.pathname = `/${database}`;
        const env = productEnv(odoo, databaseUrl.toString(), redis.url, name);
        const first = await sideBySide(
          bareFirst,
          () => bareCopy(reader, family, null, odoo.pid),
          () => productCopy(env, name, odoo.pid),
        );
        // Odoo stamps write_date from the same clock, to the second.
        const since = new Date(Math.floor(Date.now() / 1_000) * 1_000);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const changed = await changeTenth(admin, model, ids, round);
        const rerun = await sideBySide(
          bareFirst,
          () => bareCopy(reader, family, since, odoo.pid),
          () => productCopy(env, name, odoo.pid),
        );
        rounds.push({ bareFirst, first, rerun });
        input.log(
          `  ${name} round ${round + 1}: first copy bare ${first.bare.seconds.toFixed(1)} s, product ${first.product.seconds.toFixed(1)} s; ${changed} changed: bare ${rerun.bare.seconds.toFixed(1)} s, product ${rerun.product.seconds.toFixed(1)} s`,
        );
      }
      cases.push({
        family: name,
        model,
        roots: ids.length,
        rounds,
        firstShare: median(rounds.map((r) => r.first.bare.seconds / r.first.product.seconds)),
        rerunShare: median(rounds.map((r) => r.rerun.bare.seconds / r.rerun.product.seconds)),
      });
    }
    return {
      odooVersion: odoo.version,
      transport: (await reader.transport()).protocol,
      cases,
    };
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

/** The product's environment: the server's sync user, every other key at its default. */
function productEnv(
  odoo: RealOdoo,
  databaseUrl: string,
  redisUrl: string,
  family: string,
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `real-${family}-${Date.now()}`,
    SYNC_FAMILIES: family,
    ODOO_URL: odoo.url,
    ODOO_DATABASE: odoo.database,
    ODOO_USERNAME: odoo.username,
    ODOO_PASSWORD: odoo.password,
    ...(odoo.apiKey ? { ODOO_API_KEY: odoo.apiKey } : {}),
    LOG_LEVEL: 'warn',
  };
}

/** The figures as the bench prints them: one row per case and phase. */
export function describeRealOdooBench(result: RealOdooBenchResult): string {
  const rows = result.cases.flatMap((c) =>
    (['first', 'rerun'] as const).map((phase) => {
      const medianOf = (pick: (r: RealOdooRound) => number) =>
        median(c.rounds.map(pick)).toFixed(phase === 'first' ? 1 : 2);
      const share = phase === 'first' ? c.firstShare : c.rerunShare;
      return `| ${c.family} (${c.model}) | ${phase === 'first' ? 'first copy' : 'rerun, 10 % changed'} | ${medianOf((r) => r[phase].bare.seconds)} s | ${medianOf((r) => r[phase].product.seconds)} s | **${(share * 100).toFixed(0)} %** | ${medianOf((r) => r[phase].bare.odooCpuSeconds)} / ${medianOf((r) => r[phase].product.odooCpuSeconds)} s | ${median(c.rounds.map((r) => r[phase].product.odooCalls ?? 0))} | ${median(c.rounds.map((r) => r[phase].product.peakRssMb ?? 0))} MB |`;
    }),
  );
  return [
    `Odoo ${result.odooVersion} over ${result.transport}; medians of ${result.cases[0]?.rounds.length ?? 0} rounds, order swapped each round`,
    '',
    '| case | phase | bare reader | product | product ÷ bare rate | Odoo CPU bare / product | product calls | CLI peak RSS |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      start: { type: 'string' },
      stop: { type: 'string' },
      case: { type: 'string', multiple: true },
      partners: { type: 'string', default: '20000' },
      moves: { type: 'string', default: '2000' },
      lines: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      'no-build': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const cases = values.case ?? Object.keys(CASES);
  const unknown = cases.filter((name) => !(name in CASES));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown case(s): ${unknown.join(', ')}; known: ${Object.keys(CASES).join(', ')}\n`,
    );
    process.exit(64);
  }
  if (!values['no-build']) buildDist();
  const result = await runRealOdooBench({
    start: values.start,
    stop: values.stop,
    cases,
    partners: Number(values.partners),
    moves: Number(values.moves),
    lines: Number(values.lines),
    rounds: Number(values.rounds),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(
    values.json ? `${JSON.stringify(result)}\n` : `${describeRealOdooBench(result)}\n`,
  );
  process.exit(0);
}
