/**
 * The call budget's state in PostgreSQL, for a fleet without Redis: a row of `sync_call_budget`,
 * kept by the functions `sync_call_budget_acquire` and `sync_call_budget_release`
 * (drizzle/0034_shared_state.sql), one round trip each. Each locks the budget's row for its
 * transaction and reads the server's clock, as the Redis scripts run alone and read Redis's.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { rowsOf } from '../db/sql-rows.js';
import { budgetIdOf, type BudgetStore, type BudgetWaitReason } from './budget-store.js';

export function createPostgresBudgetStore(input: {
  db: Db;
  odoo: { url: string; database: string };
}): BudgetStore {
  const { db } = input;
  const budget = budgetIdOf(input.odoo);
  return {
    async acquire(attempt, bounds) {
      const [answer] = rowsOf<{ admitted: boolean; wait_ms: number; reason: BudgetWaitReason }>(
        await db.execute(sql`
          select admitted, wait_ms, reason from sync_call_budget_acquire(
            ${budget}, ${attempt}, ${bounds.leaseMs}::int, ${bounds.maxConcurrentCalls}::int,
            ${bounds.maxCallsPerSecond}::int, ${bounds.windowMs}::int)`),
      );
      if (!answer) throw new TypeError('sync_call_budget_acquire answered no row');
      return answer.admitted
        ? { admitted: true }
        : { admitted: false, waitMs: answer.wait_ms, reason: answer.reason };
    },
    async release(attempt, terms) {
      const { pause } = terms;
      // Cut here as the function would cut it: a Retry-After of years fits no integer.
      const retryAfterMs =
        pause?.retryAfterMs === undefined
          ? -1
          : Math.min(pause.retryAfterMs, pause.retryAfterMaxMs);
      const [row] = rowsOf<{ pause_ms: number }>(
        await db.execute(sql`
          select sync_call_budget_release(
            ${budget}, ${attempt}, ${terms.countsInWindow}::boolean, ${terms.windowMs}::int,
            ${pause?.status ?? 0}::int, ${retryAfterMs}::int,
            ${pause?.baseMs ?? 0}::int, ${pause?.maxMs ?? 0}::int,
            ${pause?.retryAfterMaxMs ?? 0}::int, ${pause?.levelTtlMs ?? 0}::int) as pause_ms`),
      );
      return row?.pause_ms ?? 0;
    },
    async readPause() {
      const [row] = rowsOf<{ status: number; remaining_ms: number }>(
        await db.execute(sql`
          select pause_status as status,
            ceil(extract(epoch from paused_until - clock_timestamp()) * 1000)::int as remaining_ms
          from sync_call_budget
          where budget = ${budget} and paused_until > clock_timestamp()`),
      );
      return row ? { status: row.status, remainingMs: row.remaining_ms } : null;
    },
  };
}
