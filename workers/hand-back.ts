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
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { familyLastSeen } from '../src/queues/schedules.js';
import type { WorkerContext } from './worker-context.js';

/** How long a job may go back and forth, with no worker of its family seen, before it fails. */
const GIVE_UP_AFTER_MS = 3_600_000;

/** Hands `job` back (see the module's header) and ends this attempt. */
export async function handBack(
  job: Job<{ family: string; handedBackAt?: number }>,
  token: string | undefined,
  ctx: WorkerContext,
): Promise<never> {
  const now = Date.now();
  const { family, handedBackAt } = job.data;
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
