import { describe, expect, it } from 'vitest';
import { bcFailures, parseFailureReason } from './sync-page.js';

const run = { runId: 4, lease: { key: 'k', owner: 'run-9', token: 2 } };

describe('failed BC jobs, as the queue reports them', () => {
  it('reads back the code of a job failure', () => {
    expect(parseFailureReason('ODOO_ACCESS: Odoo access error on dimagaz.bc.read')).toEqual({
      code: 'ODOO_ACCESS',
      message: 'Odoo access error on dimagaz.bc.read',
    });
    expect(parseFailureReason('job stalled more than allowable limit')).toEqual({
      code: 'SYNC_BC_FAILED',
      message: 'job stalled more than allowable limit',
    });
  });

  it("records the BCs' own failures, not the run's (lease lost, halted, credentials refused)", () => {
    const failed = [
      { odooId: 1, jobId: 'bc-1-r4', reason: 'ODOO_USER_ERROR: broken field' },
      { odooId: 2, jobId: 'bc-2-r4', reason: 'job stalled more than allowable limit' },
      { odooId: 3, jobId: 'bc-3-r4', reason: 'SYNC_RUN_HALTED: the run was halted' },
      { odooId: 4, jobId: 'bc-4-r4', reason: 'ODOO_AUTH: refused' },
      { odooId: 5, jobId: 'bc-5-r4', reason: 'SYNC_LEASE_LOST: gone' },
    ];
    expect(bcFailures(run, failed).map((f) => [f.odooId, f.error.code, f.jobId, f.runId])).toEqual([
      [1, 'ODOO_USER_ERROR', 'bc-1-r4', 4],
      [2, 'SYNC_BC_FAILED', 'bc-2-r4', 4],
    ]);
  });
});
