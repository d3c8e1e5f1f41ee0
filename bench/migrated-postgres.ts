/** A bench's own PostgreSQL server, migrated as `migrate` leaves a deployment's, stopped after. */
import { createDb, type DbHandle } from '../src/db/create-db.js';
import { runMigrations } from '../src/db/migrate.js';
import { startLocalPostgres } from '../test/helpers/local-services.js';

/** Runs `work` on a throw-away server (`settings`: more `-c` options), migrated, on one connection. */
export async function onMigratedPostgres<T>(
  work: (handle: DbHandle) => Promise<T>,
  settings: Readonly<Record<string, string>> = {},
): Promise<T> {
  const pg = await startLocalPostgres(settings);
  let handle: DbHandle | undefined;
  try {
    handle = await createDb({ url: pg.url, poolMax: 1 });
    await runMigrations(handle);
    return await work(handle);
  } finally {
    await handle?.close();
    await pg.stop();
  }
}
