/**
 * How many of its calls one process lets into Odoo at once: the budget's bound
 * (ODOO_MAX_CONCURRENT_CALLS), or one call when Odoo serves calls one at a time.
 *
 * Odoo started with `workers = 0` (its default) serves every request in threads of one Python
 * process, which share one interpreter lock: calls sent together all slow down and end together,
 * Odoo spends more CPU switching between them, and then waits while the pages they brought are
 * written. One call at a time, the next sent as the last ends, keeps it busy with less work. A
 * prefork Odoo (`workers` > 0) serves calls in parallel, and one call at a time would leave its
 * workers idle (docs/performance.md, "At a real Odoo's pace").
 *
 * A client cannot ask Odoo which it is, so the process measures it: while at least two of its
 * calls want Odoo at once, it counts the calls that end per second with the bound in force, then
 * with one call in flight; when the bound does not end calls at least PARALLEL_GAIN times as fast,
 * Odoo serves them one at a time and one it is. The measure is made again after HOLD_CALLS calls
 * or HOLD_MS, whichever comes first: the same Odoo can be restarted otherwise. Before each measure
 * the process asks the fleet (fleet-choice.ts): a choice another process measured within HOLD_MS
 * is followed as its own, without a measure, so that a process that starts does not spend its
 * first calls measuring what the fleet knows.
 *
 * Not for: admission itself (call-budget.ts), which holds the fleet to the bound this gives.
 */

/** Calls counted for one measure. */
export const MEASURED_CALLS = 12;
/** How much faster the bound must end calls than one call in flight for Odoo to count as parallel. */
export const PARALLEL_GAIN = 1.3;
/** Calls ended before the choice is measured again. */
export const HOLD_CALLS = 400;
/** Time before the choice is measured again. */
export const HOLD_MS = 10 * 60_000;

/** What a measure found, for the log. */
export interface InFlightChoice {
  /** Calls ended per second with the bound in force, and with one call in flight. */
  readonly boundRate: number;
  readonly oneRate: number;
  /** The bound chosen: the budget's, or 1. */
  readonly limit: number;
}

export interface CallsInFlight {
  /** The bound the next admission is held to. */
  limit(): number;
  /** A call of this process wants Odoo (it waits for admission, then goes in). */
  wanted(nowMs: number): void;
  /** A call that wanted Odoo ended: answered, failed, or given up before admission. */
  ended(nowMs: number, admitted: boolean): void;
  /**
   * True once as each measure is due, before its first call: the caller then reads the fleet's
   * choice and hands it to `fleetChose`.
   */
  askFleet(): boolean;
  /**
   * The fleet's choice: followed as this process's own, without a measure, unless this process
   * made its own meanwhile. Returns whether it was followed.
   */
  fleetChose(choice: InFlightChoice, nowMs: number): boolean;
}

type Phase =
  | { readonly kind: 'bound' | 'one' }
  | { readonly kind: 'hold'; readonly untilMs: number; callsLeft: number };

/**
 * A process's calls in flight for a budget bound of `bound` calls; `onChoice` hears each choice.
 * A bound of 0 (none) or 1 leaves nothing to choose.
 */
export function createCallsInFlight(
  bound: number,
  onChoice: (choice: InFlightChoice) => void,
): CallsInFlight {
  let phase: Phase = { kind: 'bound' };
  /** This process's calls that want Odoo: waiting for admission or in flight. */
  let wanting = 0;
  /** Since the last change of `wanting`. */
  let changedAtMs = 0;
  /** Of the current measure: time with two calls or more wanting, and calls ended within it. */
  let contendedMs = 0;
  let endedCalls = 0;
  let boundRate = 0;
  /** The bound the last measure chose. */
  let chosen = bound;
  /** Whether the fleet was asked for its choice since the current measure was due. */
  let fleetAsked = false;

  const fixed = bound <= 1;

  function measureAgain(): void {
    contendedMs = 0;
    endedCalls = 0;
  }

  function hold(limit: number, nowMs: number): void {
    phase = { kind: 'hold', untilMs: nowMs + HOLD_MS, callsLeft: HOLD_CALLS };
    chosen = limit;
    measureAgain();
  }

  /** Adds the time since the last change to the measure, while two calls or more wanted Odoo. */
  function advance(nowMs: number): void {
    if (wanting >= 2 && phase.kind !== 'hold') contendedMs += Math.max(0, nowMs - changedAtMs);
    changedAtMs = nowMs;
  }

  function measured(nowMs: number): void {
    const rate = (endedCalls * 1_000) / Math.max(contendedMs, 1);
    measureAgain();
    if (phase.kind === 'bound') {
      boundRate = rate;
      phase = { kind: 'one' };
      return;
    }
    const limit = boundRate >= PARALLEL_GAIN * rate ? bound : 1;
    hold(limit, nowMs);
    onChoice({ boundRate, oneRate: rate, limit });
  }

  return {
    limit() {
      if (fixed) return bound;
      if (phase.kind === 'bound') return bound;
      if (phase.kind === 'one') return 1;
      return chosen;
    },
    wanted(nowMs) {
      if (fixed) return;
      advance(nowMs);
      wanting += 1;
    },
    ended(nowMs, admitted) {
      if (fixed) return;
      // A call that ended while another wanted Odoo too counts: Odoo was offered more than one.
      const contended = wanting >= 2;
      advance(nowMs);
      wanting = Math.max(0, wanting - 1);
      if (!admitted) return;
      if (phase.kind === 'hold') {
        phase.callsLeft -= 1;
        if (phase.callsLeft <= 0 || nowMs >= phase.untilMs) {
          phase = { kind: 'bound' };
          fleetAsked = false;
          measureAgain();
        }
        return;
      }
      if (!contended) return;
      endedCalls += 1;
      if (endedCalls >= MEASURED_CALLS) measured(nowMs);
    },
    askFleet() {
      if (fixed || phase.kind === 'hold' || fleetAsked) return false;
      fleetAsked = true;
      return true;
    },
    fleetChose(choice, nowMs) {
      // A choice of this process's own, made while the fleet answered, stands.
      if (fixed || phase.kind === 'hold') return false;
      // Another process's bound may differ: a parallel Odoo gets this process's own.
      hold(choice.limit <= 1 ? 1 : bound, nowMs);
      return true;
    },
  };
}
