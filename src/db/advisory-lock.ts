/**
 * A transaction's advisory lock, waited for at most a given time: PostgreSQL's own
 * `lock_timeout`, set for the transaction only, ends the wait (and every later statement's wait
 * for a lock in it) with `LOCK_TIMEOUT`, retryable. No erp-bridge wait on a lock is without end:
 * a holder that never lets go (a frozen process, a session nobody closes) costs a clear error.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './create-db.js';
import { AppError, databaseErrorFacts } from '../lib/errors.js';

/** PostgreSQL's `lock_not_available`: a lock not granted within `lock_timeout`. */
const LOCK_NOT_AVAILABLE = '55P03';

export class LockTimeoutError extends AppError {
  constructor(what: string, waitMs: number, cause: unknown) {
    super('LOCK_TIMEOUT', `${what} was not granted within ${waitMs} ms: another process holds it`, {
      cause,
      retryable: true,
    });
  }
}

/** Whether `error` is PostgreSQL's refusal of a lock at `lock_timeout`. */
export function isLockTimeout(error: unknown): boolean {
  return databaseErrorFacts(error)?.sqlState === LOCK_NOT_AVAILABLE;
}

/**
 * Takes the advisory lock `key` for the rest of the transaction `tx`, waiting at most `waitMs`.
 * @throws LockTimeoutError when it was not granted in time
 */
export async function advisoryXactLock(
  tx: Pick<Db, 'execute'>,
  key: SQL,
  waitMs: number,
  what: string,
): Promise<void> {
  await tx.execute(sql`select set_config('lock_timeout', ${`${waitMs}ms`}, true)`);
  try {
    await tx.execute(sql`select pg_advisory_xact_lock(${key})`);
  } catch (error) {
    if (isLockTimeout(error)) throw new LockTimeoutError(what, waitMs, error);
    throw error;
  }
}
