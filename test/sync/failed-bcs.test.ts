/**
 * A BC that fails must fail alone, and never fall through: it is in the copy or in
 * sync_failure, whatever broke (Odoo, the data, PostgreSQL), and the watermark never moves past
 * a BC that is in neither. What the failures leave in Redis stays small.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { createSyncHarness, ODOO_PROTOCOLS, type SyncHarness } from '../helpers/sync-harness.js';

const linesOf = (h: SyncHarness, bcId: number) =>
  h.sandbox.control
    .records(BC_LINE_MODEL, { load: '' })
    .filter((line) => line.bc_id === bcId)
    .map((line) => line.id);

describe('a failed BC never falls through', () => {
  let h: SyncHarness;
  const clock = createManualClock(new Date('2026-03-02T08:00:00.250Z'));
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 40, linesPerOrder: 2, clock: clock.source },
      pageSize: 10,
      overlapSeconds: 60,
      jobAttempts: 1,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('a BC whose failure cannot be recorded (PostgreSQL away) is not left behind the watermark', async () => {
    const c = h.sandbox.control;
    const [failing, later, after] = c.ids(BC_MODEL, { activeOnly: true });
    clock.advanceMs(60_000);
    c.write(BC_MODEL, failing!, { origin: 'changed, then failed' });
    clock.advanceMs(5 * 60_000);
    c.write(BC_MODEL, later!, { origin: 'changed five minutes later' });
    const fault = c.injectFault({
      kind: 'fault',
      faultCode: 2,
      message: 'Broken computed field',
      method: 'read',
      recordId: failing!,
      times: Infinity,
    });
    // PostgreSQL loses the table once the run has started, until the run is over.
    const slow = c.injectFault({
      kind: 'latency',
      latencyMs: 200,
      method: 'read',
      model: BC_MODEL,
    });
    const pageRead = c.waitForCall({ method: 'read', model: BC_MODEL });
    const run = await h.add('sync-run', { trigger: 'test' });
    await pageRead;
    await h.db.db.execute(sql`alter table sync_failure rename to sync_failure_away`);
    try {
      await h.wait(run).catch(() => undefined);
    } finally {
      await h.db.db.execute(sql`alter table sync_failure_away rename to sync_failure`);
    }
    slow.remove();
    fault.remove();
    // Later changes move the watermark on, well past the failed BC's stamp.
    clock.advanceMs(10 * 60_000);
    c.write(BC_MODEL, after!, { origin: 'much later' });
    await h.run('sync-run', { trigger: 'test' });
    await h.run('sync-run', { trigger: 'test' });
    expect((await h.copyOf(failing!)).bc!.origin).toBe('changed, then failed');
    expect(await h.diffWithSandbox()).toEqual([]);
  });
});

describe.each(ODOO_PROTOCOLS)('one poison BC cannot freeze the sync over %s', (protocol) => {
  let h: SyncHarness;
  const clock = createManualClock(new Date('2026-03-02T08:00:00.250Z'));
  beforeAll(async () => {
    h = await createSyncHarness({
      protocol,
      sandbox: { orders: 60, linesPerOrder: 2, clock: clock.source },
      pageSize: 20,
      jobAttempts: 2,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('a BC whose read resets the connection fails alone; its page and the watermark go on', async () => {
    const c = h.sandbox.control;
    const ids = c.ids(BC_MODEL).slice(0, 20);
    const poison = ids[5]!;
    clock.advanceMs(60_000);
    for (const id of ids) c.write(BC_MODEL, id, { origin: `edited ${id}` });
    const before = (await h.watermark())!;
    const fault = c.injectFault({
      kind: 'reset',
      method: 'read',
      recordId: poison,
      times: Infinity,
    });

    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'partial',
      counts: expect.objectContaining({ failed: 1 }),
    });
    expect((await h.failures()).map((f) => [f.odooId, f.errorCode])).toEqual([
      [poison, 'ODOO_NETWORK'],
    ]);
    for (const id of ids.filter((id) => id !== poison))
      expect((await h.copyOf(id)).bc!.origin).toBe(`edited ${id}`);
    expect((await h.watermark())!.getTime()).toBeGreaterThan(before.getTime());

    fault.remove();
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    expect(await h.failures()).toEqual([]);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a BC with an empty write_date fails alone, and a line without its BC is skipped', async () => {
    const c = h.sandbox.control;
    const [broken, orphanOwner, healthy] = c.ids(BC_MODEL).slice(30, 33);
    clock.advanceMs(60_000);
    // Both are in the run's window through a line of theirs, then broken the way only SQL can.
    c.write(BC_LINE_MODEL, linesOf(h, broken!)[0]!, { qty_received: 3 });
    c.corrupt(BC_MODEL, broken!, { write_date: null });
    const orphan = linesOf(h, orphanOwner!)[0]!;
    c.write(BC_LINE_MODEL, orphan, { qty_received: 4 });
    c.corrupt(BC_LINE_MODEL, orphan, { bc_id: null });
    c.write(BC_MODEL, healthy!, { origin: 'healthy and changed' });
    const before = (await h.watermark())!;

    const result = await h.run('sync-run', { trigger: 'test' });
    expect(result).toMatchObject({
      status: 'partial',
      counts: expect.objectContaining({ failed: 1 }),
    });
    expect((await h.failures()).map((f) => [f.odooId, f.errorCode])).toEqual([
      [broken, 'SYNC_BAD_RECORD'],
    ]);
    expect((await h.copyOf(healthy!)).bc!.origin).toBe('healthy and changed');
    expect((await h.watermark())!.getTime()).toBeGreaterThan(before.getTime());
    // Still broken: the next runs retry it and go on.
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'partial',
    });
  });
});

describe('bounded state in Redis', () => {
  let h: SyncHarness;
  const clock = createManualClock(new Date('2026-03-02T08:00:00.250Z'));
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 500, linesPerOrder: 1, clock: clock.source },
      pageSize: 20,
      jobAttempts: 1,
      failureBackoffBaseMs: 3_600_000,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  const jobSizes = async () => {
    const sizes: { name: string; data: number; ids: number; result: number }[] = [];
    for (const queue of h.runtime.queues.all) {
      for (const job of await queue.getJobs(['completed', 'failed', 'waiting', 'delayed'])) {
        const data = job.data as { ids?: number[] };
        sizes.push({
          name: job.name,
          data: JSON.stringify(job.data).length,
          ids: JSON.stringify(data.ids ?? []).length,
          result: JSON.stringify(job.returnvalue ?? null).length,
        });
      }
    }
    return sizes;
  };

  it('400 failing BCs: job data and results stay small, errors are capped, failures back off', async () => {
    const c = h.sandbox.control;
    const failing = c.ids(BC_MODEL).slice(0, 400);
    // A line change lists each BC; a record rule then refuses every read of it (fault 4).
    for (const id of failing) c.write(BC_LINE_MODEL, linesOf(h, id)[0]!, { qty_received: 1 });
    c.hide(BC_MODEL, failing);

    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'partial',
      counts: expect.objectContaining({ failed: 400 }),
    });
    // Later changes move the window past them: from now on only their retries read them.
    clock.advanceMs(20 * 60_000);
    const unrelated = c.ids(BC_MODEL).at(-1)!;
    c.write(BC_MODEL, unrelated, { origin: 'unrelated, later' });
    c.write(BC_LINE_MODEL, linesOf(h, unrelated)[0]!, { qty_received: 2 });
    // The next run retries them all, each on its own; they fail again.
    const second = await h.run('sync-run', { trigger: 'test' });
    expect(second).toMatchObject({
      status: 'partial',
      counts: expect.objectContaining({ failed: 400 }),
    });
    expect((second.errors as unknown[]).length).toBeLessThanOrEqual(20);

    for (const size of await jobSizes()) {
      // Whatever fails, a job carries its own ids and a few hundred bytes more.
      expect(size.data - size.ids, `${size.name} data`).toBeLessThan(2_500);
      expect(size.result, `${size.name} result`).toBeLessThan(6_000);
    }
    const [run] = await h.runs();
    expect(run!.errors.length).toBeLessThanOrEqual(20);
    const failures = await h.failures();
    expect(failures).toHaveLength(400);
    expect(failures.every((f) => f.attempts === 2 && f.error.length <= 300)).toBe(true);
    // A third run comes before their backoff is over: they wait, nothing is retried.
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    expect((await h.failures()).every((f) => f.attempts === 2)).toBe(true);
    c.unhide(BC_MODEL, failing);
  });
});
