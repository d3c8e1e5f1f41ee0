/**
 * One budget of Odoo calls for the whole fleet — every worker, sync CLI and demo process that
 * shares its state (the queue Redis, or PostgreSQL without it: src/shared-state) — given to the
 * Odoo client as its gate: the client awaits it before each attempt of each call and releases it
 * once the attempt ended.
 *
 * - At most `maxConcurrentCalls` attempts in flight at once (ODOO_MAX_CONCURRENT_CALLS): each
 *   holds one of Odoo's HTTP workers. With `followOdoo` (ODOO_ADAPTIVE_CONCURRENCY), a process
 *   whose measures show Odoo serving calls one at a time holds the fleet to one
 *   (calls-in-flight.ts), and keeps its measure for the fleet, which the processes that start
 *   meanwhile follow (fleet-choice.ts).
 * - At most `maxCallsPerSecond` calls within any one second (ODOO_MAX_CALLS_PER_SECOND), as Odoo
 *   sees them arrive (budget-scripts.ts says how; the PostgreSQL store does the same).
 * - A 429 or a 503 pauses every process: for the answer's `Retry-After` (at most five minutes),
 *   else 1 s doubling with each pause that follows another within a minute, at most a minute.
 *   The attempt that met it is retried as any transient failure is, after the pause.
 *
 * A slot is leased: an attempt of a process that died (or froze) is dropped once its lease runs
 * out — the attempt's own timeout and a grace, since the client gives up on an attempt at its
 * timeout and releases it then.
 *
 * Waiting honours the call's abort signal and ends at a deadline (ODOO_BUDGET_MAX_WAIT_MS): the
 * attempt then fails with `ODOO_BUDGET_TIMEOUT`, retryable by the job, so that no caller waits
 * for the budget without end (a fleet stuck behind slots that are never released, a pause
 * renewed again and again). The attempt's timeout starts once it is admitted. A process waits
 * by asking the store again when a release of its own may have made room, after the time the
 * store said room would be made, or every few tens of milliseconds when only another process's
 * release can.
 *
 * Not for: anything but admission. It knows nothing of Odoo's protocol but an error's status and
 * `Retry-After`, nor of where the state lives but its store (budget-store.ts).
 */
import { randomBytes } from 'node:crypto';
import { OdooError, type OdooCallGate, type OdooCallPermit } from '../clients/odoo/index.js';
import { defaultOdooBudget, type OdooConfig } from '../config/odoo-config.js';
import type { Logger } from '../lib/logger.js';
import { onSharedState, type SharedState } from '../stores/shared-state.js';
import type { BudgetStore, BudgetWaitReason, CallPause } from './budget-store.js';
import { createCallsInFlight, type InFlightChoice } from './calls-in-flight.js';
import { createFleetChoice } from './fleet-choice.js';
import { createPostgresBudgetStore } from './postgres-budget-store.js';
import { createRedisBudgetStore } from './redis-budget-store.js';

export type { BudgetWaitReason, CallPause } from './budget-store.js';

/** Sees the budget at work, for metrics; it must not throw. */
export interface CallBudgetObserver {
  /** An attempt waited `waitedMs` before it was admitted; `reason` held it first. */
  waited(reason: BudgetWaitReason, waitedMs: number): void;
  /** This process met `status` (429 or 503) and paused every process for `pauseMs`. */
  paused(status: number, pauseMs: number): void;
  /** With `followOdoo`: the bound this process now holds its calls to, its own or the fleet's. */
  chose?(limit: number): void;
}

export interface CallBudgetSettings {
  /** Attempts in flight at once across the fleet; 0: no bound. */
  readonly maxConcurrentCalls: number;
  /** Calls within any one second across the fleet; 0: no bound. */
  readonly maxCallsPerSecond: number;
  /** How long an admitted attempt holds its slot unreleased before the slot is taken back. */
  readonly leaseMs: number;
  /** The longest an attempt waits for its admission (default: ODOO_BUDGET_MAX_WAIT_MS's). */
  readonly maxWaitMs?: number;
  /** Whether to bound this process's attempts to one when Odoo serves them one at a time. */
  readonly followOdoo?: boolean;
}

/** Beyond an attempt's timeout: the release of an attempt that timed out is on its way. */
const LEASE_GRACE_MS = 5_000;
const WINDOW_MS = 1_000;
/** Between two asks while only another process's release can make room; jittered ±50 %. */
const POLL_MS = 20;
const PAUSE_BASE_MS = 1_000;
const PAUSE_MAX_MS = 60_000;
/** A Retry-After beyond this is cut to it: the attempt after it meets Odoo's answer again. */
const RETRY_AFTER_MAX_MS = 300_000;
/** A pause within this of the end of the last one doubles it. */
const PAUSE_LEVEL_TTL_MS = 60_000;
/** Statuses by which Odoo, or the proxy in front of it, asks its clients to slow down. */
const PAUSING_STATUSES = new Set([429, 503]);

