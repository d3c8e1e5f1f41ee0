/**
 * The fleet's choice of calls in flight for one Odoo database (calls-in-flight.ts): the last
 * measure any process made, kept HOLD_MS in the fleet's shared values (the queue Redis, or
 * PostgreSQL without it), so that a process that starts meanwhile — a worker scaled up or
 * restarted, the sync CLI — follows it instead of spending its first calls on a measure of its own,
 * and the processes of a fleet hold their calls to one bound.
 *
 * Not for: measuring or admission (calls-in-flight.ts, call-budget.ts).
 */
import { createSharedValues } from '../stores/shared-values.js';
import type { SharedState } from '../stores/shared-state.js';
import { budgetIdOf } from './budget-store.js';
import { HOLD_MS, type InFlightChoice } from './calls-in-flight.js';

export interface FleetChoice {
  /** The choice a process of the fleet measured within the last HOLD_MS, if any. */
  read(): Promise<InFlightChoice | undefined>;
  /** Keeps this process's measure for the fleet, HOLD_MS from now. */
  keep(choice: InFlightChoice): Promise<void>;
}

export function createFleetChoice(
  shared: SharedState,
  odoo: { url: string; database: string },
): FleetChoice {
  const values = createSharedValues(shared);
  const key = `odoo-budget:${budgetIdOf(odoo)}:calls-in-flight`;
  return {
    async read() {
      const text = await values.get(key);
      return text === undefined ? undefined : choiceOf(text);
    },
    async keep(choice) {
      await values.set(key, JSON.stringify(choice), HOLD_MS);
    },
  };
}

/** A kept choice, or undefined for a value no version of this module wrote. */
function choiceOf(text: string): InFlightChoice | undefined {
  try {
    const { limit, boundRate, oneRate } = JSON.parse(text) as Record<string, unknown>;
    const rate = (value: unknown) => typeof value === 'number' && value >= 0;
    if (!Number.isInteger(limit) || (limit as number) < 1 || !rate(boundRate) || !rate(oneRate))
      return undefined;
    return { limit: limit as number, boundRate: boundRate as number, oneRate: oneRate as number };
  } catch {
    return undefined;
  }
}
