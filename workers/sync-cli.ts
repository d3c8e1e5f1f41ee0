/**
 * `npm run sync -- <command>`: runs sync jobs through the same queue code as the worker fleet,
 * with an in-process worker for their duration (running workers may share the work), waits for
 * their results and prints a summary. It copies what a worker does, every source SYNC_SOURCES
 * names (docs/sources.md). `--family` names a family by its key (`bcs`, `acme.bcs`) or, with
 * `--source`, by its name in that source; `--source` alone, every family of the source; neither,
 * every family copied. `resync` acts on the first of them. Exits 1 when a job failed (or a query
 * of its database was lost with its connection), 2 when a run was skipped because another run
 * holds the lease, 64 on a usage error; on either queue store, once it has closed what it opened.
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../src/config/config.js';
import { createDb } from '../src/db/create-db.js';
import { copiedSources } from '../src/config/sources.js';
import { loadFamilies } from '../src/families/load-families.js';
import { CODE_FAMILIES, FamilyNotMigratedError } from '../src/families/registry.js';
import { splitFamilyKey } from '../src/sources/family-key.js';
import { describeError } from '../src/lib/errors.js';
import { restoreFastStringMethods } from '../src/lib/fast-string-methods.js';
import { createLogger } from '../src/lib/logger.js';
import { JOBS } from '../src/queues/catalogue.js';
import { createQueueEvents } from '../src/queues/queue-events.js';
import { FamilySelectionError, selectFamilies } from '../src/sync/select-families.js';
import { setPaused } from '../src/sync/sync-state.js';
import { runCheckCommand } from './sync-cli-check.js';
import { describeStatus, readPausedQueuesOnce, readPauseOnce } from './sync-cli-status.js';
import { createSyncRuntimeFromConfig } from './sync-runtime.js';
import { stuckExecutionsOf } from './execution-bounds.js';

const USAGE = `Usage: npm run sync -- <command> [options]

Commands:
  run                 run an incremental sync now and wait for it (runs even while paused)
  run --full          a full resync: re-read every record from Odoo (the copy keeps its data)
  resync <odooId>     read one root record fresh from Odoo and write it
  reconcile           heal the copy against Odoo's full lists: archive vanished records, read
                      again what is missing or stale
  verify              compare the next slice of the copy with Odoo by content (data, children,
                      links, whatever the stamps say) and write again what differs
  verify --all        the same for every record
  status              print each source's Odoo link, then each of its families' state, last runs
                      and pending failures
  pause               pause the schedule (scheduled runs and reconciles skip until resumed)
  resume              resume the schedule
  check               prove each source's Odoo (and Tryton) before the first copy: version,
                      transport, credentials and the key's expiry, clock skew, what the sync user
                      may read of each family, webhooks, the call budget; a line per check, OK,
                      WARN or FAIL with what to do; writes nothing (exit 1 on any FAIL)

Options:
  --family F          act on the family F only, by its key: bcs, partners, moves… for the default
                      source's, acme.bcs for source acme's; without it, on every family copied
                      (of every source SYNC_SOURCES names), and resync on the first of them
  --source S          act on the families of source S only (ODOO_*'s Odoo is named default);
                      with --family F, on its family F (--source acme --family bcs is acme.bcs);
                      with check, S's Odoo only (and not Tryton)
  --full              with run: re-read everything
  --all               with verify: every record, not the next slice
  --json              print the result as JSON
  -h, --help          this help

A full resync, a reconcile and a verify wait while another run holds the lease or Odoo is away
(they are put off and run later); an incremental run is skipped instead.

Exit codes: 0 done, 1 failed (check: a FAIL line), 2 skipped (another run holds the lease),
64 usage error.
Configuration comes from the environment (see .env.example).`;

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(64);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        full: { type: 'boolean' },
        all: { type: 'boolean' },
        family: { type: 'string' },
        source: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usage(describeError(error));
  }
})();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const [command, argument] = positionals;
const COMMANDS = ['run', 'resync', 'reconcile', 'verify', 'status', 'pause', 'resume', 'check'];
if (!command || !COMMANDS.includes(command))
  usage(command ? `unknown command "${command}"` : 'no command given');
const odooId = command === 'resync' ? Number(argument) : undefined;
if (command === 'resync' && (!Number.isInteger(odooId) || odooId! <= 0))
  usage('resync needs a positive record id');
if (values.full && command !== 'run') usage('--full goes with run only');
if (values.all && command !== 'verify') usage('--all goes with verify only');
if (values.family !== undefined && command === 'check')
  usage('check takes --source only: it checks a source, every family of it');
const databaseOnly = command === 'status' || command === 'pause' || command === 'resume';

restoreFastStringMethods();
const config = loadConfigOrExit({
  mode: 'production',
  role: databaseOnly ? 'migrate' : 'cli',
  codeFamilies: CODE_FAMILIES,
});
// Logs go to stderr: stdout is the command's answer (`--json` must parse), and a boot warning
// (Odoo 19 without an API key) would otherwise come before it.
const logger = createLogger({ ...config.log, name: 'sync-cli', stderr: true });
const db = await createDb({
  ...config.database,
  poolMax: 4,
  watch: { stuckAfterMs: config.redis.livenessTimeoutMs },
  logger,
});
// A query postgres.js lost with its connection (a PostgreSQL crash) would keep the command waiting
// for good (src/db/query-watch.ts): it fails, as a worker exits, and its caller can run it again.
const lostQueries = setInterval(
  () => {
    const lost = db.stuckQuery?.();
    if (lost === undefined) return;
    process.stderr.write(`${command} failed: ${lost}\n`);
    process.exit(1);
  },
  Math.max(250, Math.floor(config.redis.livenessTimeoutMs / 4)),
);
lostQueries.unref();
if (command === 'check') {
  if (values.source !== undefined && !config.sync.sources.includes(values.source)) {
    await db.close();
    usage(`--source: "${values.source}" is not a source this process copies (SYNC_SOURCES)`);
  }
  try {
    process.exitCode = await runCheckCommand({
      config,
      db: db.db,
      logger,
      source: values.source,
      json: values.json === true,
      write: (text) => process.stdout.write(`${text}\n`),
    });
  } finally {
    await db.close();
  }
  process.exit();
}
// The sources, each copied from its own Odoo, as the workers have them (SYNC_SOURCES).
const copied = copiedSources(config.sources, config.sync.sources);
const sources = copied.others;
const families = await loadFamilies(db.db, config.sync.families, undefined, copied).catch(
  async (error: unknown) => {
    // No family that can be copied (migrate never ran): said plainly, not as a usage error.
    process.stderr.write(`${describeError(error)}\n`);
    await db.close();
    return process.exit(1);
  },
);
let chosen: readonly string[];
try {
  chosen = selectFamilies(
    [...families.all, ...families.unavailable].map((family) => family.name),
    { family: values.family, source: values.source },
  );
} catch (error) {
  if (!(error instanceof FamilySelectionError)) throw error;
  await db.close();
  usage(`--${error.option}: ${error.message}`);
}
// Families waiting for migrate: status shows them, pause and resume act on them too, and a job
// for one is refused with why and what to run.
const waiting = families.unavailable.filter((family) => chosen.includes(family.name));
if (!databaseOnly) {
  for (const family of waiting)
    process.stderr.write(`${new FamilyNotMigratedError(family).message}\n`);
  if (values.family !== undefined && waiting.length > 0) {
    await db.close();
    process.exit(1);
  }
}
const available = families.all.filter((family) => chosen.includes(family.name));
const targets = command === 'resync' ? available.slice(0, 1) : available;
const print = (text: string, data: unknown) =>
  process.stdout.write(values.json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);

try {
  if (command === 'status') {
    const status = await describeStatus(db.db, targets, waiting, {
      sources: config.sources,
      pauseOf: (odoo) => readPauseOnce(config, logger, db.db, odoo),
      pausedQueues: await readPausedQueuesOnce(config, logger, [
        ...new Set([...targets, ...waiting].map((family) => splitFamilyKey(family.name).source)),
      ]),
    });
    print(status.text, status.data);
  } else if (command === 'pause' || command === 'resume') {
    const names = [...targets, ...waiting].map((family) => family.name);
    const states = await Promise.all(
      names.map((name) => setPaused(db.db, name, command === 'pause' ? 'cli' : null)),
    );
    print(
      command === 'pause'
        ? `schedule of ${names.join(', ')} paused: scheduled runs and reconciles skip; "run" still works`
        : `schedule of ${names.join(', ')} resumed`,
      states.map((state) => ({
        family: state.key,
        source: splitFamilyKey(state.key).source,
        paused: state.pausedAt !== null,
        pausedAt: state.pausedAt,
        pausedBy: state.pausedBy,
      })),
    );
  } else {
    const runtime = createSyncRuntimeFromConfig({
      config,
      odoo: copied.withDefault ? config.odoo : undefined,
      sources,
      db: db.db,
      families,
      logger,
      stuckExecutions: stuckExecutionsOf(db, config.redis.livenessTimeoutMs),
    });
    // Reconciles and verifies have a queue of their own (src/queues/catalogue.ts), and each
    // source its queues: the events of each target's.
    const jobQueue =
      command === 'reconcile' || command === 'verify'
        ? JOBS[command].queue
        : JOBS['sync-run'].queue;
    const sourceOf = (family: { readonly name: string }) => splitFamilyKey(family.name).source;
    const events = new Map(
      await Promise.all(
        [...new Set(targets.map(sourceOf))].map(
          async (source) =>
            [
              source,
              await createQueueEvents(runtime.stores.backend, runtime.queues.of(source)[jobQueue], {
                onError: (error) => logger.debug({ err: error }, 'queue events: connection error'),
              }),
            ] as const,
        ),
      ),
    );
    try {
      runtime.start();
      const jobs = await Promise.all(
        targets.map((family) =>
          command === 'run'
            ? runtime.queues.add('sync-run', {
                family: family.name,
                trigger: 'cli',
                full: values.full === true,
              })
            : command === 'resync'
              ? runtime.queues.add('resync-record', {
                  family: family.name,
                  odooId: odooId!,
                  trigger: 'cli',
                })
              : command === 'verify'
                ? runtime.queues.add('verify', {
                    family: family.name,
                    trigger: 'cli',
                    all: values.all === true,
                  })
                : runtime.queues.add('reconcile', { family: family.name, trigger: 'cli' }),
        ),
      );
      logger.info({ jobs: jobs.map((job) => job.id), job: command }, 'jobs queued; waiting');
      const outcomes = await Promise.all(
        jobs.map((job, i) =>
          events
            .get(sourceOf(targets[i]!))!
            .waitFor(job)
            .then(
              (result) => ({ family: targets[i]!.name, result: result as Record<string, unknown> }),
              (error: unknown) => ({ family: targets[i]!.name, error: describeError(error) }),
            ),
        ),
      );
      for (const outcome of outcomes) {
        if ('error' in outcome) {
          process.stderr.write(`${command} ${outcome.family} failed: ${outcome.error}\n`);
          process.exitCode = 1;
          continue;
        }
        const { result } = outcome;
        const status =
          typeof result.status === 'string'
            ? result.status
            : typeof result.action === 'string'
              ? result.action
              : 'done';
        if (!values.json)
          print(
            `${command} ${outcome.family}: ${status}\n${JSON.stringify(result, null, 2)}`,
            null,
          );
        if (result.status === 'skipped' && process.exitCode !== 1) process.exitCode = 2;
      }
      if (values.json) print('', outcomes);
    } finally {
      // The events first: on PostgreSQL each holds a connection of the queues' pool for its
      // LISTEN, and closing the stores ends that pool, which waits for every connection it lent.
      await Promise.all([...events.values()].map((owned) => owned.close()));
      await runtime.close(config.http.shutdownTimeoutMs);
    }
  }
} finally {
  await db.close();
}
