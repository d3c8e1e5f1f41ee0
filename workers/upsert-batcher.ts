/**
 * Gathers the BC upserts of concurrently running `upsert-bc` jobs into set-based batches: one
 * transaction of a few statements for dozens of BCs instead of one per BC, which is what lets a
 * sync keep up with Odoo. Each job still gets its own outcome. A batch that fails is replayed
 * BC by BC, so the error lands on the job whose BC caused it and the others succeed.
 *
 * At most `maxInFlight` batches run at once; what arrives meanwhile waits and goes out as the
 * next batch, so batches grow with the load and an idle worker writes at once.
 */
import type { BcPayload, UpsertOutcome } from '../src/sync/upsert-bc.js';

export interface UpsertBatcherOptions {
  /** Writes distinct BCs of one run in one transaction. */
  writeBatch(payloads: BcPayload[], runId: number): Promise<UpsertOutcome[]>;
  maxBatch: number;
  maxInFlight: number;
}

interface Pending {
  payload: BcPayload;
  runId: number;
  resolve(outcome: UpsertOutcome): void;
  reject(error: unknown): void;
}

export interface UpsertBatcher {
  upsert(payload: BcPayload, runId: number): Promise<UpsertOutcome>;
}

export function createUpsertBatcher(options: UpsertBatcherOptions): UpsertBatcher {
  const waiting: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;

  /** The next batch: one run, each BC once (a second version of a BC waits for the next batch). */
  function take(): Pending[] {
    const runId = waiting[0]!.runId;
    const seen = new Set<number>();
    const batch: Pending[] = [];
    for (let i = 0; i < waiting.length && batch.length < options.maxBatch;) {
      const item = waiting[i]!;
      if (item.runId === runId && !seen.has(item.payload.bc.id)) {
        seen.add(item.payload.bc.id);
        batch.push(item);
        waiting.splice(i, 1);
      } else {
        i += 1;
      }
    }
    return batch;
  }

  async function write(batch: Pending[]): Promise<void> {
    try {
      const outcomes = await options.writeBatch(
        batch.map((item) => item.payload),
        batch[0]!.runId,
      );
      batch.forEach((item, i) => item.resolve(outcomes[i]!));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      for (const item of batch) {
        try {
          const [outcome] = await options.writeBatch([item.payload], item.runId);
          item.resolve(outcome!);
        } catch (itemError) {
          item.reject(itemError);
        }
      }
    }
  }

  function pump(): void {
    scheduled = false;
    while (inFlight < options.maxInFlight && waiting.length > 0) {
      const batch = take();
      inFlight += 1;
      void write(batch).finally(() => {
        inFlight -= 1;
        if (waiting.length > 0) schedule();
      });
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    // One turn of the event loop lets the jobs that arrived together join the same batch.
    setImmediate(pump);
  }

  return {
    upsert(payload, runId) {
      return new Promise<UpsertOutcome>((resolve, reject) => {
        waiting.push({ payload, runId, resolve, reject });
        schedule();
      });
    },
  };
}
