/**
 * The API process: loads the configuration, builds the clients and the app, listens, and on
 * SIGTERM/SIGINT turns unready, stops accepting requests, lets those in flight finish, then closes
 * its clients. An uncaught error is logged before the process exits 1.
 */
import { createApi, createApiDb } from './create-api.js';
import { loadConfigOrExit } from './config/config.js';
import { restoreFastStringMethods } from './lib/fast-string-methods.js';
import { createLogger } from './lib/logger.js';
import { createShutdown, onFatalErrors, onSignals, refuseToStart } from './lib/shutdown.js';
import { CODE_FAMILIES } from './families/registry.js';
import { answerUsage } from './lib/command-usage.js';

const USAGE = `Usage: npm start            (node dist/src/server.js; the image's "api")

The API: the copy's read routes, sync control, the change feed, the Tryton gateway, health
(/health/live, /health/ready), metrics, the OpenAPI documentation (/docs) and bull-board
(/admin/queues), on HOST:PORT (0.0.0.0:3000).

Configuration comes from the environment and an optional .env (every key: .env.example, and the
README's configuration table). It needs DATABASE_URL, API_KEYS and REDIS_URL (not with
QUEUE_BACKEND=postgres); the API reads no Odoo secret. A missing or bad key stops it before it
starts, each one named (exit 1). On SIGTERM or SIGINT it turns unready, lets the requests in
flight finish (SHUTDOWN_TIMEOUT_MS), and exits 0.

Options:
  -h, --help   this help`;

answerUsage(USAGE);
restoreFastStringMethods();
const config = loadConfigOrExit({ mode: 'production', role: 'api', codeFamilies: CODE_FAMILIES });
const logger = createLogger({ ...config.log, name: 'api' });
const shutdown = createShutdown(logger, config.http.shutdownTimeoutMs);
onSignals(shutdown, logger);
onFatalErrors(shutdown, logger);

const db = await createApiDb(config, logger);
shutdown.add('database', () => db.close());
const replica = config.database.readUrl
  ? await createApiDb(config, logger, config.database.readUrl)
  : undefined;
if (replica) shutdown.add('database-replica', () => replica.close());
const app = await createApi({
  config,
  logger,
  db,
  shutdown,
  ...(replica ? { replica } : {}),
}).catch((error: unknown) => refuseToStart(shutdown, logger, error));
await app.listen({ port: config.http.port, host: config.http.host });
