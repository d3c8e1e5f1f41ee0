/**
 * The worker process: loads the configuration, builds the clients and the sync runtime,
 * upserts the job schedulers, takes jobs, and on SIGTERM/SIGINT stops taking jobs and lets
 * active ones finish within SHUTDOWN_TIMEOUT_MS before closing connections.
 *
 * A run's lease belongs to the run, not to this process: its remaining jobs go on on other
 * workers, and if none is left the lease simply expires.
 */
import { utimesSync, writeFileSync } from 'node:fs';
import { loadConfigOrExit } from '../src/config/config.js';
import { createDb } from '../src/db/create-db.js';
import { createLogger } from '../src/lib/logger.js';
import { createShutdown, onSignals } from '../src/lib/shutdown.js';
import { upsertSchedules } from '../src/queues/schedules.js';
import { createSyncRuntimeFromConfig } from './sync-runtime.js';

/** Touched every 30 s while the process is healthy; the container healthcheck reads its age. */
const ALIVE_FILE = '/tmp/erp-bridge-worker.alive';

const config = loadConfigOrExit({ mode: 'production', role: 'worker' });
const logger = createLogger({ ...config.log, name: 'worker' });
const shutdown = createShutdown(logger, config.http.shutdownTimeoutMs + 5_000);
onSignals(shutdown, logger);

const db = await createDb({ url: config.database.url, poolMax: config.database.poolMax, logger });
shutdown.add('database', () => db.close());
const runtime = createSyncRuntimeFromConfig({
  config,
  odoo: config.odoo!,
  redisUrl: config.redis.url!,
  db: db.db,
  logger,
});
shutdown.add('sync runtime', () => runtime.close(config.http.shutdownTimeoutMs));

await upsertSchedules(runtime.queues, {
  everyMs: config.sync.everyMs,
  reconcileCron: config.sync.reconcileCron,
});
runtime.start();
logger.info(
  {
    everyMs: config.sync.everyMs,
    reconcileCron: config.sync.reconcileCron,
    concurrency: config.sync.concurrency,
    odoo: config.odoo!.url,
  },
  'worker started',
);

writeFileSync(ALIVE_FILE, '');
const alive = setInterval(() => {
  const now = new Date();
  utimesSync(ALIVE_FILE, now, now);
}, 30_000);
alive.unref();
shutdown.add('alive-file', () => {
  clearInterval(alive);
  return Promise.resolve();
});
