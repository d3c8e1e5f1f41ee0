/**
 * The one job catalogue: every job's name, queue, payload schema, attempts, backoff, retention
 * and id. Producers and the worker import it; a job added here without a handler does not
 * compile (see workers/handlers.ts). No secret ever goes into job data: jobs carry a family's
 * name, ids, field names, counts and the run's lease, and the worker holds the credentials. Job
 * data and return values stay small whatever the number of records or failures: a page carries
 * its own ids and a reference to its run's schema (kept once in PostgreSQL), a report its counts
 * and its first errors.
 */
import { createHash } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { SOURCE_NAME } from '../sources/family-key.js';
import { runReportSchema } from '../sync/run-counts.js';
import { runRefSchema, runStateSchema, schemaKeySchema } from '../sync/run-state.js';

/**
 * Each kind of work has a queue of its own, so that no kind waits behind another: runs (`sync`)
 * never wait for a reconcile or a verify, which hold a worker's slot for minutes or hours
 * (`sync-reconcile`: a priority could not help, a job once active keeps its slot); webhook work
 * (thousands of events after a mass edit in Odoo) never queues ahead of a run's record jobs; the
 * change feed's deliveries (`feed`) to a receiver slow or down never hold a sync job back.
 */
export const QUEUE_NAMES = [
  'sync',
  'sync-page',
  'sync-record',
  'sync-webhook',
  'sync-reconcile',
  'feed',
] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** A failure as it crosses the job boundary: data, never text to parse. */
export const jobFailure = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
});
export type JobFailure = z.infer<typeof jobFailure>;

const trigger = z.string().min(1).max(64);
const id = z.number().int().positive();
const count = z.number().int().nonnegative();
/** A record family's name. */
const family = z.string().min(1).max(64);
/**
 * When a worker that does not copy the job's family first handed it back for one that does
 * (epoch ms; see workers/hand-back.ts). Every job may carry it.
 */
const handedBackAt = z.number().int().nonnegative().optional();

/** What a run's child reports to its parent: its counts, and the token it ran under. */
export const childReport = runReportSchema.extend({ token: z.number().int().optional() });

export const syncRunData = z.object({
  family,
  handedBackAt,
  trigger,
  /** Produced by the job scheduler: skipped while the schedule is paused. */
  scheduled: z.boolean().default(false),
  /** Re-read everything (the watermarks start from nothing; the copy keeps its data). */
  full: z.boolean().default(false),
  /** How often a full resync was put off (the lease busy, Odoo away): it waits until it runs. */
  deferrals: count.default(0),
  /** Saved after the run's children were queued (children first, then the step state). */
  state: runStateSchema.optional(),
});

export const syncPageData = z.object({
  family,
  handedBackAt,
  run: runRefSchema,
  ids: z.array(id).min(1),
  schemaKey: schemaKeySchema,
  /** Saved after the page's own record jobs were queued. */
  state: z.object({ report: runReportSchema, ownJobs: z.array(id) }).optional(),
});

/**
 * A source's Odoo checked as `check` does (src/check), by a worker that copies the source: with
 * the credentials the workers hold (GET /api/sync/check; the API holds none). It names its
 * source, which picks its queue.
 */
export const checkOdooData = z.object({ source: z.string().regex(SOURCE_NAME) });

/** One root record, by family and Odoo id. */
export const syncRecordData = z.object({ family, handedBackAt, odooId: id, run: runRefSchema });
export const resyncRecordData = z.object({ family, handedBackAt, odooId: id, trigger });
export const reconcileData = z.object({
  family,
  handedBackAt,
  trigger,
  scheduled: z.boolean().default(false),
  /** How often it was put off (the lease busy, Odoo away): it waits until it runs. */
  deferrals: count.default(0),
});
export const verifyData = z.object({
  family,
  handedBackAt,
  trigger,
  /** Queued after the nightly reconcile: skipped while the schedule is paused. */
  scheduled: z.boolean().default(false),
  /** Every record, not the next slice of the cycle. */
  all: z.boolean().default(false),
  /** How often it was put off (the lease busy, Odoo away): it waits until it runs. */
  deferrals: count.default(0),
});
/** What an Odoo webhook said: which record changed, and its stamp when the rule sends it. */
export const webhookRecordData = z.object({
  family,
  handedBackAt,
  /** The model the event is about: the family's root or one of its children. */
  model: z.string().max(128),
  /** The record the event is about. */
  recordId: id,
  /** Its root, when the event is a root's or the rule sent a child's link. */
  rootId: id.optional(),
  /** `write_date` as read inside Odoo's transaction: the read waits until Odoo shows it. */
  writeDate: z.string().max(40).optional(),
  /** A root's deletion: archived once Odoo confirms it is gone. */
  deleted: z.boolean().default(false),
  /** When the API received the event (epoch ms), for the lag metric. */
  receivedAtMs: z.number().int().nonnegative(),
  /**
   * The inbox's events this job answers for, its root's up to its own: it settles those its read
   * showed (src/sync/webhook-inbox.ts).
   */
  inbox: z.object({ throughId: z.number().int().positive(), unstamped: z.boolean() }).optional(),
  /**
   * Queued again from the inbox, a minute or more after Odoo posted: one read, without waiting for
   * a commit (one not shown is queued again later).
   */
  requeued: z.boolean().default(false),
});

