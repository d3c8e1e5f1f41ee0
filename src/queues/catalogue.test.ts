import { describe, expect, it } from 'vitest';
import { bcJob, pageJob, parseJobKey } from './catalogue.js';

const run = { runId: 12, lease: { key: 'dimagaz.bc', owner: 'run-77', token: 3 } };
const schema = {
  fields: { bc: ['name', 'write_date'], line: ['bc_id', 'write_date'] },
  context: {},
};

describe('job ids', () => {
  it('name a page by its content: the same BCs collapse, other BCs never do', () => {
    const page = pageJob(run, [4, 5, 6], schema);
    expect(pageJob(run, [4, 5, 6], schema).jobId).toBe(page.jobId);
    expect(pageJob(run, [4, 5, 7], schema).jobId).not.toBe(page.jobId);
    expect(pageJob({ ...run, runId: 13 }, [4, 5, 6], schema).jobId).not.toBe(page.jobId);
    // BullMQ: no ':' in a custom id, and not all digits.
    expect(page.jobId).toMatch(/^page-r12-4-[0-9a-f]{12}$/);
  });

  it('name a BC job by BC and run, and read the BC back from its key', () => {
    const job = bcJob(run, 42);
    expect(job.jobId).toBe('bc-42-r12');
    expect(parseJobKey(`{erp-bridge}:sync-bc:${job.jobId}`)).toEqual({
      queue: 'sync-bc',
      jobId: 'bc-42-r12',
      odooId: 42,
    });
    expect(parseJobKey('{erp-bridge}:sync-page:page-r12-4-abc')).toEqual({
      queue: 'sync-page',
      jobId: 'page-r12-4-abc',
    });
  });
});
