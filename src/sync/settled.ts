/**
 * Settled stamps: which BCs of a run's scans the copy already holds for good, so the run need not
 * read them again. Without it a BC changed inside the overlap window is re-read by every run until
 * the watermark moves past it — forever, in a quiet Odoo.
 *
 * Equal stamps alone prove nothing: two commits in one second share a stamp, and the second may
 * commit after the copy read the first. But a transaction stamped S commits before S + overlap
 * (the assumption the overlap window already rests on). So once a run has read Odoo after
 * S + overlap by Odoo's clock, a copy row stamped S equal to Odoo's is the last version of S. The
 * run's first step notes Odoo's clock after its scans (the HTTP `Date` of its answers, minus the
 * overlap and a margin for the skew between Odoo's web and database servers); a run in which
 * every BC was written makes it `sync_state.settled_through`; the next runs skip the BCs whose
 * stamps, and their changed lines' stamps, are all at or before it and equal to the copy's, in
 * rows no one wrote since that run started.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';
import { intArray, KEY_LOOKUPS_ONLY, rowsOf } from '../db/sql-rows.js';
import type { ScannedRecord } from './odoo-reads.js';

/** Allowed skew between the clock of Odoo's HTTP answers and the one that stamps `write_date`. */
export const CLOCK_SKEW_MARGIN_SECONDS = 60;

/** What a run reading Odoo from `serverTime` on will prove settled once it succeeds. */
export function settledBy(serverTime: Date | undefined, overlapSeconds: number): Date | null {
  if (!serverTime) return null;
  return new Date(serverTime.getTime() - (overlapSeconds + CLOCK_SKEW_MARGIN_SECONDS) * 1_000);
}

/**
 * Of the scanned BCs, those the copy holds for good: the BC's own stamp (when the BC scan listed
 * it) and the stamps of its lines the line scan listed are all settled and all equal to the
 * copy's, under the same BC, and the BC is not archived in the copy.
 */
export async function provenCurrent(
  db: Db,
  settled: { settledThrough: Date | null; settledAt: Date | null },
  scans: { bcs: readonly ScannedRecord[]; lines: readonly ScannedRecord[] },
): Promise<Set<number>> {
  const { settledThrough, settledAt } = settled;
  if (!settledThrough || !settledAt) return new Set();
  const limitMs = settledThrough.getTime();
  const unsettled = new Set<number>();
  const candidates = new Set<number>();
  for (const record of [...scans.bcs, ...scans.lines]) {
    if (record.writeDate.getTime() > limitMs) unsettled.add(record.bcId);
    else candidates.add(record.bcId);
  }
  for (const bcId of unsettled) candidates.delete(bcId);
  if (candidates.size === 0) return new Set();

  const lines = scans.lines.filter((line) => candidates.has(line.bcId));
  const [storedBcs, storedLines] = await db.transaction(async (tx) => {
    await tx.execute(KEY_LOOKUPS_ONLY);
    // A row written after the settling run started may hold an older version of its stamp
    // (a webhook or a resync that read before that version's commit): not proven.
    const bcs = rowsOf<{ odoo_id: number; odoo_write_date: Date; archived_at: Date | null }>(
      await tx.execute(sql`
        select odoo_id, odoo_write_date, archived_at from scrap_dimagaz_bc
        where odoo_id = any(${intArray([...candidates])}::int[]) and synced_at <= ${settledAt.toISOString()}::timestamptz`),
    );
    const stored = rowsOf<{ odoo_id: number; bc_odoo_id: number; odoo_write_date: Date }>(
      await tx.execute(sql`
        select odoo_id, bc_odoo_id, odoo_write_date from scrap_dimagaz_bc_line
        where odoo_id = any(${intArray(lines.map((line) => line.id))}::int[])
          and synced_at <= ${settledAt.toISOString()}::timestamptz`),
    );
    return [bcs, stored] as const;
  });
  const bcById = new Map(storedBcs.map((row) => [row.odoo_id, row]));
  const lineById = new Map(storedLines.map((row) => [row.odoo_id, row]));
  const same = (stored: Date | undefined, scanned: Date) =>
    stored !== undefined && new Date(stored).getTime() === scanned.getTime();

  const proven = new Set([...candidates].filter((id) => bcById.get(id)?.archived_at === null));
  for (const bc of scans.bcs) {
    if (!same(bcById.get(bc.id)?.odoo_write_date, bc.writeDate)) proven.delete(bc.id);
  }
  for (const line of lines) {
    const stored = lineById.get(line.id);
    if (stored?.bc_odoo_id !== line.bcId || !same(stored.odoo_write_date, line.writeDate))
      proven.delete(line.bcId);
  }
  return proven;
}
