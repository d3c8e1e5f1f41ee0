/**
 * `reconcile`: heal the copy against Odoo's full lists (see src/sync/reconcile.ts). Put off, not
 * dropped, while another run holds the lease or Odoo is away (see defer-job.ts). The nightly one
 * queues the night's verify once it is done (src/sync/verify.ts).
 */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { reconcile } from '../../src/sync/reconcile.js';
import { deferJob, deferOnTransientFailure } from '../defer-job.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processReconcile(
  job: Job<JobData<'reconcile'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS.reconcile.schema.parse(job.data);
  // A run reads and writes under the layouts as migrate left them (docs/models.md).
  await ctx.sync.families.refresh();
  const family = ctx.sync.families.require(data.family);
  // Odoo as the family's source reaches it (docs/sources.md).
  const sync = ctx.syncOf(family.name);
  // The night's verify does not depend on the reconcile: one that fails for good (a safety
  // stop, a refused relation, Odoo's fault) still lets the copy be proven by content.
  const queueVerify = () =>
    ctx.queues.add(
      'verify',
      { family: family.name, trigger: 'nightly', scheduled: true },
      { jobId: `verify-after-${job.id!.replace(/:/g, '-')}` },
    );
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    ...(data.scheduled ? { onLastFailure: async () => void (await queueVerify()) } : {}),
    async start(abort) {
      const outcome = await reconcile(
        sync,
        {
          family,
          trigger: data.trigger,
          owner: `reconcile-${job.id}`,
          scheduled: data.scheduled,
        },
        { signal: abort },
      ).catch(deferOnTransientFailure(job, token, ctx, { wanted: true, signal: abort }));
      if (outcome.status === 'skipped')
        await deferJob(job, token, ctx, 'another run holds the lease');
      if (data.scheduled && outcome.status === 'succeeded') await queueVerify();
      return { result: outcome };
    },
  });
}