/** The lease of an attempt whose timeout is `timeoutMs`. */
export function leaseMsFor(timeoutMs: number): number {
  return timeoutMs + LEASE_GRACE_MS;
}

/**
 * The budget as every composition root builds it from the configuration: ODOO_MAX_* keys, the
 * lease from ODOO_TIMEOUT_MS, one budget per Odoo database in the fleet's shared state.
 */
export function createConfiguredCallBudget(input: {
  shared: SharedState;
  odoo: OdooConfig;
  logger: Logger;
  observer?: CallBudgetObserver;
}): OdooCallGate {
  return createCallBudget({
    shared: input.shared,
    odoo: input.odoo,
    settings: {
      maxConcurrentCalls: input.odoo.budget.maxConcurrentCalls,
      maxCallsPerSecond: input.odoo.budget.maxCallsPerSecond,
      maxWaitMs: input.odoo.budget.maxWaitMs,
      followOdoo: input.odoo.budget.followOdoo,
      leaseMs: leaseMsFor(input.odoo.timeoutMs),
    },
    logger: input.logger,
    ...(input.observer ? { observer: input.observer } : {}),
  });
}

/** The store of the budget of `odoo`, where the fleet's state lives. */
function budgetStoreOf(shared: SharedState, odoo: { url: string; database: string }): BudgetStore {
  return onSharedState(shared, {
    redis: ({ redis, prefix }) => createRedisBudgetStore({ redis, keyPrefix: prefix, odoo }),
    postgres: ({ db }) => createPostgresBudgetStore({ db, odoo }),
  });
}

/** The pause on now, if any, for `status` and the API's sync state. */
export function readCallPause(
  shared: SharedState,
  odoo: { url: string; database: string },
): Promise<CallPause | null> {
  return budgetStoreOf(shared, odoo).readPause();
}

