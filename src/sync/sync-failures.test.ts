import { describe, expect, it } from 'vitest';
import { recordFailuresOf } from './sync-failures.js';

const run = { runId: 4, lease: { key: 'k', owner: 'run-9', token: 2 } };
const failure = (code: string) => ({ code, message: `${code} happened` });

describe('failed record jobs, as the queue reports them', () => {
  it("records the records' own failures, not the run's (lease lost, halted, credentials refused)", () => {
    const failed = [
      { odooId: 1, jobId: 'bc-1-r4-t2', failure: failure('ODOO_USER_ERROR') },
      { odooId: 2, jobId: 'bc-2-r4-t2', failure: failure('SYNC_JOB_FAILED') },
      { odooId: 3, jobId: 'bc-3-r4-t2', failure: failure('SYNC_RUN_HALTED') },
      { odooId: 4, jobId: 'bc-4-r4-t2', failure: failure('ODOO_AUTH') },
      { odooId: 5, jobId: 'bc-5-r4-t2', failure: failure('SYNC_LEASE_LOST') },
    ];
    expect(recordFailuresOf(run, failed).map((f) => [f.odooId, f.error, f.jobId, f.runId])).toEqual(
      [
        [1, failure('ODOO_USER_ERROR'), 'bc-1-r4-t2', 4],
        [2, failure('SYNC_JOB_FAILED'), 'bc-2-r4-t2', 4],
      ],
    );
  });
});
