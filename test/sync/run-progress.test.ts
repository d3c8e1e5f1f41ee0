/**
 * A running run's progress in the run log: each page counts itself as it settles, never past the
 * run's pages (a page's job may run again and settle twice), each wave's exact count replaces the
 * pages' own, and a run that ended keeps what it ended with.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncLog } from '../../src/db/schema/index.js';
import {
  closeRun,
  noteRunPlan,
  notePageSettled,
  noteRunProgress,
  openRun,
} from '../../src/sync/run-log.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe("a running run's progress", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.dispose();
  });

  const pagesDone = async (runId: number) =>
    (await db.db.select().from(syncLog).where(eq(syncLog.id, runId)))[0]!.pagesDone;

  it('moves a page at a time, never past its pages, and stops with the run', async () => {
    const run = await openRun(db.db, {
      family: 'bcs',
      kind: 'sync',
      trigger: 'test',
      leaseOwner: 'progress-test',
    });
    await noteRunPlan(db.db, run.id, { windowFrom: null, counts: { pages: 3 } });

    await notePageSettled(db.db, run.id);
    await notePageSettled(db.db, run.id);
    expect(await pagesDone(run.id)).toBe(2);
    // A page settled twice, then the last one: three of three, not four.
    await notePageSettled(db.db, run.id);
    await notePageSettled(db.db, run.id);
    expect(await pagesDone(run.id)).toBe(3);
    // A wave's count is exact: it replaces what the pages counted.
    await noteRunProgress(db.db, run.id, 2);
    expect(await pagesDone(run.id)).toBe(2);

    await closeRun(db.db, run.id, { status: 'succeeded' });
    await notePageSettled(db.db, run.id);
    expect(await pagesDone(run.id)).toBe(2);
  });
});
