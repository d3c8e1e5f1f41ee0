import { describe, expect, it } from 'vitest';
import { bcJob, pageJob, splitJobKey } from './catalogue.js';

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
    expect(page.jobId).toMatch(/^page-r12-t3-4-[0-9a-f]{12}$/);
  });

  it("name a run's children by the execution that queued them: a second one queues its own", () => {
    const second = { ...run, lease: { ...run.lease, token: 4 } };
    expect(pageJob(second, [4, 5, 6], schema).jobId).not.toBe(
      pageJob(run, [4, 5, 6], schema).jobId,
    );
    expect(bcJob(run, 42).jobId).toBe('bc-42-r12-t3');
    expect(bcJob(second, 42).jobId).not.toBe(bcJob(run, 42).jobId);
  });

  it("split BullMQ's key of a child into its queue and id", () => {
    expect(splitJobKey('{erp-bridge}:sync-bc:bc-42-r12-t3')).toEqual({
      queue: 'sync-bc',
      jobId: 'bc-42-r12-t3',
    });
  });
});
