/**
 * Odoo locks an IP out after 10 failed logins in 60 s. Refused credentials, in every family
 * (test/helpers/family-cases.ts), must stop the run, not lock the account: after the first
 * refusal no job of the run calls Odoo again, whatever worker it is on, and nothing is recorded
 * against records that have nothing wrong.
 */
import { describe, expect, it } from 'vitest';
import {
  caseModels,
  FAMILY_CASES,
  POSTGRES_QUEUE_CASES,
  LAGGING_CASES,
  useCaseHarness,
  type FamilyCase,
} from '../helpers/family-cases.js';

/** A worker runs as many pages at once as its concurrency. */
const PAGES_IN_FLIGHT = 6;

describe.each(FAMILY_CASES)('credentials revoked during a $name run', revokedDuringRunOf);
describe.each(POSTGRES_QUEUE_CASES)(
  'credentials revoked during a $name run, its queues in PostgreSQL',
  revokedDuringRunOf,
);
describe.each(LAGGING_CASES)(
  'credentials revoked during a $name run, read from a replica that lags',
  revokedDuringRunOf,
);

function revokedDuringRunOf(c: FamilyCase): void {
  // 40 pages, six at a time.
  const h = useCaseHarness(c, {
    size: { roots: 200, childrenPerRoot: 1 },
    pageSize: 5,
    concurrency: PAGES_IN_FLIGHT,
  });

  it('one refusal halts the run: at most one refused call per page in flight, the run fails with ODOO_AUTH', async () => {
    const control = h.sandbox.control;
    const firstPage = control.waitForCall({ method: 'read', model: c.rootModel });
    const run = await h.add('sync-run', { trigger: 'test' });
    await firstPage;
    control.setPassword('rotated-in-odoo');
    control.resetCalls();

    await expect(h.wait(run)).rejects.toThrow(/failed/);
    // Every call after the revocation is refused: there are at most as many as pages in flight.
    expect(control.countCalls()).toBeLessThanOrEqual(PAGES_IN_FLIGHT);
    const [last] = await h.runs();
    expect(last).toMatchObject({ family: c.name, status: 'failed' });
    expect(last!.errors[0]!.code).toBe('ODOO_AUTH');
    expect(JSON.stringify(last!.errors)).not.toContain(h.sandbox.username);
    // Nothing was wrong with the records: none waits in sync_failure, no watermark moved.
    expect(await h.failures()).toEqual([]);
    for (const model of caseModels(c)) expect(await h.watermark(model), model).toBeNull();
    expect(await h.state()).toMatchObject({ leaseOwner: null, lastRunStatus: 'failed' });
  });
}

describe.each(FAMILY_CASES)('credentials refused when a $name run starts', refusedAtStartOf);
describe.each(LAGGING_CASES)(
  'credentials refused when a $name run starts, read from a replica that lags',
  refusedAtStartOf,
);

function refusedAtStartOf(c: FamilyCase): void {
  const h = useCaseHarness(c, { size: { roots: 20, childrenPerRoot: 1 } });

  it('stop the run at once with ODOO_AUTH', async () => {
    const control = h.sandbox.control;
    control.setPassword('rotated-elsewhere');
    control.resetCalls();
    await expect(h.run('sync-run', { trigger: 'test' })).rejects.toThrow(/ODOO_AUTH/);
    const [last] = await h.runs();
    expect(last).toMatchObject({ family: c.name, status: 'failed' });
    expect(last!.errors[0]!.code).toBe('ODOO_AUTH');
    for (const model of caseModels(c)) expect(await h.watermark(model), model).toBeNull();
  });

  // The run's first call goes out alone: one refusal, not one per model and target.
  it('without a retry storm: at most three calls met the refused credentials', () => {
    const control = h.sandbox.control;
    // JSON-2 has no login: its first call, context_get, is the one that meets the revoked key.
    expect(
      control.countCalls({ method: 'authenticate' }) +
        control.countCalls({ method: 'context_get' }),
    ).toBeLessThanOrEqual(1);
    expect(control.countCalls()).toBeLessThanOrEqual(3);
  });
}
