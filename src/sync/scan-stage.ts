/**
 * The stage (`sync_scan`) that runs and reconciles put what they read from Odoo in, so that their
 * comparison with the copy runs in SQL and their memory stays bounded: which execution owns which
 * rows, and when rows go.
 *
 * An execution is a run (its log row) and the lease token it took: a second execution of the same
 * job has a token of its own, and never reads or deletes the first one's rows.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/create-db.js';

export interface StageRef {
  readonly runId: number;
  readonly token: number;
}

/** Deletes what one execution staged. */
export async function clearStage(db: Db, ref: StageRef): Promise<void> {
  await db.execute(sql`delete from sync_scan where run_id = ${ref.runId} and token = ${ref.token}`);
}

/**
 * Deletes what executions of runs that have ended left behind (a worker killed mid-step, an
 * execution that was superseded): a run's rows go once its log row is closed.
 */
export async function clearEndedStages(db: Db): Promise<void> {
  await db.execute(sql`
    delete from sync_scan s where not exists (
      select 1 from sync_log l where l.id = s.run_id and l.status = 'running')`);
}
