import { describe, expect, it } from 'vitest';
import { JOBS, pageJob, pagePriority, recordJob, splitJobKey, webhookKey } from './catalogue.js';

const run = { runId: 12, lease: { key: 'bcs', owner: 'run-77', token: 3 } };
const schemaKey = 'a'.repeat(64);
const page = (at: typeof run, ids: number[], family = 'bcs') =>
  pageJob(family, at, ids, { schemaKey, pageCount: 40 });

describe('job ids', () => {
  it('name a page by its content: the same BCs collapse, other BCs never do', () => {
    const first = page(run, [4, 5, 6]);
    expect(page(run, [4, 5, 6]).jobId).toBe(first.jobId);
    expect(page(run, [4, 5, 7]).jobId).not.toBe(first.jobId);
    expect(page({ ...run, runId: 13 }, [4, 5, 6]).jobId).not.toBe(first.jobId);
    expect(page(run, [4, 5, 6], 'moves').jobId).not.toBe(first.jobId);
    // BullMQ: no ':' in a custom id, and not all digits.
    expect(first.jobId).toMatch(/^page-bcs-r12-t3-4-[0-9a-f]{12}$/);
  });

  it("name a run's children by the execution that queued them: a second one queues its own", () => {
    const second = { ...run, lease: { ...run.lease, token: 4 } };
    expect(page(second, [4, 5, 6]).jobId).not.toBe(page(run, [4, 5, 6]).jobId);
    expect(recordJob('bcs', run, 42).jobId).toBe('rec-bcs-42-r12-t3');
    expect(recordJob('bcs', second, 42).jobId).not.toBe(recordJob('bcs', run, 42).jobId);
    expect(recordJob('bcs', run, 42).data).toEqual({ family: 'bcs', run, odooId: 42 });
  });

  it("carry a page's ids and its run's schema key, never a field list", () => {
    const first = page(run, [4, 5, 6]);
    expect(first.data).toEqual({ family: 'bcs', run, ids: [4, 5, 6], schemaKey });
    expect(JOBS['sync-page'].schema.parse(first.data)).not.toHaveProperty('schema');
  });

  it("split BullMQ's key of a child into its queue and id", () => {
    expect(splitJobKey('{erp-bridge}:sync-record:rec-bcs-42-r12-t3')).toEqual({
      queue: 'sync-record',
      jobId: 'rec-bcs-42-r12-t3',
    });
  });
});

describe('webhook keys', () => {
  it('never let two families share one: a family name holds no `.`', () => {
    expect(webhookKey('a-x', { rootId: 5 })).not.toBe(webhookKey('a', { model: 'x', odooId: 5 }));
    expect(webhookKey('a', { model: 'x.y', odooId: 5 })).toBe('a.x_y.5');
    expect(webhookKey('bcs', { rootId: 7 })).toBe('bcs.7');
  });
});

describe('page priorities', () => {
  it("put a small run's pages before a large one's: one class per digit of the page count", () => {
    expect([0, 1, 9, 10, 99, 100, 9_999, 10_000, 1_000_000].map(pagePriority)).toEqual([
      1, 1, 1, 2, 2, 3, 4, 5, 7,
    ]);
    expect(page(run, [1]).priority).toBe(2);
  });
});
