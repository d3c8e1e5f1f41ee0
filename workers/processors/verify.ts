/**
 * `verify`: compare a slice of a family's copy (or all of it) with Odoo by content and heal what
 * differs (see src/sync/verify.ts). Put off, not dropped, while another run holds the lease or
 * Odoo is away (see defer-job.ts).
 */
import type { Job } from 'bullmq';
import { JOBS, type JobData } from '../../src/queues/catalogue.js';
import { verify } from '../../src/sync/verify.js';
import { deferJob, deferOnTransientFailure } from '../defer-job.js';
import { runStepJob } from '../step-job.js';
import type { WorkerContext } from '../worker-context.js';

export async function processVerify(
  job: Job<JobData<'verify'>>,
  token: string | undefined,
  signal: AbortSignal,
  ctx: WorkerContext,
) {
  const data = JOBS.verify.schema.parse(job.data);
  // It reads and writes under the layouts as migrate left them (docs/models.md).
  await ctx.sync.families.refresh();
  const family = ctx.sync.families.require(data.family);
  // Odoo as the family's source reaches it (docs/sources.md).
  const sync = ctx.syncOf(family.name);
  return runStepJob<never, unknown>(job, token, signal, ctx, {
    state: undefined,
    async start(abort) {
      const outcome = await verify(
        sync,
        {
          family,
          trigger: data.trigger,
          owner: `verify-${job.id}`,
          scheduled: data.scheduled,
          all: data.all,
        },
        { signal: abort },
      ).catch(deferOnTransientFailure(job, token, ctx, { wanted: true, signal: abort }));
      if (outcome.status === 'skipped')
        await deferJob(job, token, ctx, 'another run holds the lease');
      return { result: outcome };
    },
  });
}
