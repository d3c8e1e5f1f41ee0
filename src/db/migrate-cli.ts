/** `npm run db:migrate`: applies migrations to DATABASE_URL and exits non-zero on failure. */
import { loadConfigOrExit } from '../config/config.js';
import { createLogger } from '../lib/logger.js';
import { createDb } from './create-db.js';
import { runMigrations } from './migrate.js';

const config = loadConfigOrExit({ mode: 'production', role: 'migrate' });
const logger = createLogger({ ...config.log, name: 'migrate' });
// No session limits: a migrator waits on the advisory lock (and DDL on the API's reads) as long
// as another migrator or query holds it.
const handle = await createDb({ ...config.database, sessionLimits: undefined, poolMax: 1, logger });
try {
  await runMigrations(handle);
  logger.info('migrations applied');
} catch (error) {
  logger.error({ err: error }, 'migration failed');
  process.exitCode = 1;
} finally {
  await handle.close();
}