/** A change feed message that failed, sent again exactly as it was (src/feed/deliver.ts). */
const pendingMessage = z.object({
  from: z.string().max(32),
  through: z.string().max(32),
  attempts: count,
  firstFailedAtMs: count,
});

/** One subscription's deliveries: its changes after its cursor, one message at a time. */
export const feedDeliverData = z.object({
  subscriptionId: id,
  pending: pendingMessage.optional(),
  /** It failed for good: a retry (bull-board's) resumes the subscription from the dead letter. */
  deadLetter: z.boolean().default(false),
});

/** Produced by the feed's job schedulers. */
export const feedScheduledData = z.object({});

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
  /** One incremental run of a family: start (lease, scans, plan) → pages, retried records → finish. */
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
  /** One page of roots with their children, read and written; a root that fails alone gets a sync-record job. */
  'sync-page': {
    queue: 'sync-page',
    schema: syncPageData,
    options: (s) => ({
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs * 2 },
      ...retention,
    }),
  },
  /** One root of a run read fresh from Odoo and written, with its own attempts and backoff. */
  'sync-record': {
    queue: 'sync-record',
    schema: syncRecordData,
    options: (s) => ({
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs },
      ...retention,
    }),
  },
  /** One root read fresh from Odoo and written, outside any run (API, CLI, bull-board). */
  'resync-record': {
    queue: 'sync',
    schema: resyncRecordData,
    options: (s) => ({
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs * 2 },
      ...retention,
    }),
  },
  /** A record Odoo's webhook says changed, read once the change is committed (debounced per root). */
  'webhook-record': {
    queue: 'sync-webhook',
    schema: webhookRecordData,
    options: (s) => ({
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs },
      ...retention,
    }),
  },
  /** A family's full id lists from Odoo: archive vanished roots, read again what is missing or stale. */
  reconcile: {
    queue: 'sync-reconcile',
    schema: reconcileData,
    options: () => ({
      attempts: 1,
      removeOnComplete: { age: 30 * DAY_SECONDS },
      removeOnFail: { age: 30 * DAY_SECONDS },
    }),
  },
  /** A slice of a family's copy (or all of it) compared with Odoo by content, what differs healed. */
  verify: {
    queue: 'sync-reconcile',
    schema: verifyData,
    options: () => ({
      attempts: 1,
      removeOnComplete: { age: 30 * DAY_SECONDS },
      removeOnFail: { age: 30 * DAY_SECONDS },
    }),
  },
  /**
   * A subscription's changes delivered to its receiver (one job per subscription: its id is
   * `feedDeliverJobId`). Failed deliveries wait in the delayed set, retried by the job itself;
   * one that failed for good stays failed: the subscription's dead letter.
   */
  'feed-deliver': {
    queue: 'feed',
    schema: feedDeliverData,
    options: (s) => ({
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs },
      // Its id is reused at once: the next change's delivery is a new job of the same id.
      removeOnComplete: true,
      removeOnFail: { age: 30 * DAY_SECONDS },
    }),
  },
  /** Queues the deliveries of every active subscription (a safety net beside LISTEN/NOTIFY). */
  'feed-pump': {
    queue: 'feed',
    schema: feedScheduledData,
    options: () => ({
      attempts: 1,
      removeOnComplete: { count: 100 },
      removeOnFail: { count: 100 },
    }),
  },
  /** A source's Odoo checked for GET /api/sync/check: the report's section, as the job's value. */
  'check-odoo': {
    queue: 'sync',
    schema: checkOdooData,
    // Asked for by a person waiting on the answer: never retried, kept an hour.
    options: () => ({
      attempts: 1,
      removeOnComplete: { age: 3_600, count: 100 },
      removeOnFail: { age: 3_600, count: 100 },
    }),
  },
  /** Drops the feed's day partitions older than FEED_RETENTION_DAYS, makes the coming days'. */
  'feed-prune': {
    queue: 'feed',
    schema: feedScheduledData,
    options: () => ({
      attempts: 1,
      removeOnComplete: { age: 7 * DAY_SECONDS },
      removeOnFail: { age: 30 * DAY_SECONDS },
    }),
  },
} as const satisfies Record<string, JobDefinition<z.ZodType>>;