export function createCallBudget(input: {
  shared: SharedState;
  /** One budget per Odoo database, whichever processes call it. */
  odoo: { url: string; database: string };
  settings: CallBudgetSettings;
  logger: Logger;
  observer?: CallBudgetObserver;
}): OdooCallGate {
  const { settings, observer } = input;
  const store = budgetStoreOf(input.shared, input.odoo);
  const maxWaitMs = settings.maxWaitMs ?? defaultOdooBudget().maxWaitMs;
  const log = input.logger.child({ component: 'odoo-budget' });
  const bounded = settings.maxConcurrentCalls > 0 || settings.maxCallsPerSecond > 0;
  const processTag = randomBytes(6).toString('hex');
  let nextPermit = 0;
  /** Waiters of this process that a release of its own may let in. */
  const waiters = new Set<() => void>();
  let lastChoice: number | undefined;
  const fleet = settings.followOdoo ? createFleetChoice(input.shared, input.odoo) : undefined;
  /** Logs a choice, at info when it changes what this process sends (`inFlight.limit()` now). */
  function logChoice(choice: InFlightChoice, measuredBy: 'this process' | 'the fleet'): void {
    const limit = inFlight!.limit();
    observer?.chose?.(limit);
    const changed = limit !== lastChoice;
    lastChoice = limit;
    log[changed ? 'info' : 'debug'](
      { ...choice, bound: settings.maxConcurrentCalls, measuredBy },
      choiceText(choice, limit, measuredBy),
    );
  }
  const inFlight = fleet
    ? createCallsInFlight(settings.maxConcurrentCalls, (choice) => {
        logChoice(choice, 'this process');
        fleet.keep(choice).catch((error: unknown) => {
          log.warn({ err: error }, 'could not keep this measure of calls in flight for the fleet');
        });
      })
    : undefined;
  /** The fleet's answer while it is awaited: every admission waits for it. */
  let askingFleet: Promise<void> | undefined;
  function askFleet(): Promise<void> | undefined {
    if (!inFlight?.askFleet()) return askingFleet;
    askingFleet = fleet!
      .read()
      .then(
        (choice) => {
          if (choice && inFlight.fleetChose(choice, performance.now()))
            logChoice(choice, 'the fleet');
        },
        (error: unknown) => {
          log.warn(
            { err: error },
            "could not read the fleet's calls in flight; this process measures",
          );
        },
      )
      .finally(() => {
        askingFleet = undefined;
      });
    return askingFleet;
  }
  let lastReleaseWarningMs = 0;

  function wakeWaiters(): void {
    for (const wake of [...waiters]) wake();
  }

  /** Resolves after `ms`, or at a release of this process when `onRelease`; rejects on abort. */
  function waitTurn(ms: number, onRelease: boolean, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        reject(signal?.reason as Error);
      };
      const timer = setTimeout(done, ms);
      if (onRelease) waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** How long to wait before asking again, from what the store answered. */
  function waitMsFor(reason: BudgetWaitReason, hintMs: number): number {
    if (hintMs < 0) return Math.round(POLL_MS * (0.5 + Math.random()));
    // Waiters of every process wake at a pause's end: spread them over a tenth of it (≤ 1 s).
    if (reason === 'pause')
      return hintMs + Math.round(Math.random() * Math.min(hintMs / 10, 1_000));
    return hintMs;
  }

  async function release(id: string, call: string, failure: OdooError | undefined): Promise<void> {
    const status = failure?.httpStatus;
    const pausing = status !== undefined && PAUSING_STATUSES.has(status);
    try {
      if (!bounded && !pausing) return;
      const pauseMs = await store.release(id, {
        countsInWindow: settings.maxCallsPerSecond > 0,
        windowMs: WINDOW_MS,
        ...(pausing
          ? {
              pause: {
                status,
                retryAfterMs: failure?.retryAfterMs,
                retryAfterMaxMs: RETRY_AFTER_MAX_MS,
                baseMs: PAUSE_BASE_MS,
                maxMs: PAUSE_MAX_MS,
                levelTtlMs: PAUSE_LEVEL_TTL_MS,
              },
            }
          : {}),
      });
      if (pausing && pauseMs > 0) {
        observer?.paused(status, pauseMs);
        log.warn(
          {
            call,
            status,
            pauseMs,
            ...(failure?.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
          },
          `Odoo answered ${status}: every process pauses its Odoo calls for ${pauseMs} ms`,
        );
      }
    } catch (error) {
      // The slot's lease runs out instead; one line every few seconds while the store is away.
      const now = Date.now();
      if (now - lastReleaseWarningMs > 5_000) {
        lastReleaseWarningMs = now;
        log.warn({ err: error, call }, 'could not release an Odoo call slot; its lease frees it');
      }
    } finally {
      wakeWaiters();
    }
  }

  return {
    async admit(call, signal) {
      const asking = askFleet();
      if (asking) await asking;
      const id = `${processTag}:${nextPermit++}`;
      let heldBy: BudgetWaitReason | undefined;
      const startedMs = performance.now();
      const deadlineMs = startedMs + maxWaitMs;
      inFlight?.wanted(startedMs);
      try {
        for (;;) {
          signal?.throwIfAborted();
          const leftMs = deadlineMs - performance.now();
          if (leftMs <= 0) {
            if (heldBy !== undefined) observer?.waited(heldBy, performance.now() - startedMs);
            throw new OdooError(
              'ODOO_BUDGET_TIMEOUT',
              `${call} waited ${maxWaitMs} ms for the call budget (held by ${heldBy ?? 'concurrency'}) ` +
                'and gave up: ODOO_BUDGET_MAX_WAIT_MS',
              { retryable: true },
            );
          }
          const answer = await store.acquire(id, {
            leaseMs: settings.leaseMs,
            maxConcurrentCalls: inFlight?.limit() ?? settings.maxConcurrentCalls,
            maxCallsPerSecond: settings.maxCallsPerSecond,
            windowMs: WINDOW_MS,
          });
          if (answer.admitted) break;
          const { reason } = answer;
          heldBy ??= reason;
          await waitTurn(
            Math.min(waitMsFor(reason, answer.waitMs), Math.ceil(leftMs)),
            reason !== 'pause',
            signal,
          );
        }
      } catch (error) {
        inFlight?.ended(performance.now(), false);
        throw error;
      }
      if (heldBy !== undefined) observer?.waited(heldBy, performance.now() - startedMs);
      let released = false;
      const permit: OdooCallPermit = {
        release(failure) {
          if (released) return Promise.resolve();
          released = true;
          inFlight?.ended(performance.now(), true);
          return release(id, call, failure);
        },
      };
      return permit;
    },
  };
}

/** The log line of a choice of calls in flight. */
function choiceText(
  choice: InFlightChoice,
  limit: number,
  measuredBy: 'this process' | 'the fleet',
): string {
  const rates = `${choice.boundRate.toFixed(1)} calls/s with the bound, ${choice.oneRate.toFixed(1)} with one, ${measuredBy === 'the fleet' ? "the fleet's last measure" : "this process's measure"}`;
  return limit === 1
    ? `Odoo serves calls one at a time (${rates}): this process sends them one at a time`
    : `Odoo serves calls in parallel (${rates}): this process sends up to ${limit} at once`;
}
