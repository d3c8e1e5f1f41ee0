/** Shapes of the sync control answers. */
import { z } from 'zod';
import type { SyncFailureRow, SyncLogRow, SyncStateRow } from '../../db/schema/index.js';

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

export const syncStateSchema = z
  .object({
    watermark: z.string().nullable().describe('largest Odoo write_date copied'),
    lineWatermark: z.string().nullable(),
    isSyncing: z.boolean(),
    leaseOwner: z.string().nullable(),
    leaseExpiresAt: z.string().nullable(),
    currentRunId: z.number().int().nullable(),
    lastRunAt: z.string().nullable(),
    lastRunStatus: z.string().nullable(),
    lastSuccessAt: z.string().nullable(),
    lastError: z.string().nullable(),
    lastReconcileAt: z.string().nullable(),
    paused: z.boolean().describe('scheduled runs and reconciles skip while paused'),
    pausedAt: z.string().nullable(),
    pausedBy: z.string().nullable(),
  })
  .describe('SyncState');

export const syncRunSchema = z
  .object({
    id: z.number().int(),
    kind: z.string(),
    trigger: z.string(),
    status: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    windowFrom: z.string().nullable(),
    windowTo: z.string().nullable(),
    counts: z.object({
      pages: z.number().int(),
      bcsSeen: z.number().int(),
      created: z.number().int(),
      updated: z.number().int(),
      unchanged: z.number().int(),
      archived: z.number().int(),
      restored: z.number().int(),
      linesDeleted: z.number().int(),
      failed: z.number().int(),
      futureStamped: z
        .number()
        .int()
        .describe("Records stamped later than Odoo's clock: read, never a watermark"),
      odooCalls: z.number().int(),
    }),
    errors: z.array(
      z.object({ odooId: z.number().int().optional(), code: z.string(), message: z.string() }),
    ),
  })
  .describe('SyncRun');

export const syncFailureSchema = z
  .object({
    odooId: z.number().int(),
    errorCode: z.string(),
    error: z.string(),
    attempts: z.number().int(),
    lastRunId: z.number().int().nullable(),
    lastJobId: z.string().nullable(),
    firstFailedAt: z.string(),
    lastFailedAt: z.string(),
  })
  .describe('SyncFailure');

export function toStateBody(row: SyncStateRow | undefined): z.infer<typeof syncStateSchema> {
  return {
    watermark: iso(row?.watermark),
    lineWatermark: iso(row?.lineWatermark),
    isSyncing: row?.isSyncing ?? false,
    leaseOwner: row?.leaseOwner ?? null,
    leaseExpiresAt: iso(row?.leaseExpiresAt),
    currentRunId: row?.currentRunId ?? null,
    lastRunAt: iso(row?.lastRunAt),
    lastRunStatus: row?.lastRunStatus ?? null,
    lastSuccessAt: iso(row?.lastSuccessAt),
    lastError: row?.lastError ?? null,
    lastReconcileAt: iso(row?.lastReconcileAt),
    paused: Boolean(row?.pausedAt),
    pausedAt: iso(row?.pausedAt),
    pausedBy: row?.pausedBy ?? null,
  };
}

export function toRunBody(row: SyncLogRow): z.infer<typeof syncRunSchema> {
  return {
    id: row.id,
    kind: row.kind,
    trigger: row.trigger,
    status: row.status,
    startedAt: row.startedAt.toISOString(),
    finishedAt: iso(row.finishedAt),
    windowFrom: iso(row.windowFrom),
    windowTo: iso(row.windowTo),
    counts: {
      pages: row.pages,
      bcsSeen: row.bcsSeen,
      created: row.created,
      updated: row.updated,
      unchanged: row.unchanged,
      archived: row.archived,
      restored: row.restored,
      linesDeleted: row.linesDeleted,
      failed: row.failed,
      futureStamped: row.futureStamped,
      odooCalls: row.odooCalls,
    },
    errors: row.errors,
  };
}

export function toFailureBody(row: SyncFailureRow): z.infer<typeof syncFailureSchema> {
  return {
    odooId: row.odooId,
    errorCode: row.errorCode,
    error: row.error,
    attempts: row.attempts,
    lastRunId: row.lastRunId,
    lastJobId: row.lastJobId,
    firstFailedAt: row.firstFailedAt.toISOString(),
    lastFailedAt: row.lastFailedAt.toISOString(),
  };
}
