/**
 * `sync_state`: one row per record family (`key` is the family's name). Holds the crash-safe
 * lease, the settled stamps, the last run's outcome and the operators' controls; the watermarks
 * are in `sync_watermark`, one per model.
 *
 * The lease: a run owns the sync while `lease_expires_at` is in the future, and a heartbeat
 * pushes it forward; a dead worker's lease simply runs out. `lease_token` grows by one each time
 * a new owner takes the lease: every write of a run checks it inside its transaction (a fencing
 * token), so a run that lost the lease can never write after the next one started.
 */
import { bigint, boolean, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const syncState = pgTable('sync_state', {
  key: text('key').primaryKey(),
  /**
   * Every copy row whose stamp is at or before this, and equals Odoo's, holds the last version
   * of that stamp: the last successful run read after every transaction of that second had
   * committed, by Odoo's clock (docs/sync.md, "Settled stamps").
   */
  settledThrough: utc('settled_through'),
  /**
   * When the run that set `settled_through` started (this database's clock): a row written after
   * it is not proven by it — a webhook or a resync may have written an older version of a stamp.
   */
  settledAt: utc('settled_at'),
  /**
   * The run that set `settled_through`: a row it wrote itself, after `settled_at`, is proven by
   * it as well, while no one wrote the row since — its audit row (one above
   * `settled_audit_after`, the run's, stamped with the row's `synced_at`) says so.
   */
  settledRunId: bigint('settled_run_id', { mode: 'number' }),
  /** The last audit row committed when that run started: the run's own rows come after it. */
  settledAuditAfter: bigint('settled_audit_after', { mode: 'number' }),
  isSyncing: boolean('is_syncing').notNull().default(false),
  leaseOwner: text('lease_owner'),
  leaseExpiresAt: utc('lease_expires_at'),
  leaseToken: bigint('lease_token', { mode: 'number' }).notNull().default(0),
  /**
   * The queue job of the execution holding the lease: while that job waits on its children, any
   * worker keeps the lease alive for it.
   */
  leaseJobId: text('lease_job_id'),
  /** Set when the run holding the lease must stop every job (refused Odoo credentials). */
  haltCode: text('halt_code'),
  currentRunId: bigint('current_run_id', { mode: 'number' }),
  lastRunAt: utc('last_run_at'),
  lastRunStatus: text('last_run_status'),
  lastSuccessAt: utc('last_success_at'),
  /** Why the last run failed, for a person: `CODE: message`. */
  lastError: text('last_error'),
  /** The code of that failure, as data (`ODOO_NETWORK`): what a program reads. */
  lastErrorCode: text('last_error_code'),
  lastReconcileAt: utc('last_reconcile_at'),
  lastVerifyAt: utc('last_verify_at'),
  /** The slice (`odoo_id % SYNC_VERIFY_CYCLE_DAYS`) the next nightly verify checks. */
  verifySlice: integer('verify_slice').notNull().default(0),
  /**
   * The fields and context the last full verify read with: when they change, the next verify
   * checks every record, not a slice.
   */
  verifySchemaHash: text('verify_schema_hash'),
  /** Scheduled runs and reconciles skip while set; runs asked for by a person still run. */
  pausedAt: utc('paused_at'),
  pausedBy: text('paused_by'),
  updatedAt: utc('updated_at').notNull().defaultNow(),
});

export type SyncStateRow = typeof syncState.$inferSelect;
