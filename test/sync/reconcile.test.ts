import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import { BC_LINE_MODEL, BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import type { OdooSource } from '../../src/sync/odoo-source.js';
import { reconcile } from '../../src/sync/reconcile.js';
import { createSyncHarness, ODOO_PROTOCOLS, type SyncHarness } from '../helpers/sync-harness.js';

describe.each(ODOO_PROTOCOLS)('reconcile over %s', (protocol) => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      protocol,
      sandbox: { orders: 60, linesPerOrder: 4 },
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('archives a BC hard-deleted in Odoo (row kept, audit row) and deletes vanished lines', async () => {
    const c = h.sandbox.control;
    const [deletedBc, otherBc] = c.ids(BC_MODEL).slice(3, 5);
    const deletedLine = c.records(BC_LINE_MODEL, { load: '' }).find((l) => l.bc_id === otherBc)!.id;
    c.unlink(BC_MODEL, deletedBc!);
    // A line deleted without its BC's write_date moving: invisible to the write_date scan.
    c.unlink(BC_LINE_MODEL, deletedLine);

    const result = await h.run('reconcile', { trigger: 'test' });
    expect(result).toMatchObject({ status: 'succeeded', archived: 1, childrenDeleted: 1 });

    const row = (await h.bcRows()).find((bc) => bc.odooId === deletedBc)!;
    expect(row.archivedAt).not.toBeNull();
    expect(row.archiveReason).toBe('deleted in Odoo');
    expect((await h.lineRows()).some((l) => l.odooId === deletedLine)).toBe(false);
    const audits = await h.auditRows();
    expect(audits.filter((a) => a.action === 'archived').map((a) => a.odooId)).toEqual([deletedBc]);
    expect(audits.filter((a) => a.action === 'deleted').map((a) => a.odooId)).toEqual([
      deletedLine,
    ]);
    expect(await h.diffWithSandbox()).toEqual([]);

    const again = await h.run('reconcile', { trigger: 'test' });
    expect(again).toMatchObject({ archived: 0, childrenDeleted: 0 });
  });

  it('restores an archived BC that Odoo lists again', async () => {
    const c = h.sandbox.control;
    const [hidden] = c.ids(BC_MODEL).slice(10, 11);
    c.hide(BC_MODEL, hidden!);
    expect(await h.run('reconcile', { trigger: 'test' })).toMatchObject({ archived: 1 });
    c.unhide(BC_MODEL, hidden!);
    expect(await h.run('reconcile', { trigger: 'test' })).toMatchObject({ restored: 1 });
    const row = (await h.bcRows()).find((bc) => bc.odooId === hidden)!;
    expect(row.archivedAt).toBeNull();
    expect(
      (await h.auditRows())
        .filter((a) => a.odooId === hidden && a.model === BC_MODEL)
        .map((a) => a.action),
    ).toEqual(['created', 'archived', 'restored']);
  });

  it('refuses to archive most of the table when Odoo suddenly lists far fewer BCs', async () => {
    const c = h.sandbox.control;
    const visible = c.ids(BC_MODEL);
    c.hide(BC_MODEL, visible.slice(0, Math.ceil(visible.length * 0.8)));
    const before = (await h.bcRows()).filter((bc) => bc.archivedAt).length;
    await expect(h.run('reconcile', { trigger: 'test' })).rejects.toThrow(
      /SYNC_RECONCILE_SAFETY_STOP/,
    );
    expect((await h.bcRows()).filter((bc) => bc.archivedAt).length).toBe(before);
    c.unhide(BC_MODEL, visible);
  });
});

describe('reconcile heals what slipped through', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 60, linesPerOrder: 4 } });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('brings back a BC the copy lost, and reads again BCs and lines whose stamps differ', async () => {
    const c = h.sandbox.control;
    const [lost, staleBc, staleLineOf] = c.ids(BC_MODEL).slice(5, 8);
    const staleLine = (await h.copyOf(staleLineOf!)).lines[0]!.odooId;
    // Losses an incremental run can no longer see: outside every window from now on.
    await h.db.db.execute(sql`delete from scrap_dimagaz_bc where odoo_id = ${lost!}`);
    await h.db.db.execute(sql`
      update scrap_dimagaz_bc set origin = 'stale', odoo_write_date = odoo_write_date - interval '1 day',
        data = jsonb_set(data, '{origin}', '"stale"') where odoo_id = ${staleBc!}`);
    await h.db.db.execute(sql`
      update scrap_dimagaz_bc_line set name = 'stale', odoo_write_date = odoo_write_date - interval '1 day',
        data = jsonb_set(data, '{name}', '"stale"') where odoo_id = ${staleLine}`);

    const result = await h.run('reconcile', { trigger: 'test' });
    expect(result).toMatchObject({ status: 'succeeded', created: 1, updated: 2, archived: 0 });
    expect(await h.diffWithSandbox()).toEqual([]);
    expect((await h.copyOf(lost!)).lines).toHaveLength(4);
    await expect(h.run('reconcile', { trigger: 'test' })).resolves.toMatchObject({
      created: 0,
      updated: 0,
      archived: 0,
    });
  });

  it('archives in the same run a BC deleted between the scan and the read', async () => {
    const c = h.sandbox.control;
    const target = c.ids(BC_MODEL)[12]!;
    await h.db.db.execute(sql`
      update scrap_dimagaz_bc set odoo_write_date = odoo_write_date - interval '1 day'
      where odoo_id = ${target}`);
    const slow = c.injectFault({
      kind: 'latency',
      latencyMs: 200,
      method: 'read',
      model: BC_MODEL,
    });
    const read = c.waitForCall({ method: 'read', model: BC_MODEL });
    const job = await h.add('reconcile', { trigger: 'test' });
    await read;
    c.unlink(BC_MODEL, target);
    await expect(h.wait(job)).resolves.toMatchObject({ status: 'succeeded', archived: 1 });
    slow.remove();
    const row = (await h.copyOf(target)).bc!;
    expect(row.archivedAt).not.toBeNull();
    expect(row.archiveReason).toBe('deleted in Odoo');
  });

  it('the safety stop compares what both hold: many new BCs in Odoo cannot mask a mass disappearance', async () => {
    const c = h.sandbox.control;
    const live = (await h.bcRows()).filter((bc) => !bc.archivedAt).map((bc) => bc.odooId);
    const partner = c.records(BC_MODEL, { load: '', ids: [live[0]!] })[0]!.partner_id;
    const hidden = live.slice(0, Math.ceil(live.length * 0.8));
    c.hide(BC_MODEL, hidden);
    // Odoo lists as many BCs as before, but most are not the ones the copy holds.
    for (let i = 0; i < hidden.length; i += 1)
      c.create(BC_MODEL, { name: `NEW${i}`, partner_id: partner, state: 'draft' });
    await expect(h.run('reconcile', { trigger: 'test' })).rejects.toThrow(
      /SYNC_RECONCILE_SAFETY_STOP/,
    );
    expect((await h.bcRows()).filter((bc) => hidden.includes(bc.odooId) && bc.archivedAt)).toEqual(
      [],
    );
    c.unhide(BC_MODEL, hidden);
  });
});

