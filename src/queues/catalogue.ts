/**
 * The one job catalogue: every job's name, queue, payload schema, attempts, backoff, retention
 * and id. Producers and the worker import it; a job added here without a handler does not
 * compile (see workers/handlers.ts). No secret ever goes into job data: jobs carry ids, field
 * names, counts and the run's lease, and the worker holds the credentials. Job data and return
 * values stay small whatever the number of BCs or failures: a page carries its own ids only, a
 * report its counts and its first errors.
 */
import { createHash } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import type { SyncSchema } from '../sync/odoo-reads.js';
import { MAX_REPORTED_ERRORS } from '../sync/run-counts.js';

/**
 * Webhook work has a queue of its own: a mass edit in Odoo (thousands of events) must never queue
 * ahead of a run's own BC jobs.
 */
export const QUEUE_NAMES = ['sync', 'sync-page', 'sync-bc', 'sync-webhook'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export function isQueueName(name: string): name is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(name);
}

/** A failure as it crosses the job boundary: data, never text to parse. */
export const jobFailure = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
});
export type JobFailure = z.infer<typeof jobFailure>;

const trigger = z.string().min(1).max(64);
const id = z.number().int().positive();

/** A run as its jobs carry it: its log row and its lease. */
export const runRef = z.object({
  runId: z.number().int(),
  lease: z.object({ key: z.string(), owner: z.string(), token: z.number().int() }),
});

const schema = z.object({
  fields: z.object({ bc: z.array(z.string()), line: z.array(z.string()) }),
  context: z.record(z.string(), z.unknown()),
});

const count = z.number().int().nonnegative();
/** What every step reports to its parent; a run's children add the token they ran under. */
export const runReport = z.object({
  counts: z.object({
    pages: count,
    bcsSeen: count,
    created: count,
    updated: count,
    unchanged: count,
    archived: count,
    restored: count,
    linesDeleted: count,
    failed: count,
    futureStamped: count,
    odooCalls: count,
  }),
  errors: z
    .array(z.object({ odooId: z.number().int().optional(), code: z.string(), message: z.string() }))
    .max(MAX_REPORTED_ERRORS),
  /** The lease token of the run execution that queued the child (see childReport). */
  token: z.number().int().optional(),
});

export const syncRunData = z.object({
  trigger,
  /** Produced by the job scheduler: skipped while the schedule is paused. */
  scheduled: z.boolean().default(false),
  /** Re-read everything (the watermarks start from nothing; the copy keeps its data). */
  full: z.boolean().default(false),
  /** How often a full resync was put off (the lease busy, Odoo away): it waits until it runs. */
  deferrals: count.default(0),
  /** Saved after the run's children were queued (children first, then the step state). */
  state: z
    .object({
      run: runRef,
      watermark: z.string().nullable(),
      lineWatermark: z.string().nullable(),
      settledThrough: z.string().nullable().default(null),
      startedAt: z.string().nullable().default(null),
      startCalls: count,
      futureStamped: count.default(0),
    })
    .optional(),
});

export const syncPageData = z.object({
  run: runRef,
  ids: z.array(id).min(1),
  schema,
  /** Saved after the page's own BC jobs were queued. */
  state: z.object({ report: runReport, ownJobs: z.array(id) }).optional(),
});

export const syncBcData = z.object({ run: runRef, odooId: id });
export const resyncBcData = z.object({ odooId: id, trigger });
export const reconcileData = z.object({
  trigger,
  scheduled: z.boolean().default(false),
  /** How often it was put off (the lease busy, Odoo away): it waits until it runs. */
  deferrals: count.default(0),
});
/** What an Odoo webhook said: which BC (or line) changed, and its stamp when the rule sends it. */
export const webhookBcData = z
  .object({
    /** The BC; for a line's event, its BC when the rule sent `bc_id`. */
    odooId: id.optional(),
    lineId: id.optional(),
    /** `write_date` as read inside Odoo's transaction: the read waits until Odoo shows it. */
    writeDate: z.string().max(40).optional(),
    /** A deletion: the BC is archived once Odoo confirms it is gone. */
    deleted: z.boolean().default(false),
    /** When the API received the event (epoch ms), for the lag metric. */
    receivedAtMs: z.number().int().nonnegative(),
  })
  .refine((data) => data.odooId !== undefined || data.lineId !== undefined, {
    error: 'a webhook job names a BC or a line',
  });

export interface JobDefinition<S extends z.ZodType> {
  readonly queue: QueueName;
  readonly schema: S;
  readonly options: (settings: JobSettings) => JobsOptions;
}

export interface JobSettings {
  readonly attempts: number;
  /** First backoff delay of a retried job; each retry doubles it. */
  readonly backoffMs: number;
}

