/**
 * What a read needs to take a record's large values one at a time (docs/sync.md, "Large values"):
 * the fields this process found holding one, by model (later reads of the model leave them out of
 * their records' reads and read them apart, in reads bounded by bytes), a turn for each value read
 * alone (one at a time in the process, whatever the jobs in flight), the stage its values wait in
 * for their write, and the largest value the copy takes (ODOO_VALUE_MAX_BYTES).
 */
import type { Logger } from '../lib/logger.js';
import type { Db } from '../db/create-db.js';
import { createValueStage, type ValueStage } from './value-stage.js';

/** Runs `work` in its turn: one at a time, whatever the jobs in flight. */
export type OneAtATime = <T>(work: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

/**
 * Turns for the process's values read alone: made once by its composition root, for every
 * source's reads (each value's answer is held until it is staged).
 */
export function createOneAtATime(): OneAtATime {
  let last: Promise<void> = Promise.resolve();
  return async (work, signal) => {
    const before = last;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    // The next waits for this one and for every one before it, even when this one gives up.
    last = before.then(() => mine);
    try {
      await abortable(before, signal);
      return await work();
    } finally {
      done();
    }
  };
}

/** What a process keeps of one source's large values, across its reads. */
export interface LargeValues {
  /** The fields of a model a read of this process found holding a value past a megabyte. */
  foundLarge(model: string): ReadonlySet<string>;
  noteLarge(model: string, field: string): void;
  /** The process's turns (createOneAtATime): a value is read alone in its turn. */
  readonly oneAtATime: OneAtATime;
}

export function createLargeValues(oneAtATime: OneAtATime): LargeValues {
  const found = new Map<string, Set<string>>();
  const none: ReadonlySet<string> = new Set();
  return {
    foundLarge: (model) => found.get(model) ?? none,
    noteLarge(model, field) {
      const fields = found.get(model) ?? new Set<string>();
      fields.add(field);
      found.set(model, fields);
    },
    oneAtATime,
  };
}

/** `promise`, or the signal's reason as soon as it aborts. */
function abortable(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** One read's means to take values alone. */
export interface LargeReads {
  readonly values: LargeValues;
  readonly stage: ValueStage;
  /** ODOO_VALUE_MAX_BYTES: a value whose answer is larger fails its record; none: any value. */
  readonly maxValueBytes: number | undefined;
}

/**
 * `work` with a stage of its own, deleted once `work` is done, whatever it did. A stage that could
 * not be deleted is left to the next stage's sweep (a day later), with a warning.
 */
export async function withLargeReads<T>(
  deps: {
    readonly db: Db;
    readonly logger: Logger;
    readonly largeValues: LargeValues;
    readonly settings: { readonly valueMaxBytes?: number };
  },
  work: (large: LargeReads) => Promise<T>,
): Promise<T> {
  const stage = createValueStage(deps.db);
  try {
    return await work({
      values: deps.largeValues,
      stage,
      maxValueBytes: deps.settings.valueMaxBytes,
    });
  } finally {
    await stage.drop().catch((error: unknown) => {
      deps.logger.warn({ err: error }, 'staged large values left for the next sweep');
    });
  }
}
