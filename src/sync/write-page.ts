/**
 * Writes the changed BCs of one page, in set-based batches (one transaction each). A batch that
 * fails is replayed BC by BC, so one bad BC fails alone; the BCs that still fail are handed back
 * for a job of their own, which retries them with backoff and records them if they never pass.
 */
import type { Db } from '../db/create-db.js';
import type { Logger } from '../lib/logger.js';
import { upsertBcs, type BcPayload, type UpsertOutcome } from './upsert-bc.js';

/** BCs per transaction: a few hundred kB of jsonb, and a short lock on the rows it touches. */
export const WRITE_BATCH_SIZE = 100;

export interface PageWrite {
  readonly outcomes: UpsertOutcome[];
  readonly failed: { odooId: number; error: unknown }[];
}

export async function writePage(
  db: Db,
  items: readonly BcPayload[],
  runId: number,
  logger: Logger,
): Promise<PageWrite> {
  const outcomes: UpsertOutcome[] = [];
  const failed: { odooId: number; error: unknown }[] = [];
  for (let i = 0; i < items.length; i += WRITE_BATCH_SIZE) {
    const batch = items.slice(i, i + WRITE_BATCH_SIZE);
    try {
      outcomes.push(...(await upsertBcs(db, batch, { runId })));
      continue;
    } catch (error) {
      if (batch.length === 1) {
        failed.push({ odooId: batch[0]!.bc.id, error });
        continue;
      }
      logger.warn(
        { runId, err: error, bcs: batch.length },
        'batch write failed; writing its BCs one by one',
      );
    }
    for (const item of batch) {
      try {
        outcomes.push(...(await upsertBcs(db, [item], { runId })));
      } catch (error) {
        failed.push({ odooId: item.bc.id, error });
      }
    }
  }
  return { outcomes, failed };
}
