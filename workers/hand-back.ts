/**
 * A job of a family this worker does not copy goes back for a worker that does.
 *
 * Workers of one fleet may copy different families (`SYNC_FAMILIES`), and BullMQ cannot route a
 * job to a worker by its content: a worker takes the next job of a queue, whatever its family,
 * and may not even know that family's declaration. So it hands the job back: the job goes to
 * the delayed set for a moment without counting an attempt (`moveToDelayed`, then
 * `DelayedError`), and a worker that copies its family takes it then. Chosen over a queue per
 * family, which would route by itself but multiply each worker's queues, blocking Redis
 * connections and jobs in flight (its memory) by the number of families; and over failing the
 * job: a run must not fail because a worker of another family took one of its pages. The lease of
 * a run waiting meanwhile is kept (lease-keeper.ts). A job fails for good, naming its family
 * (`FAMILY_NOT_COPIED`), once it has gone back and forth for an hour while no worker noted for an
 * hour that it copies the family (schedules.ts, `markFamiliesSeen`): not for the age of its first
 * hand-back alone, which a run of many waves, or a reconcile put off for an hour, outlives while
 * the workers of its family are busy elsewhere.
 *
 * A job on another source's queues than its family's was left there by a version whose sources
 * shared the default source's queues (docs/sources.md, "Queues"). Handed back, it would go back
 * and forth for ever in a fleet split by `SYNC_SOURCES`: the workers of its family's source do not
 * work those queues. So it goes to its source's own queue, once; a job tied to a run (a run's
 * page or record, a run with children queued) cannot leave its run's queue, and fails for good
 * instead (`SOURCE_QUEUE_LEFT_OVER`): the source's next run reads what it would have.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { JOBS, type JobName } from '../src/queues/catalogue.js';
import { familyLastSeen } from '../src/queues/schedules.js';
import { queueOfName } from '../src/queues/source-queues.js';
import { splitFamilyKey } from '../src/sources/family-key.js';
import { describeError } from '../src/lib/errors.js';
import type { WorkerContext } from './worker-context.js';

/** How long a job may go back and forth, with no worker of its family seen, before it fails. */
const GIVE_UP_AFTER_MS = 3_600_000;

type FamilyJob = Job<{ family: string; handedBackAt?: number; state?: unknown }>;

/** Hands `job` back (see the module's header) and ends this attempt, or moves it. */
export async function handBack(
  job: FamilyJob,
  token: string | undefined,
  ctx: WorkerContext,
): Promise<unknown> {
  const now = Date.now();
  const { family, handedBackAt } = job.data;
  const source = splitFamilyKey(family).source;
  const queued = queueOfName(job.queueName);
  if (queued && queued.source !== source) return moveToItsSource(job, source, ctx);
  if (
    handedBackAt !== undefined &&
    now - handedBackAt > GIVE_UP_AFTER_MS &&
    now - ((await familyLastSeen(ctx.sync.db, family)) ?? 0) > GIVE_UP_AFTER_MS
  )
    throw new UnrecoverableError(
      `FAMILY_NOT_COPIED: no worker has copied family "${family}" for an hour: name it in the SYNC_FAMILIES of a worker`,
    );
  if (handedBackAt === undefined) await job.updateData({ ...job.data, handedBackAt: now });
  // A moment, not a backoff: the worker that copies the family may be free now.
  await job.moveToDelayed(now + ctx.queues.settings.backoffMs, token);
  ctx.logger.debug(
    { job: job.name, jobId: job.id, family },
    `${job.name} of ${family} handed back: this worker does not copy ${family}`,
  );
  throw new DelayedError();
}

/** A job left on another source's queue, moved to its own (see the module's header). */
async function moveToItsSource(
  job: FamilyJob,
  source: string,
  ctx: WorkerContext,
): Promise<{ movedTo: string; jobId: string | undefined }> {
  const { family } = job.data;
  const tied =
    job.parentKey !== undefined || (job.name === 'sync-run' && job.data.state !== undefined);
  const name = job.name as JobName;
  if (tied || !(name in JOBS))
    throw new UnrecoverableError(
      `SOURCE_QUEUE_LEFT_OVER: a job of ${family} that an older version left on the default source's queue ${job.queueName}, tied to its run there: ${source}'s next run reads what it would have`,
    );
  const { handedBackAt: _handedBackAt, ...data } = job.data;
  const moved = await ctx.queues
    // An id BullMQ gave is all digits, which a custom id may not be: the moved job gets its own.
    .add(name, data as never, /^\d+$/.test(job.id ?? '') ? {} : { jobId: job.id })
    .catch((error: unknown) => {
      throw new UnrecoverableError(
        `SOURCE_QUEUE_LEFT_OVER: a job of ${family} that an older version left on the default source's queue ${job.queueName} could not be moved to ${source}'s: ${describeError(error)}`,
      );
    });
  ctx.logger.warn(
    { job: job.name, jobId: job.id, family, movedTo: moved.queueName, movedId: moved.id },
    `${job.name} of ${family}, left on the default source's queue ${job.queueName} by an older version, moved to ${moved.queueName}`,
  );
  return { movedTo: moved.queueName, jobId: moved.id };
}
