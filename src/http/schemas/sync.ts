/** Shapes of the sync control answers. */
import { z } from 'zod';
import type { SyncFailureRow, SyncLogRow, SyncWebhookInboxRow } from '../../db/schema/index.js';
import { splitFamilyKey } from '../../sources/family-key.js';
import { countsOf, runCountsSchema, runErrorSchema } from '../../sync/run-counts.js';
import { runProgress } from '../../sync/run-log.js';
import type { FamilyState } from '../sync-control.js';

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

const familyKey = z
  .string()
  .describe(
    "the record family's key: its name (bcs) for the default source's, acme.bcs for source acme's",
  );
const sourceName = z
  .string()
  .describe(
    'the source the family is copied from: default (the Odoo of ODOO_*), or a name of SYNC_SOURCES_FILE',
  );

export const syncStateSchema = z
  .object({
    family: familyKey,
    source: sourceName,
    name: z.string().describe("the family's own name, within its source (bcs)"),
    models: z.array(z.string()).describe('its Odoo models, the root first'),
    available: z
      .boolean()
      .describe('false while the family waits for migrate: its jobs fail, the others run'),
    unavailableReason: z
      .string()
      .nullable()
      .describe('why it is not available and what to run (FAMILY_NOT_MIGRATED)'),
    watermarks: z
      .record(z.string(), z.string())
      .describe("each model's largest Odoo write_date copied; a model without one is read whole"),
    isSyncing: z.boolean(),
    leaseOwner: z.string().nullable(),
    leaseExpiresAt: z.string().nullable(),
    currentRunId: z.number().int().nullable(),
    lastRunAt: z.string().nullable(),
    lastRunStatus: z.string().nullable(),
    lastSuccessAt: z.string().nullable(),
    lastError: z.string().nullable(),
    lastReconcileAt: z.string().nullable(),
    lastVerifyAt: z.string().nullable(),
    paused: z.boolean().describe('scheduled runs and reconciles skip while paused'),
    pausedAt: z.string().nullable(),
    pausedBy: z.string().nullable(),
    pausedQueues: z
      .array(z.string())
      .nullable()
      .describe(
        "the queues of the family's source paused in BullMQ (bull-board's pause, not the schedule's): their jobs wait, and none is taken, until resumed; null when the queues did not answer",
      ),
  })
  .describe('SyncState');

export const syncStatesSchema = z.object({ families: z.array(syncStateSchema) });

export const syncRunSchema = z
  .object({
    id: z.number().int(),
    family: familyKey,
    source: sourceName,
    kind: z.string(),
    trigger: z.string(),
    status: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    windowFrom: z.string().nullable(),
    windowTo: z.string().nullable(),
    counts: runCountsSchema.extend({
      futureStamped: runCountsSchema.shape.futureStamped.describe(
        "Records stamped later than Odoo's clock: read, never a watermark",
      ),
    }),
    driftFields: z
      .record(z.string(), z.record(z.string(), z.number().int()))
      .describe(
        'a verify: for each model, how many records differed from Odoo in each field (children and links: "(missing)", "(gone)", "links.<field>")',
      ),
    errors: z.array(runErrorSchema),
    progress: z
      .object({
        pagesDone: z
          .number()
          .int()
          .describe('pages that have settled (their records written), each as it settles'),
        pages: z.number().int().describe("the run's pages"),
      })
      .nullable()
      .describe(
        'where a running sync run stands (a run of more than one wave of pages); null once it ended, and for a reconcile or a verify',
      ),
  })
  .describe('SyncRun');

export const syncFailureSchema = z
  .object({
    family: familyKey,
    source: sourceName,
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

export const heldWebhookSchema = z
  .object({
    id: z.number().int().describe("the event's place in the inbox (the cursor of its pages)"),
    family: familyKey,
    source: sourceName,
    model: z.string(),
    recordId: z.number().int(),
    rootId: z.number().int().nullable().describe('null when the rule sent no link to the root'),
    writeDate: z
      .string()
      .nullable()
      .describe('the stamp the rule sent, as Odoo wrote it; null when it sent none'),
    deleted: z.boolean(),
    receivedAt: z.string(),
    requeues: z.number().int().describe('how often a worker queued its read again'),
    unseenReads: z
      .number()
      .int()
      .describe('reads that ran and did not show it; at 5 it is settled unseen when due'),
    dueAt: z.string().describe('when a worker queues its read again if none has shown it'),
  })
  .describe('HeldWebhook');

export function toStateBody(input: FamilyState): z.infer<typeof syncStateSchema> {
  const { state: row, watermarks } = input;
  const { source, family: name } = splitFamilyKey(input.family);
  return {
    family: input.family,
    source,
    name,
    models: [...input.models],
    available: input.unavailableReason === null,
    unavailableReason: input.unavailableReason,
    watermarks: Object.fromEntries(
      Object.entries(watermarks).map(([model, date]) => [model, date.toISOString()]),
    ),
    isSyncing: row?.isSyncing ?? false,
    leaseOwner: row?.leaseOwner ?? null,
    leaseExpiresAt: iso(row?.leaseExpiresAt),
    currentRunId: row?.currentRunId ?? null,
    lastRunAt: iso(row?.lastRunAt),
    lastRunStatus: row?.lastRunStatus ?? null,
    lastSuccessAt: iso(row?.lastSuccessAt),
    lastError: row?.lastError ?? null,
    lastReconcileAt: iso(row?.lastReconcileAt),
    lastVerifyAt: iso(row?.lastVerifyAt),
    paused: Boolean(row?.pausedAt),
    pausedAt: iso(row?.pausedAt),
    pausedBy: row?.pausedBy ?? null,
    pausedQueues: input.pausedQueues && [...input.pausedQueues],
  };
}

export function toRunBody(row: SyncLogRow): z.infer<typeof syncRunSchema> {
  return {
    id: row.id,
    family: row.family,
    source: splitFamilyKey(row.family).source,
    kind: row.kind,
    trigger: row.trigger,
    status: row.status,
    startedAt: row.startedAt.toISOString(),
    finishedAt: iso(row.finishedAt),
    windowFrom: iso(row.windowFrom),
    windowTo: iso(row.windowTo),
    counts: countsOf(row),
    driftFields: row.driftFields,
    errors: row.errors,
    progress: runProgress(row),
  };
}

export function toFailureBody(row: SyncFailureRow): z.infer<typeof syncFailureSchema> {
  return {
    family: row.family,
    source: splitFamilyKey(row.family).source,
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

export function toHeldWebhookBody(row: SyncWebhookInboxRow): z.infer<typeof heldWebhookSchema> {
  return {
    id: row.id,
    family: row.family,
    source: splitFamilyKey(row.family).source,
    model: row.model,
    recordId: row.recordId,
    rootId: row.rootId,
    writeDate: row.writeDate,
    deleted: row.deleted,
    receivedAt: row.receivedAt.toISOString(),
    requeues: row.requeues,
    unseenReads: row.unseenReads,
    dueAt: row.dueAt.toISOString(),
  };
}