describe('a reconcile run twice (its job ran again while the first execution went on)', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    // Scans of 10 records: Odoo's 60 BCs come in six pages, so a stage can be half-filled.
    h = await createSyncHarness({
      sandbox: { orders: 60, linesPerOrder: 2 },
      scanPageSize: 10,
      jobLockMs: 1_000,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  /** The sync's Odoo source, holding the `nth` scan call on `model` until `release()`. */
  function holding(source: OdooSource, model: string, nth: number) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const held = new Promise<void>((resolve) => (reached = resolve));
    let calls = 0;
    const gated: OdooSource = {
      ...source,
      searchRead: async (called, ...rest) => {
        if (called === model && (calls += 1) === nth) {
          reached();
          await released;
        }
        return source.searchRead(called, ...rest);
      },
    };
    return { source: gated, held, release };
  }

  it('the first execution archives nothing Odoo has, whatever the second one staged', async () => {
    const input = {
      family: bcsFamily,
      trigger: 'test',
      owner: 'reconcile-job-7',
      scheduled: false,
    };
    // The first execution has listed every BC and waits on its line scan.
    const first = holding(h.runtime.sync.odoo, BC_LINE_MODEL, 1);
    const firstEnded = reconcile({ ...h.runtime.sync, odoo: first.source }, input).then(
      (outcome) => outcome,
      (error: Error) => error,
    );
    await first.held;
    // BullMQ runs the job again: same owner, same run row. It has listed 40 of the 60 BCs when
    // the first one goes on: enough for the safety stop, far from all.
    const second = holding(h.runtime.sync.odoo, BC_MODEL, 5);
    const secondEnded = reconcile({ ...h.runtime.sync, odoo: second.source }, input);
    await second.held;
    first.release();
    expect(await firstEnded).toMatchObject({ code: 'SYNC_LEASE_LOST' });
    expect((await h.bcRows()).filter((bc) => bc.archivedAt)).toEqual([]);
    second.release();
    await expect(secondEnded).resolves.toMatchObject({ status: 'succeeded', archived: 0 });
    expect((await h.bcRows()).filter((bc) => bc.archivedAt)).toEqual([]);
    expect(await h.diffWithSandbox()).toEqual([]);
    expect((await h.runs())[0]).toMatchObject({ kind: 'reconcile', status: 'succeeded' });
  });

  it('a job whose lock renewal fails is cancelled: its Odoo call is aborted, not waited for', async () => {
    const c = h.sandbox.control;
    const slow = c.injectFault({
      kind: 'latency',
      latencyMs: 20_000,
      method: 'search_read',
      model: BC_LINE_MODEL,
    });
    const lineScan = c.waitForCall({ method: 'search_read', model: BC_LINE_MODEL });
    const job = await h.add('reconcile', { trigger: 'test' });
    await lineScan;
    slow.remove();
    // Its lock goes (as when Redis was away longer than the lock): the next renewal fails.
    const redis = new Redis(inject('redisUrl'));
    await redis.del(`${h.prefix}:${job.queueName}:${job.id}:lock`);
    await redis.quit();
    // The execution stops at once: its run ends failed, its Odoo call aborted (not 20 s later).
    await vi.waitFor(
      async () =>
        expect((await h.runs()).find((run) => run.status === 'failed')?.errors).toEqual([
          expect.objectContaining({ code: 'ODOO_ABORTED' }),
        ]),
      { timeout: 10_000, interval: 100 },
    );
    // BullMQ runs the job again (stalled): that execution reconciles.
    await expect(h.wait(job)).resolves.toMatchObject({ status: 'succeeded' });
    expect(await h.diffWithSandbox()).toEqual([]);
  });
});
