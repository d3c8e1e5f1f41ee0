/** The call budget's state in the queue Redis, kept by the two scripts of budget-scripts.ts. */
import type { QueueRedis } from '../stores/redis-connection.js';
import { acquireScript, releaseScript } from './budget-scripts.js';
import { budgetIdOf, type BudgetStore, type BudgetWaitReason } from './budget-store.js';

export function createRedisBudgetStore(input: {
  redis: QueueRedis;
  /** The queue prefix: its hash tag keeps every key of the budget in one Cluster slot. */
  keyPrefix: string;
  odoo: { url: string; database: string };
}): BudgetStore {
  const { redis } = input;
  const base = `${input.keyPrefix}:odoo-budget:${budgetIdOf(input.odoo)}`;
  const inFlightKey = `${base}:in-flight`;
  const recentKey = `${base}:recent`;
  const pauseKey = `${base}:pause`;
  const pauseLevelKey = `${base}:pause-level`;
  return {
    async acquire(attempt, bounds) {
      const answer = (await acquireScript(
        redis,
        [inFlightKey, recentKey, pauseKey],
        [
          attempt,
          bounds.leaseMs,
          bounds.maxConcurrentCalls,
          bounds.maxCallsPerSecond,
          bounds.windowMs,
        ],
      )) as [number, number?, BudgetWaitReason?];
      if (Number(answer[0]) === 1) return { admitted: true };
      return { admitted: false, waitMs: Number(answer[1]), reason: answer[2] ?? 'concurrency' };
    },
    async release(attempt, terms) {
      const { pause } = terms;
      return Number(
        await releaseScript(
          redis,
          [inFlightKey, recentKey, pauseKey, pauseLevelKey],
          [
            attempt,
            terms.countsInWindow ? 1 : 0,
            pause?.status ?? 0,
            pause?.retryAfterMs ?? -1,
            pause?.baseMs ?? 0,
            pause?.maxMs ?? 0,
            pause?.retryAfterMaxMs ?? 0,
            pause?.levelTtlMs ?? 0,
            terms.windowMs,
          ],
        ),
      );
    },
    async readPause() {
      const [[, status], [, remainingMs]] = (await redis
        .multi()
        .get(pauseKey)
        .pttl(pauseKey)
        .exec()) as [[null, string | null], [null, number]];
      return status !== null && remainingMs > 0 ? { status: Number(status), remainingMs } : null;
    },
  };
}
