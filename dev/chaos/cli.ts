/**
 * `npm run chaos -- --seed N --minutes M [--queues redis|sentinel|postgres]`: one chaos run
 * (docs/chaos.md). It prints its seed first, its notes as it goes, and at the end its line of
 * the runs' table and, when the oracle found differences, the first one with the faults around
 * it; it exits 1 then, 0 with none.
 */
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CHAOS_QUEUES, type ChaosQueues } from './chaos-plan.js';
import { CHAOS_DEFAULTS, CHAOS_TABLE_HEADER, chaosTableRow, runChaos } from './chaos-run.js';

const HELP = `Chaos run: one erp-bridge deployment on this machine under a seeded storm of Odoo
changes and a seeded schedule of faults of every class, then an oracle that compares every
output with the truth (docs/chaos.md).

Usage: npm run chaos -- --seed N --minutes M [options]

  --seed N            the run's seed: the same seed replays the same faults and changes
                      (default: drawn, and printed first)
  --minutes M         minutes of storm (default 10); the healing and the oracle come after
  --queues Q          redis (one server), sentinel (a primary, a replica, three sentinels)
                      or postgres (BullMQ in PostgreSQL, no Redis)      (default redis)
  --sources 2|3       Odoo databases, each a sandbox process: default (17.0, JSON-RPC),
                      b19 (19.0, JSON-2), c18 (18.0, XML-RPC)          (default 2)
  --workers N         worker processes, 1 to 4                          (default 2)
  --rate R            storm changes per second, over every source       (default 2)
  --checkpoint-every C  minutes between quiet checkpoints, where the faults end, the
                      deployment heals and the oracle compares          (default 5)
  --orders N --lines L --cylinders C
                      each Odoo database's records at the start         (default 60, 3, 30)
  --out DIR           the run's directory: plan.json, operations.jsonl, faults.jsonl,
                      run.log, logs/ (each process's output), result.json
                      (default: a new directory under the system's temp dir)
  --help              this text

Faults, by class (each kind at least once per run; about four more a minute):
  processes  a worker SIGKILLed, a worker SIGSTOPped then resumed, the API restarted
  stores     Redis restarted with and without its data (redis), a Sentinel failover
             (sentinel), PostgreSQL restarted with -m immediate, sessions ended with
             pg_terminate_backend
  odoo       5xx answers, timeouts, slow answers, refused credentials, a skewed clock, a
             record rule hiding records, transactions committing late, webhooks dropped,
             duplicated and reordered
  consumers  a receiver failing, slow or down; the stream reader cut off

Needs PostgreSQL's and Redis's Debian binaries (postgresql, redis-server); every server is
started in a temp dir and listens on 127.0.0.1 only.
`;

function whole(name: string, text: string | undefined, fallback: number, min = 0): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new Error(`--${name} must be a whole number of at least ${min}, got '${text}'`);
  return Number(text);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      minutes: { type: 'string' },
      queues: { type: 'string' },
      sources: { type: 'string' },
      workers: { type: 'string' },
      rate: { type: 'string' },
      'checkpoint-every': { type: 'string' },
      orders: { type: 'string' },
      lines: { type: 'string' },
      cylinders: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const seed = whole('seed', values.seed, randomInt(1, 1_000_000));
  const queues = values.queues ?? 'redis';
  if (!(CHAOS_QUEUES as readonly string[]).includes(queues))
    throw new Error(`--queues must be one of ${CHAOS_QUEUES.join(', ')}, got '${queues}'`);
  const sources = whole('sources', values.sources, CHAOS_DEFAULTS.sources, 2);
  if (sources > 3) throw new Error(`--sources must be 2 or 3, got ${sources}`);
  const workers = whole('workers', values.workers, CHAOS_DEFAULTS.workers, 1);
  if (workers > 4) throw new Error(`--workers must be 1 to 4, got ${workers}`);
  const minutes = whole('minutes', values.minutes, CHAOS_DEFAULTS.minutes, 1);
  const rate = Number(values.rate ?? CHAOS_DEFAULTS.opsPerSecond);
  if (!(rate > 0 && rate <= 50)) throw new Error(`--rate must be above 0 and at most 50`);
  process.stdout.write(`chaos seed ${seed}\n`);
  const dir =
    values.out ?? join(tmpdir(), `erp-bridge-chaos-${seed}-${queues}-${Date.now().toString(36)}`);
  const result = await runChaos({
    seed,
    minutes,
    queues: queues as ChaosQueues,
    sources: sources as 2 | 3,
    workers,
    opsPerSecond: rate,
    checkpointEveryMinutes: whole(
      'checkpoint-every',
      values['checkpoint-every'],
      CHAOS_DEFAULTS.checkpointEveryMinutes,
      1,
    ),
    size: {
      orders: whole('orders', values.orders, CHAOS_DEFAULTS.size.orders, 10),
      lines: whole('lines', values.lines, CHAOS_DEFAULTS.size.lines),
      cylinders: whole('cylinders', values.cylinders, CHAOS_DEFAULTS.size.cylinders, 10),
    },
    dir,
    print: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(
    [
      '',
      `seed ${result.seed}: ${result.differences.length} differences; the run's files are in ${result.dir}`,
      CHAOS_TABLE_HEADER,
      chaosTableRow(result),
      '',
    ].join('\n'),
  );
  return result.differences.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 2;
  },
);
