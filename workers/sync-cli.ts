/**
 * `npm run sync -- <command>`: runs one sync job through the same queue code as the worker
 * fleet, with an in-process worker for its duration (running workers may share the work), waits
 * for its result and prints a summary. Exits 1 when the job failed, 2 when the run was skipped
 * because another run holds the lease, 64 on a usage error.
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../src/config/config.js';
import { createDb } from '../src/db/create-db.js';
import { describeError } from '../src/lib/errors.js';
import { restoreFastStringMethods } from '../src/lib/fast-string-methods.js';
import { createLogger } from '../src/lib/logger.js';
import { createQueueEvents } from '../src/queues/queue-events.js';
import { listRuns } from '../src/sync/run-log.js';
import { listFailures } from '../src/sync/sync-failures.js';
import { readSyncState, setPaused } from '../src/sync/sync-state.js';
import { BC_SYNC_KEY } from '../src/sync/models.js';
import { createSyncRuntimeFromConfig } from './sync-runtime.js';

const USAGE = `Usage: npm run sync -- <command> [options]

Commands:
  run                 run an incremental sync now and wait for it (runs even while paused)
  run --full          a full resync: re-read every BC from Odoo (the copy keeps its data)
  resync <odooId>     read one BC fresh from Odoo and write it
  reconcile           heal the copy against Odoo's full lists: archive vanished BCs, read again
                      what is missing or stale
  status              print the sync state, the last runs and pending failures
  pause               pause the schedule (scheduled runs and reconciles skip until resumed)
  resume              resume the schedule

Options:
  --full              with run: re-read everything
  --json              print the result as JSON
  -h, --help          this help

A full resync and a reconcile wait while another run holds the lease or Odoo is away (they are
put off and run later); an incremental run is skipped instead.

Exit codes: 0 done, 1 failed, 2 skipped (another run holds the lease), 64 usage error.
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
const COMMANDS = ['run', 'resync', 'reconcile', 'status', 'pause', 'resume'];
if (!command || !COMMANDS.includes(command))
  usage(command ? `unknown command "${command}"` : 'no command given');
const odooId = command === 'resync' ? Number(argument) : undefined;
if (command === 'resync' && (!Number.isInteger(odooId) || odooId! <= 0))
  usage('resync needs a positive BC id');
if (values.full && command !== 'run') usage('--full goes with run only');
const databaseOnly = command === 'status' || command === 'pause' || command === 'resume';

restoreFastStringMethods();
const config = loadConfigOrExit({
  mode: 'production',
  role: databaseOnly ? 'migrate' : 'cli',
});
const logger = createLogger({ ...config.log, name: 'sync-cli' });
const db = await createDb({ ...config.database, poolMax: 4, logger });
const print = (text: string, data: unknown) =>
  process.stdout.write(values.json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);

try {
  if (command === 'status') {
    const [state, runs, { rows: failures, total: pendingFailures }] = await Promise.all([
      readSyncState(db.db, BC_SYNC_KEY),
      listRuns(db.db, { limit: 5 }),
      listFailures(db.db, { limit: 20 }),
    ]);
    const lines = [
      `schedule:      ${state?.pausedAt ? `paused since ${state.pausedAt.toISOString()} by ${state.pausedBy ?? '?'}` : 'active'}`,
      `watermark:     ${state?.watermark?.toISOString() ?? 'none (next run copies everything)'}`,
      `syncing:       ${state?.isSyncing ? `yes, lease held by ${state.leaseOwner} until ${state.leaseExpiresAt?.toISOString()}` : 'no'}`,
      `last success:  ${state?.lastSuccessAt?.toISOString() ?? 'never'}`,
      `pending failures: ${pendingFailures}${failures.map((f) => `\n  BC ${f.odooId}: ${f.error} (${f.attempts} attempts)`).join('')}`,
      'last runs:',
      ...runs.map(
        (r) =>
          `  #${r.id} ${r.kind} ${r.status} (${r.trigger}) ${r.startedAt.toISOString()} created=${r.created} updated=${r.updated} archived=${r.archived} failed=${r.failed}`,
      ),
    ];
    print(lines.join('\n'), { state, runs, failures, pendingFailures });
  } else if (command === 'pause' || command === 'resume') {
    const state = await setPaused(db.db, BC_SYNC_KEY, command === 'pause' ? 'cli' : null);
    print(
      command === 'pause'
        ? `schedule paused since ${state.pausedAt?.toISOString()}: scheduled runs and reconciles skip; "run" still works`
        : 'schedule resumed',
      { paused: state.pausedAt !== null, pausedAt: state.pausedAt, pausedBy: state.pausedBy },
    );
  } else {
    const runtime = createSyncRuntimeFromConfig({
      config,
      odoo: config.odoo!,
      redisUrl: config.redis.url!,
      db: db.db,
      logger,
    });
    const events = await createQueueEvents(runtime.connection, runtime.queues.byName.sync);
    try {
      runtime.start();
      const job =
        command === 'run'
          ? await runtime.queues.add('sync-run', { trigger: 'cli', full: values.full === true })
          : command === 'resync'
            ? await runtime.queues.add('resync-bc', { odooId: odooId!, trigger: 'cli' })
            : await runtime.queues.add('reconcile', { trigger: 'cli' });
      logger.info({ jobId: job.id, job: job.name }, 'job queued; waiting for it');
      const result = (await events.waitFor(job)) as Record<string, unknown>;
      const outcome =
        typeof result.status === 'string'
          ? result.status
          : typeof result.action === 'string'
            ? result.action
            : 'done';
      print(`${command}: ${outcome}\n${JSON.stringify(result, null, 2)}`, result);
      if (result.status === 'skipped') process.exitCode = 2;
    } catch (error) {
      process.stderr.write(`${command} failed: ${describeError(error)}\n`);
      process.exitCode = 1;
    } finally {
      await runtime.close(config.http.shutdownTimeoutMs);
      await events.close();
    }
  }
} finally {
  await db.close();
}
