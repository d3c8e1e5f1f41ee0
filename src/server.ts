/**
 * The API process: loads the configuration, builds the clients and the app, listens, and closes
 * everything in order on SIGTERM/SIGINT.
 */
import { loadConfigOrExit } from './config/config.js';
import { createDb } from './db/create-db.js';
import { buildApp } from './http/app.js';
import { createLogger } from './lib/logger.js';
import { createShutdown, onSignals } from './lib/shutdown.js';

const config = loadConfigOrExit({ mode: 'production', role: 'api' });
const logger = createLogger({ ...config.log, name: 'api' });
const shutdown = createShutdown(logger, config.http.shutdownTimeoutMs);
onSignals(shutdown, logger);

const db = await createDb({ url: config.database.url, poolMax: config.database.poolMax, logger });
shutdown.add('database', () => db.close());

const app = await buildApp({ config, logger, db, isShuttingDown: () => shutdown.stopping });
shutdown.add('http', () => app.close());
await app.listen({ port: config.http.port, host: config.http.host });
