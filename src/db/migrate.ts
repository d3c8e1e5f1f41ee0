/**
 * Applies the committed drizzle-kit migrations. drizzle's migrator takes no lock, so several
 * processes starting at once (api, workers, a migrate job) would race on an empty database; on
 * PostgreSQL the whole run holds a session advisory lock on a dedicated single connection.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { DbHandle } from './create-db.js';

/** An arbitrary, fixed 64-bit key: every erp-bridge migrator contends on the same lock. */
const MIGRATION_LOCK_KEY = 4_242_001_337;

/** Finds `drizzle/` from either the sources (`src/db`) or the build (`dist/src/db`). */
export function findMigrationsFolder(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'drizzle');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no drizzle/ migrations folder above ${start}`);
    dir = parent;
  }
}

export async function runMigrations(
  handle: DbHandle,
  migrationsFolder = findMigrationsFolder(),
): Promise<void> {
  if (!handle.url) throw new Error('a PostgreSQL handle must expose its URL');
  // One connection only: the session lock and every migration statement share it.
  const sql = postgres(handle.url, { max: 1, onnotice: () => undefined });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migratePostgres(drizzle(sql), { migrationsFolder });
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await sql.end();
  }
}
