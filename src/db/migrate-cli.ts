/** `npm run db:migrate`: applies migrations to DATABASE_URL and exits non-zero on failure. */
import { loadConfigOrExit } from '../config/config.js';
import { createLogger } from '../lib/logger.js';
import { createDb } from './create-db.js';
import { runMigrations } from './migrate.js';

const config = loadConfigOrExit({ mode: 'production', role: 'migrate' });
const logger = createLogger({ ...config.log, name: 'migrate' });
const handle = await createDb({ ...config.database, poolMax: 1, logger });
try {
  await runMigrations(handle);
  logger.info('migrations applied');
} catch (error) {
  logger.error({ err: error }, 'migration failed');
  process.exitCode = 1;
} finally {
  await handle.close();
}
