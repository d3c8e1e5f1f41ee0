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