const DAY_SECONDS = 86_400;
const retention = {
  removeOnComplete: { age: DAY_SECONDS, count: 5_000 },
  removeOnFail: { age: 14 * DAY_SECONDS, count: 5_000 },
};

export const JOBS = {
  /** One incremental run: start (lease, scans, plan) → its pages and retried BCs → finish. */
  'sync-run': {
    queue: 'sync',
    schema: syncRunData,
    // Never retried as a whole: the next scheduled run is the retry, and each Odoo call retries itself.
    options: () => ({
      attempts: 1,
      removeOnComplete: { age: 7 * DAY_SECONDS, count: 2_000 },
      removeOnFail: { age: 30 * DAY_SECONDS },
    }),
  },
  /** One page of BCs with their lines, read and written; BCs that fail alone get a sync-bc job. */
  'sync-page': {
    queue: 'sync-page',
    schema: syncPageData,
    options: (s) => ({
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs * 2 },
      ...retention,
    }),
  },
  /** One BC of a run read fresh from Odoo and written, with its own attempts and backoff. */
  'sync-bc': {
    queue: 'sync-bc',
    schema: syncBcData,
    options: (s) => ({
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs },
      ...retention,
    }),
  },
  /** One BC read fresh from Odoo and written, outside any run (API, CLI, bull-board). */
  'resync-bc': {
    queue: 'sync',
    schema: resyncBcData,
    options: (s) => ({
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs * 2 },
      ...retention,
    }),
  },
  /** A BC Odoo's webhook says changed, read once the change is committed (debounced per BC). */
  'webhook-bc': {
    queue: 'sync-webhook',
    schema: webhookBcData,
    options: (s) => ({
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs },
      ...retention,
    }),
  },
  /** Full id lists from Odoo: archive vanished BCs, read again what the copy lacks or holds stale. */
  reconcile: {
    queue: 'sync',
    schema: reconcileData,
    options: () => ({
      attempts: 1,
      removeOnComplete: { age: 30 * DAY_SECONDS },
      removeOnFail: { age: 30 * DAY_SECONDS },
    }),
  },
} as const satisfies Record<string, JobDefinition<z.ZodType>>;

export type JobName = keyof typeof JOBS;
export type JobData<N extends JobName> = z.infer<(typeof JOBS)[N]['schema']>;
/** A payload as producers write it (defaults may be left out). */
export type JobInput<N extends JobName> = z.input<(typeof JOBS)[N]['schema']>;

/** A child job a step asks for: its catalogue name, payload and deterministic id. */
export interface ChildJob<N extends JobName = JobName> {
  readonly name: N;
  readonly data: JobInput<N>;
  readonly jobId: string;
}

type RunRefData = z.infer<typeof runRef>;

/**
 * A page of a run. Its id digests its BC ids: a run whose first step ran twice (a crash between
 * queuing its pages and saving its state) queues the same pages again and they collapse, and a
 * page whose BCs differ can never be mistaken for one already queued. It names the lease token of
 * the execution that queued it: a second execution of the step (a token of its own) queues pages
 * of its own, and the run counts only those.
 */
export function pageJob(
  run: RunRefData,
  ids: readonly number[],
  syncSchema: SyncSchema,
): ChildJob<'sync-page'> {
  const digest = createHash('sha1').update(ids.join(',')).digest('hex').slice(0, 12);
  const { fields, context } = syncSchema;
  return {
    name: 'sync-page',
    data: {
      run,
      ids: [...ids],
      schema: { fields: { bc: [...fields.bc], line: [...fields.line] }, context: { ...context } },
    },
    jobId: `page-r${run.runId}-t${run.lease.token}-${ids[0]}-${digest}`,
  };
}

/**
 * The job of one BC within a run: one per BC and run, so a page or run re-queuing it collapses.
 * The run is part of the id because BullMQ attaches a re-added id to the job already stored: a
 * completed one from an earlier run would answer with its old outcome.
 */
export function bcJob(run: RunRefData, odooId: number): ChildJob<'sync-bc'> {
  return {
    name: 'sync-bc',
    data: { run, odooId },
    jobId: `bc-${odooId}-r${run.runId}-t${run.lease.token}`,
  };
}

/** A child's queue and id in BullMQ's key of it (`prefix:queue:jobId`; ids hold no `:`). */
export function splitJobKey(key: string): { queue: string; jobId: string } {
  const [queue = '', jobId = ''] = key.split(':').slice(-2);
  return { queue, jobId };
}

export const SCHEDULER_IDS = { sync: 'sync-every', reconcile: 'reconcile-daily' } as const;
