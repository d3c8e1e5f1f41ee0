/**
 * Two writers of the same new records at once — a page run again by another worker while its
 * first execution still writes, a webhook's job beside the page of a first copy — create each
 * record once: one `created` audit row, and so one feed change, per record. The one that commits
 * second finds the other's rows and decides again, as for any stored row.
 */
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { fakeBc, fakeLine, mapBc, writeBcs } from '../helpers/seed-bcs.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

/** The advisory lock the first writer waits on, after its insert and before its commit. */
const PAUSE_LOCK = 4_242;

describe('two writers of the same new records at once', () => {
  let db: TestDb;
  let holder: postgres.Sql;

  beforeAll(async () => {
    db = await createTestDb();
    holder = postgres(db.url, { max: 1, onnotice: () => undefined });
    // A writer that inserts a BC stops there, inside its transaction, while the test holds the
    // lock: its rows exist, uncommitted, when the second writer looks for stored rows.
    await db.db.execute(
      sql.raw(`
        create function pause_after_insert() returns trigger language plpgsql as $$
        begin perform pg_advisory_xact_lock_shared(${PAUSE_LOCK}); return null; end $$;
        create trigger pause_after_insert after insert on scrap_dimagaz_bc
        for each statement execute function pause_after_insert();`),
    );
  });

  afterAll(async () => {
    await holder.end();
    await db.dispose();
  });

  /** Whether a session of this database waits for another transaction (a row being inserted). */
  const waitingForATransaction = async () =>
    rowsOf<{ waiting: number }>(
      await db.db.execute(sql`
        select count(*)::int as waiting from pg_locks
        where locktype = 'transactionid' and not granted`),
    )[0]!.waiting > 0;

  it('creates each BC and line once: one created audit row each, one feed change each', async () => {
    const bcs = [1, 2, 3].map((id) =>
      mapBc({ bc: fakeBc(id), lines: [fakeLine(id, 1), fakeLine(id, 2)] }),
    );
    const [lock] = await holder<{ locked: boolean }[]>`
      select pg_try_advisory_lock(${PAUSE_LOCK}) as locked`;
    expect(lock?.locked).toBe(true);

    const first = writeBcs(db.db, bcs, { runId: null, lease: null });
    // The first writer has inserted its BCs and waits for the lock, inside its transaction.
    await vi.waitFor(
      async () => {
        const [row] = rowsOf<{ waiting: number }>(
          await db.db.execute(sql`
            select count(*)::int as waiting from pg_locks
            where locktype = 'advisory' and objid = ${PAUSE_LOCK} and not granted`),
        );
        expect(row!.waiting).toBe(1);
      },
      { timeout: 30_000, interval: 20 },
    );
    const second = writeBcs(db.db, bcs, { runId: null, lease: null });
    // The second has found no stored BC and waits on the first one's uncommitted rows.
    await vi.waitFor(async () => expect(await waitingForATransaction()).toBe(true), {
      timeout: 30_000,
      interval: 20,
    });
    await holder`select pg_advisory_unlock(${PAUSE_LOCK})`;
    const outcomes = await Promise.all([first, second]);

    expect(outcomes[0].map((o) => o.action)).toEqual(['created', 'created', 'created']);
    expect(outcomes[1].map((o) => o.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    const audit = rowsOf<{ model: string; odoo_id: number; action: string }>(
      await db.db.execute(
        sql`select model, odoo_id, action from sync_audit order by model, odoo_id, id`,
      ),
    );
    expect(audit).toEqual([
      ...[1, 2, 3].map((id) => ({ model: 'dimagaz.bc', odoo_id: id, action: 'created' })),
      ...[11, 12, 21, 22, 31, 32].map((id) => ({
        model: 'dimagaz.bc.line',
        odoo_id: id,
        action: 'created',
      })),
    ]);
    const feed = rowsOf<{ changes: number }>(
      await db.db.execute(sql`select count(*)::int as changes from sync_feed`),
    );
    expect(feed[0]!.changes).toBe(9);
  });
});
