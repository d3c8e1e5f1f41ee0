/**
 * The feed gives a change once no transaction older than it still runs anywhere in the
 * PostgreSQL cluster (docs/feed.md, "Positions"): another test file's open transaction on the same
 * server holds it back for a moment. Tests that read what they just wrote wait for that first.
 */
import { sql } from 'drizzle-orm';
import { vi } from 'vitest';
import type { Db } from '../../src/db/create-db.js';
import { rowsOf } from '../../src/db/sql-rows.js';

/** Resolves once every change written so far is below the cluster's xmin: readable by the feed. */
export async function feedCaughtUp(db: Db): Promise<void> {
  await vi.waitFor(
    async () => {
      const [row] = rowsOf<{ held: boolean }>(
        await db.execute(
          sql`select exists (select 1 from sync_feed
                where xid >= pg_snapshot_xmin(pg_current_snapshot())) as held`,
        ),
      );
      if (row?.held !== false) throw new Error('changes still held back behind a transaction');
    },
    { timeout: 30_000, interval: 10 },
  );
}

/** A transaction that writes, then waits until `commit()`: its id is taken, its changes unseen. */
export function openWriter(db: Db, write: (tx: Db) => Promise<unknown>) {
  let commit!: () => void;
  const released = new Promise<void>((resolve) => (commit = resolve));
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => (wrote = resolve));
  const done = db.transaction(async (tx) => {
    await write(tx);
    wrote();
    await released;
  });
  return { written, commit: async () => (commit(), await done) };
}
