/**
 * Applies the committed drizzle-kit migrations. drizzle's migrator takes no lock, so several
 * processes starting at once (api, workers, a migrate job) would race on an empty database; on
 * PostgreSQL the whole run holds a session advisory lock on a dedicated single connection. The
 * wait for it, and every lock a migration waits for, ends at a deadline (`lock_timeout`): a
 * migrator held up by another that never finishes fails with `LOCK_TIMEOUT`, retryable.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { isLockTimeout, LockTimeoutError } from './advisory-lock.js';
import type { DbHandle } from './create-db.js';

/** An arbitrary, fixed 64-bit key: every erp-bridge migrator contends on the same lock. */
const MIGRATION_LOCK_KEY = 4_242_001_337;
/** How long a migrator waits, by default, for another's migrations (an index build may be long). */
export const MIGRATION_LOCK_WAIT_MS = 600_000;

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

/** @throws LockTimeoutError when another migrator held the lock past `lockWaitMs` */
export async function runMigrations(
  handle: DbHandle,
  migrationsFolder = findMigrationsFolder(),
  options: { lockWaitMs?: number } = {},
): Promise<void> {
  if (!handle.url) throw new Error('a PostgreSQL handle must expose its URL');
  const lockWaitMs = options.lockWaitMs ?? MIGRATION_LOCK_WAIT_MS;
  // One connection only: the session lock and every migration statement share it.
  const sql = postgres(handle.url, {
    max: 1,
    onnotice: () => undefined,
    connection: { lock_timeout: lockWaitMs },
  });
  try {
    try {
      await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    } catch (error) {
      if (isLockTimeout(error))
        throw new LockTimeoutError("the migrations' lock", lockWaitMs, error);
      throw error;
    }
    try {
      await migratePostgres(drizzle(sql), { migrationsFolder });
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await sql.end();
  }
}
