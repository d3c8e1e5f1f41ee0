/**
 * Where one Odoo call budget keeps its state, shared by every process that calls that Odoo: the
 * attempts in flight, the attempts released within the last window, the fleet-wide pause and its
 * backoff level. Each step is atomic across processes and reads the store's own clock, so that
 * processes on machines whose clocks differ share one window and one pause. Two stores, one
 * semantics: the queue Redis (redis-budget-store.ts) and PostgreSQL (postgres-budget-store.ts).
 *
 * Not for: waiting, deadlines or logging, which are the budget's (call-budget.ts), the same
 * whichever store.
 */
import { createHash } from 'node:crypto';

/** What made an attempt wait first. */
export type BudgetWaitReason = 'concurrency' | 'rate' | 'pause';

/** A fleet-wide pause of the Odoo calls: the status Odoo answered, and what is left of it. */
export interface CallPause {
  readonly status: number;
  readonly remainingMs: number;
}

/** The bounds an attempt is admitted within; a bound of 0 is no bound. */
export interface AdmissionBounds {
  readonly leaseMs: number;
  readonly maxConcurrentCalls: number;
  readonly maxCallsPerSecond: number;
  readonly windowMs: number;
}

/**
 * Admitted, or held by `reason`: room is made in `waitMs`, or -1 when only a release can make it
 * (a call in flight).
 */
export type Admission =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly waitMs: number; readonly reason: BudgetWaitReason };

/** A pause asked at a release, by Odoo's 429 or 503, and how long it lasts. */
export interface PauseRequest {
  readonly status: number;
  /** Odoo's Retry-After, cut to `retryAfterMaxMs`; without it, the backoff's. */
  readonly retryAfterMs: number | undefined;
  readonly retryAfterMaxMs: number;
  /** The backoff: `baseMs` doubling with each pause within `levelTtlMs` of the last, to `maxMs`. */
  readonly baseMs: number;
  readonly maxMs: number;
  readonly levelTtlMs: number;
}

export interface ReleaseTerms {
  /** Whether the attempt counts against the rate until `windowMs` after its release. */
  readonly countsInWindow: boolean;
  readonly windowMs: number;
  readonly pause?: PauseRequest;
}

export interface BudgetStore {
  acquire(attempt: string, bounds: AdmissionBounds): Promise<Admission>;
  /** Ends `attempt`; returns the pause it set in milliseconds, or 0. */
  release(attempt: string, terms: ReleaseTerms): Promise<number>;
  /** The pause on now, if any. */
  readPause(): Promise<CallPause | null>;
}

/** One budget per Odoo database, whichever processes call it. */
export function budgetIdOf(odoo: { url: string; database: string }): string {
  return createHash('sha256')
    .update([odoo.url, odoo.database].join('\0'))
    .digest('hex')
    .slice(0, 24);
}
