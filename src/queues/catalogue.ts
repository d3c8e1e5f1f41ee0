/**
 * The one job catalogue: every job's name, queue, payload schema, attempts, backoff, retention
 * and id. Producers and the worker import it; a job added here without a handler does not
 * compile (see workers/handlers.ts). No secret ever goes into job data: jobs carry ids, field
 * names and counts, and the worker holds the credentials.
 */
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

export const QUEUE_NAMES = ['sync', 'fetch', 'upsert'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

const syncFields = z.object({ bc: z.array(z.string()), line: z.array(z.string()) });
const trigger = z.string().min(1).max(64);

export const syncRunData = z.object({
  trigger,
  /** Set by the job itself between its steps (start → finish). */
  state: z
    .object({
      runId: z.number().int(),
      owner: z.string(),
      startCalls: z.number().int(),
      lineMaxWriteDate: z.string().nullable(),
    })
    .optional(),
});

export const fetchPageData = z.object({
  runId: z.number().int(),
  owner: z.string(),
  page: z.number().int().nonnegative(),
  ids: z.array(z.number().int().positive()).min(1),
  fields: syncFields,
  retryIds: z.array(z.number().int().positive()),
  /** Set by the job itself once it wrote its BCs and queued the BCs that need a job of their own. */
  fetched: z
    .object({
      maxWriteDate: z.string().nullable(),
      odooCalls: z.number().int(),
      alreadyCurrent: z.number().int(),
      written: z.object({
        bcsSeen: z.number().int(),
        created: z.number().int(),
        updated: z.number().int(),
        unchanged: z.number().int(),
        archived: z.number().int(),
        restored: z.number().int(),
        linesDeleted: z.number().int(),
      }),
    })
    .optional(),
});

export const upsertBcData = z.object({
  runId: z.number().int(),
  owner: z.string(),
  odooId: z.number().int().positive(),
  /** The BC was a pending failure: a success clears it. */
  retry: z.boolean(),
});

export const resyncBcData = z.object({ odooId: z.number().int().positive(), trigger });
export const reconcileData = z.object({ trigger });

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
  /** One incremental run: start (lease, scan, pages) → wait for its pages → finish. */
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
  /** One page of BCs and their lines from Odoo, written in batches; BCs needing more get an upsert-bc job. */
  'fetch-page': {
    queue: 'fetch',
    schema: fetchPageData,
    options: (s) => ({
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs * 2 },
      ...retention,
    }),
  },
  /** One BC of a run that needs its own attempts: read fresh from Odoo, upserted, recorded if it never passes. */
  'upsert-bc': {
    queue: 'upsert',
    schema: upsertBcData,
    options: (s) => ({
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs },
      ...retention,
    }),
  },
  /** One BC fetched fresh from Odoo and upserted (admin retry, API, CLI). */
  'resync-bc': {
    queue: 'sync',
    schema: resyncBcData,
    options: (s) => ({
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs * 2 },
      ...retention,
    }),
  },
  /** Full id lists from Odoo: archive vanished BCs, delete vanished lines. */
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

/**
 * The id of a BC job: the BC and its run. Within a run a BC gets one job, so a page retried after
 * a crash re-adds the same ids and they collapse. The run is part of the id because BullMQ attaches
 * a re-added id to the job already stored: a completed one from an earlier run would answer with
 * its old outcome, a failed one would leave the new page waiting forever.
 */
export function upsertBcJobId(odooId: number, runId: number): string {
  return `bc-${odooId}-r${runId}`;
}

/** The BC a BC job is about, from its key (`prefix:upsert:bc-<id>-…`); undefined for other jobs. */
export function odooIdFromJobKey(jobKey: string): number | undefined {
  const match = /(?:^|:)bc-(\d+)-/.exec(jobKey);
  return match ? Number(match[1]) : undefined;
}

export const SCHEDULER_IDS = { sync: 'sync-every', reconcile: 'reconcile-daily' } as const;