export type JobName = keyof typeof JOBS;
export type JobData<N extends JobName> = z.infer<(typeof JOBS)[N]['schema']>;
/** A payload as producers write it (defaults may be left out). */
export type JobInput<N extends JobName> = z.input<(typeof JOBS)[N]['schema']>;

/** A child job a step asks for: its catalogue name, payload, deterministic id and priority. */
export interface ChildJob<N extends JobName = JobName> {
  readonly name: N;
  readonly data: JobInput<N>;
  readonly jobId: string;
  /** BullMQ's priority (1 goes first); none: before every prioritized job, in order. */
  readonly priority?: number;
}

type RunRefData = z.infer<typeof runRefSchema>;

/**
 * The priority of a run's pages: a small run's pages go before a large one's, whatever was
 * queued first — a family's five-minute run does not wait behind another's first copy of a
 * million records. It grows with the number of digits of the run's page count: 1 for fewer than
 * 10 pages, 2 for fewer than 100, and so on. (Runs of one size class take turns in the order
 * their pages were queued, a wave at a time: see workers/processors/sync-run.ts.)
 */
export function pagePriority(pageCount: number): number {
  return String(Math.max(1, Math.trunc(pageCount))).length;
}

/**
 * A page of a run. Its id digests its root ids: a run whose step ran twice (a crash between
 * queuing a wave of pages and saving its state) queues the same pages again and they collapse,
 * and a page whose roots differ can never be mistaken for one already queued. It names the lease
 * token of the execution that queued it: a second execution of the step (a token of its own)
 * queues pages of its own, and the run counts only those. It refers to the run's schema, kept
 * once (a wide model's field names are kilobytes, and a run has thousands of pages).
 */
export function pageJob(
  familyName: string,
  run: RunRefData,
  ids: readonly number[],
  page: { schemaKey: string; pageCount: number },
): ChildJob<'sync-page'> {
  const digest = createHash('sha1').update(ids.join(',')).digest('hex').slice(0, 12);
  return {
    name: 'sync-page',
    data: { family: familyName, run, ids: [...ids], schemaKey: page.schemaKey },
    jobId: `page-${familyName}-r${run.runId}-t${run.lease.token}-${ids[0]}-${digest}`,
    priority: pagePriority(page.pageCount),
  };
}

/**
 * The job of one root within a run: one per root and run, so a page or run re-queuing it
 * collapses. The run is part of the id because BullMQ attaches a re-added id to the job already
 * stored: a completed one from an earlier run would answer with its old outcome.
 */
export function recordJob(
  familyName: string,
  run: RunRefData,
  odooId: number,
): ChildJob<'sync-record'> {
  return {
    name: 'sync-record',
    data: { family: familyName, run, odooId },
    jobId: `rec-${familyName}-${odooId}-r${run.runId}-t${run.lease.token}`,
  };
}

/**
 * What webhook events collapse on (their debounce id and job ids): one root of a family, or a
 * record of a model whose root is not known yet. Parts are joined by `.`, which no family name
 * holds: `a-x` and `a` with a model `x` never share a key.
 */
export function webhookKey(
  familyName: string,
  record: { readonly rootId: number } | { readonly model: string; readonly odooId: number },
): string {
  return 'rootId' in record
    ? `${familyName}.${record.rootId}`
    : `${familyName}.${record.model.replace(/[^a-z0-9_]/gi, '_')}.${record.odooId}`;
}

/** A child's queue and id in BullMQ's key of it (`prefix:queue:jobId`; ids hold no `:`). */
export function splitJobKey(key: string): { queue: string; jobId: string } {
  const [queue = '', jobId = ''] = key.split(':').slice(-2);
  return { queue, jobId };
}

/** The job schedulers of a family: its incremental sync (queue `sync`) and its reconcile (`sync-reconcile`). */
export function schedulerIds(familyName: string): { sync: string; reconcile: string } {
  return { sync: `sync-every-${familyName}`, reconcile: `reconcile-daily-${familyName}` };
}

/** The one delivery job of a subscription: a second one collapses into it. */
export function feedDeliverJobId(subscriptionId: number): string {
  return `feed-deliver-${subscriptionId}`;
}

/** The change feed's job schedulers. */
export const FEED_SCHEDULER_IDS = { pump: 'feed-pump', prune: 'feed-prune' } as const;
