/**
 * `npm run sandbox -- --orders 5000 --lines 10 --port 8069 [--seed 1] [--partners N]
 * [--moves N --move-lines M] [--cylinders N] [--real-models M,… --real-records M=N,…]
 * [--replica-lag-ms L] [--series V] [--databases A,B,…] [--max-body-bytes B]`: the Odoo sandbox
 * as a process on 127.0.0.1. When it is ready it prints its settings as `ODOO_…=` lines ready to
 * paste into `.env`; SIGINT/SIGTERM close it cleanly.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  createOdooSandbox,
  type OdooSandboxOptions,
  type SandboxRealSchemas,
} from './odoo-sandbox.js';
import {
  commandResultJson,
  createCommandRunner,
  type SandboxCommand,
  type SandboxCommandTarget,
} from './sandbox-commands.js';
import { SANDBOX_SERIES, type SandboxSeries } from './sandbox-rpc-services.js';
import { DUMPED_MODELS, isDumpedModel, type DumpedModel } from './real/schema-dump.js';

const HELP = `Odoo sandbox: an emulated Odoo 19 external API (XML-RPC, JSON-RPC, JSON-2) on 127.0.0.1.

Usage: npm run sandbox -- [options]

  --orders N      purchase orders (dimagaz.bc) to generate      (default 1000)
  --lines M       lines per order (dimagaz.bc.line)             (default 10)
  --partners N    contacts (res.partner) beyond the vendors     (default 0)
  --moves N       journal entries (account.move)                (default 0)
  --move-lines M  lines per entry (account.move.line)           (default 0)
  --cylinders N   custom x_cylinder records, with their valves  (default 0)
  --real-models M,N  serve these models from real Odoo 17.0 dumps (dev/sandbox/schemas/):
                  ${DUMPED_MODELS.join(', ')}
  --real-records M=N,…  records to generate per real model; --move-lines gives each new
                  account.move its lines (default 3)
  --seed S        seed of the data generator                    (default 1)
  --replica-lag-ms L  JSON-2's read-only methods read a replica that shows
                  each commit L ms after it                     (default 0: none)
  --series V      the Odoo series played: 17.0, 18.0, 19.0 or 20.0 (default 19.0)
  --port P        port to listen on; 0 picks a free one         (default 8069)
  --database D    database name                                 (default odoo_sandbox)
  --databases A,B,…  several databases in this one process, each with the
                  sizes above and its own records (seed S for the first,
                  S+1 for the next…), clock, call log and faults; the same
                  user and password in each (not with --database)
  --username U    login of the API user                         (default sync@dimagaz.example)
  --password P    password / API key of that user              (default sandbox-secret)
  --max-body-bytes B  the largest request it reads, as Odoo's max_content_length
                  (default 128 MiB, Odoo's): a larger one is a 413
  --control-stdin take commands on stdin, one JSON object a line, for the first
                  database (dev/sandbox/sandbox-commands.ts lists them):
                  {"id":1,"op":"fault","rule":{"kind":"html","status":502,"times":1e9}}
                  injects a fault, {"id":2,"op":"clearFaults"} removes those injected,
                  {"id":3,"op":"password","password":"P"} changes the user's password,
                  {"id":4,"op":"write","model":"dimagaz.bc","ids":[7],"vals":{...}} writes,
                  {"id":5,"op":"clockSkew","ms":600000} moves Odoo's clock ahead…; each
                  is answered CONTROL_DONE=<id> <its result as JSON> on stdout once
                  applied, or CONTROL_FAILED=<id> <the error's message as JSON>;
                  it stops when stdin ends
  --stop-with-stdin  stop when standard input ends: the process that started it takes it
                  along when it ends, however it ends
  --help          this text

When ready it prints ODOO_URL, ODOO_DATABASE (the first database), ODOO_USERNAME and
ODOO_PASSWORD lines, and with --databases an ODOO_DATABASES line naming them all.
`;

/** `--real-models` and `--real-records` as the sandbox's `realSchemas`. */
function realSchemas(
  models: string | undefined,
  records: string | undefined,
  linesPerMove: number,
): SandboxRealSchemas | undefined {
  if (models === undefined) {
    if (records !== undefined) throw new Error('--real-records needs --real-models');
    return undefined;
  }
  const dumped = (name: string): DumpedModel => {
    if (!isDumpedModel(name))
      throw new Error(`no dump of ${name}: choose among ${DUMPED_MODELS.join(', ')}`);
    return name;
  };
  const counts: Partial<Record<DumpedModel, number>> = {};
  for (const entry of records?.split(',') ?? []) {
    const [model = '', count] = entry.split('=');
    counts[dumped(model.trim())] = wholeNumber('real-records', count?.trim(), 0);
  }
  return {
    models: models.split(',').map((name) => dumped(name.trim())),
    records: counts,
    linesPerMove,
  };
}

/** `--database`, or `--databases` each with a seed of its own (so their records differ). */
function databaseNames(
  database: string | undefined,
  databases: string | undefined,
  seed: number,
): Pick<OdooSandboxOptions, 'database' | 'databases'> {
  if (databases === undefined) return database === undefined ? {} : { database };
  if (database !== undefined) throw new Error('give --database or --databases, not both');
  const names = databases.split(',').map((name) => name.trim());
  if (names.some((name) => name === '') || new Set(names).size !== names.length)
    throw new Error(`--databases must be distinct names separated by commas, got '${databases}'`);
  return {
    databases: Object.fromEntries(names.map((name, index) => [name, { seed: seed + index }])),
  };
}

function isSeries(value: string): value is SandboxSeries {
  return (SANDBOX_SERIES as readonly string[]).includes(value);
}

function wholeNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new Error(`--${name} must be a whole number, got '${text}'`);
  return Number(text);
}

/**
 * Applies the commands stdin brings to `target` (a process driving this sandbox: a bench whose
 * Odoo must not share its heap, the chaos run), each answered on stdout once done. Each is
 * applied as it comes, so that they apply in their order; only `settled` and `committed` wait,
 * without holding the ones after it.
 */
function takeCommands(target: SandboxCommandTarget): { close(): void } {
  const runner = createCommandRunner(target);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    const { id, ...command } = JSON.parse(line) as SandboxCommand & { id: number };
    // Async: a command that throws answers as a rejection.
    runner.run(command).then(
      (result) => process.stdout.write(`CONTROL_DONE=${id} ${commandResultJson(result)}\n`),
      (error: unknown) =>
        process.stdout.write(
          `CONTROL_FAILED=${id} ${JSON.stringify(error instanceof Error ? error.message : String(error))}\n`,
        ),
    );
  });
  return { close: () => lines.close() };
}

/** The machine's clock, refined by the high-resolution timer, moved by a skew a command sets. */
function skewableClock(): { source: () => number; setSkewMs: (ms: number) => void } {
  const baseMicros = Date.now() * 1000;
  const baseHr = process.hrtime.bigint();
  let skewMicros = 0;
  return {
    source: () => baseMicros + Number((process.hrtime.bigint() - baseHr) / 1000n) + skewMicros,
    setSkewMs: (ms) => {
      skewMicros = Math.round(ms * 1000);
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string' },
      lines: { type: 'string' },
      partners: { type: 'string' },
      moves: { type: 'string' },
      'move-lines': { type: 'string' },
      cylinders: { type: 'string' },
      'real-models': { type: 'string' },
      'real-records': { type: 'string' },
      seed: { type: 'string' },
      'replica-lag-ms': { type: 'string' },
      series: { type: 'string' },
      port: { type: 'string' },
      database: { type: 'string' },
      databases: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      'max-body-bytes': { type: 'string' },
      'control-stdin': { type: 'boolean' },
      'stop-with-stdin': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return;
  }
  const series = values.series ?? '19.0';
  if (!isSeries(series))
    throw new Error(`--series must be one of ${SANDBOX_SERIES.join(', ')}, got '${series}'`);
  const port = wholeNumber('port', values.port, 8069);
  if (port > 65_535) throw new Error(`--port must be at most 65535, got ${port}`);
  const seed = wholeNumber('seed', values.seed, 1);
  const clock = skewableClock();
  const sandbox = createOdooSandbox({
    clock: clock.source,
    orders: wholeNumber('orders', values.orders, 1000),
    linesPerOrder: wholeNumber('lines', values.lines, 10),
    partners: wholeNumber('partners', values.partners, 0),
    moves: wholeNumber('moves', values.moves, 0),
    linesPerMove: wholeNumber('move-lines', values['move-lines'], 0),
    cylinders: wholeNumber('cylinders', values.cylinders, 0),
    realSchemas: realSchemas(
      values['real-models'],
      values['real-records'],
      wholeNumber('move-lines', values['move-lines'], 3),
    ),
    seed,
    replicaLagMs: wholeNumber('replica-lag-ms', values['replica-lag-ms'], 0),
    serverVersion: series,
    port,
    host: '127.0.0.1',
    ...databaseNames(values.database, values.databases, seed),
    ...(values.username === undefined ? {} : { username: values.username }),
    ...(values.password === undefined ? {} : { password: values.password }),
    ...(values['max-body-bytes'] === undefined
      ? {}
      : { maxBodyBytes: wholeNumber('max-body-bytes', values['max-body-bytes'], 0) }),
  });
  await sandbox.start();
  const commands =
    values['control-stdin'] === true
      ? takeCommands({ control: sandbox.control, setClockSkewMs: clock.setSkewMs })
      : undefined;

  let stopping = false;
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`odoo sandbox: ${reason}, closing\n`);
    commands?.close();
    // A standard input still read would keep the process alive once the sandbox closed.
    process.stdin.destroy();
    sandbox.stop().then(
      () => {
        process.exitCode = 0;
      },
      (error: unknown) => {
        process.stderr.write(
          `odoo sandbox: close failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Its driver's end closes the pipe, a SIGKILL or a crash included, which no signal tells.
  if (commands !== undefined || values['stop-with-stdin'] === true) {
    process.stdin.once('end', () => stop('standard input ended'));
    if (commands === undefined) process.stdin.resume();
  }
  // Ready once it is stopped as it should be: a driver may stop it as soon as it reads these.
  const several =
    sandbox.databases.length > 1 ? `ODOO_DATABASES=${sandbox.databases.join(',')}\n` : '';
  process.stdout.write(
    `ODOO_URL=${sandbox.url}\nODOO_DATABASE=${sandbox.database}\n${several}ODOO_USERNAME=${sandbox.username}\nODOO_PASSWORD=${sandbox.password}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`odoo sandbox: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
