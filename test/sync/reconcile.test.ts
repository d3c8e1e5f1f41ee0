/**
 * The reconcile, in every family (test/helpers/family-cases.ts), heals what the incremental runs
 * let slip, and archives only what Odoo confirms is gone: a root deleted in Odoo is archived (its
 * row kept), a child gone is deleted, a root hidden then listed again is restored, a root the
 * copy lost or holds at another stamp is read again; a read that drops a root, a stage that
 * lacks it (a second execution's) or an archive flag in Odoo is never reason enough; the safety
 * stop holds; and a reconcile whose job lost its lock stops at once.
 */
import { Redis } from 'ioredis';
import { describe, expect, inject, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import type { ModelDeclaration } from '../../src/families/family.js';
import type { OdooSource } from '../../src/sync/odoo-source.js';
import { reconcile } from '../../src/sync/reconcile.js';
import {
  childIdsOf,
  FAMILY_CASES,
  POSTGRES_QUEUE_CASES,
  LAGGING_CASES,
  type FamilyCase,
  PARTNERS_CASE,
  useCaseHarness,
} from '../helpers/family-cases.js';
import { copyOfRoot, copyRows } from '../helpers/family-copy.js';

function reconcileOf(c: FamilyCase): void {
  const h = useCaseHarness(c, { size: { roots: 60, childrenPerRoot: 4 }, copied: true });

  const copyOf = (id: number) => copyOfRoot(h.db.db, h.family, id);
  const archivedIds = async () =>
    (await copyRows(h.db.db, h.family.root))
      .filter((row) => row.archived_at !== null)
      .map((row) => row.odoo_id);
  /** A copy row made stale the way only a lost write can: another value, a day older. */
  const makeStale = async (model: ModelDeclaration, odooId: number, field?: string) => {
    const set = field
      ? sql`${sql.identifier(field)} = 'stale', data = jsonb_set(data, ${`{${field}}`}::text[], '"stale"'),`
      : sql``;
    await h.db.db.execute(sql`
      update ${sql.identifier(model.table.name)}
      set ${set} odoo_write_date = odoo_write_date - interval '1 day'
      where odoo_id = ${odooId}`);
  };
  const reconcileReport = () => h.run('reconcile', { trigger: 'test' });

  it('archives a root deleted in Odoo (row and children kept, audit row) and deletes a vanished child', async () => {
    const control = h.sandbox.control;
    const [deleted, other] = c.standalone(control).slice(3, 5);
    const keptChildren = childIdsOf(control, c, deleted!);
    let vanished: number | undefined;
    if (c.childModel) {
      // A child whose deletion moves none of its root's stamps: no incremental run can see it.
      vanished = childIdsOf(control, c, other!)[0]!;
      c.quietChild(control, vanished);
      await h.run('sync-run', { trigger: 'test' });
      const stampBefore = control.writeDateMicros(c.rootModel, other!);
      control.unlink(c.childModel, vanished);
      expect(control.writeDateMicros(c.rootModel, other!)).toBe(stampBefore);
    }
    control.unlink(c.rootModel, deleted!);
    const auditsBefore = (await h.auditRows()).length;

    const result = await reconcileReport();
    expect(result).toMatchObject({
      status: 'succeeded',
      archived: 1,
      childrenDeleted: vanished === undefined ? 0 : 1,
    });
    const { root, children } = await copyOf(deleted!);
    expect(root).toMatchObject({ archive_reason: 'deleted in Odoo' });
    expect(root!.archived_at).not.toBeNull();
    expect((children[0] ?? []).map((row) => row.odoo_id)).toEqual(keptChildren);
    const audits = (await h.auditRows()).slice(auditsBefore);
    expect(audits.filter((a) => a.action === 'archived').map((a) => a.odooId)).toEqual([deleted]);
    expect(audits.filter((a) => a.action === 'deleted').map((a) => a.odooId)).toEqual(
      vanished === undefined ? [] : [vanished],
    );
    expect(await h.diffWithSandbox()).toEqual([]);

    await expect(reconcileReport()).resolves.toMatchObject({ archived: 0, childrenDeleted: 0 });
  });

  it('restores an archived root that Odoo lists again', async () => {
    const control = h.sandbox.control;
    const hidden = c.standalone(control)[10]!;
    control.hide(c.rootModel, hidden);
    await expect(reconcileReport()).resolves.toMatchObject({ archived: 1 });
    control.unhide(c.rootModel, hidden);
    await expect(reconcileReport()).resolves.toMatchObject({ restored: 1 });
    expect((await copyOf(hidden)).root!.archived_at).toBeNull();
    expect(
      (await h.auditRows())
        .filter((a) => a.odooId === hidden && a.model === c.rootModel)
        .map((a) => a.action),
    ).toEqual(['created', 'archived', 'restored']);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('brings back a root the copy lost, and reads again roots and children whose stamps differ', async () => {
    const control = h.sandbox.control;
    const [lost, staleRoot, staleChildOf] = c.standalone(control).slice(5, 8);
    // Losses an incremental run can no longer see: outside every window from now on.
    await h.db.db.execute(
      sql`delete from ${sql.identifier(h.family.root.table.name)} where odoo_id = ${lost!}`,
    );
    await makeStale(h.family.root, staleRoot!, c.rootText);
    const child = h.family.children[0];
    if (child) await makeStale(child, childIdsOf(control, c, staleChildOf!)[0]!, c.childText);

    const result = await reconcileReport();
    expect(result).toMatchObject({
      status: 'succeeded',
      created: 1,
      updated: child ? 2 : 1,
      archived: 0,
    });
    expect(await h.diffWithSandbox()).toEqual([]);
    expect((await copyOf(lost!)).children.map((rows) => rows.length)).toEqual(
      child ? [childIdsOf(control, c, lost!).length] : [],
    );
    await expect(reconcileReport()).resolves.toMatchObject({
      created: 0,
      updated: 0,
      archived: 0,
    });
  });

  it('archives in the same run a root deleted between the scan and the read', async () => {
    const control = h.sandbox.control;
    const target = c.standalone(control)[12]!;
    await makeStale(h.family.root, target);
    const { job, slow } = await h.addWhileReading(
      'reconcile',
      { trigger: 'test' },
      { model: c.rootModel, latencyMs: 200 },
    );
    control.unlink(c.rootModel, target);
    // A replica that lags shows the deletion only after this run: the next one archives it.
    const lagging = c.replicaLagMs !== undefined;
    await expect(h.wait(job)).resolves.toMatchObject({
      status: 'succeeded',
      archived: lagging ? 0 : 1,
    });
    slow.remove();
    if (lagging) await expect(reconcileReport()).resolves.toMatchObject({ archived: 1 });
    expect((await copyOf(target)).root).toMatchObject({ archive_reason: 'deleted in Odoo' });
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('does not archive a root that a read dropped while a search still finds it', async () => {
    const control = h.sandbox.control;
    const target = c.standalone(control)[13]!;
    await makeStale(h.family.root, target, c.rootText);
    // Odoo's read drops ids it does not give (deleted, or so it seems): the reconcile reads the
    // stale root again, and this read leaves it out.
    const source = h.runtime.sync.odoo;
    const dropping: OdooSource = {
      ...source,
      read: async (model, ids, ...rest) => {
        const records = await source.read(model, ids, ...rest);
        return model === c.rootModel ? records.filter((record) => record.id !== target) : records;
      },
      // The roots read with their children, in one call (docs/odoo.md).
      readTree: async (model, ids, ...rest) => {
        const tree = await source.readTree!(model, ids, ...rest);
        if (tree === undefined || model !== c.rootModel) return tree;
        return { ...tree, records: tree.records.filter((record) => record.id !== target) };
      },
    };
    const input = {
      family: h.family,
      trigger: 'test',
      owner: 'reconcile-dropping',
      scheduled: false,
    };
    await expect(reconcile({ ...h.runtime.sync, odoo: dropping }, input)).resolves.toMatchObject({
      status: 'succeeded',
      archived: 0,
    });
    expect((await copyOf(target)).root!.archived_at).toBeNull();
    expect(await archivedIds()).not.toContain(target);

    await expect(reconcileReport()).resolves.toMatchObject({ updated: 1, archived: 0 });
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('refuses to archive most of the table when Odoo suddenly lists far fewer roots', async () => {
    const control = h.sandbox.control;
    const visible = control.ids(c.rootModel);
    control.hide(c.rootModel, visible.slice(0, Math.ceil(visible.length * 0.8)));
    const before = await archivedIds();
    await expect(reconcileReport()).rejects.toThrow(/SYNC_RECONCILE_SAFETY_STOP/);
    expect(await archivedIds()).toEqual(before);
    control.unhide(c.rootModel, visible);
  });

  it('the safety stop compares what both hold: many new roots in Odoo cannot mask a mass disappearance', async () => {
    const control = h.sandbox.control;
    const live = (await copyRows(h.db.db, h.family.root))
      .filter((row) => row.archived_at === null)
      .map((row) => row.odoo_id);
    const hidden = live.slice(0, Math.ceil(live.length * 0.8));
    control.hide(c.rootModel, hidden);
    // Odoo lists as many roots as before, but most are not the ones the copy holds.
    for (let i = 0; i < hidden.length; i += 1) control.create(c.rootModel, c.newRoot(i, control));
    const before = await archivedIds();
    await expect(reconcileReport()).rejects.toThrow(/SYNC_RECONCILE_SAFETY_STOP/);
    expect(await archivedIds()).toEqual(before);
    control.unhide(c.rootModel, hidden);
  });

  it('a root archived in Odoo is copied inactive, never archived as deleted', async () => {
    if (!c.archivable) {
      // The row's root has no archive flag: a record is live until it is deleted.
      expect(h.family.root.activeField).toBeNull();
      return;
    }
    const control = h.sandbox.control;
    const target = c.standalone(control)[14]!;
    control.archive(c.rootModel, target);
    await h.run('sync-run', { trigger: 'test' });
    expect((await copyOf(target)).root).toMatchObject({ active: false, archived_at: null });
    await expect(reconcileReport()).resolves.toMatchObject({ archived: 0, updated: 0 });
    expect((await copyOf(target)).root).toMatchObject({ active: false, archived_at: null });
    expect(await h.diffWithSandbox()).toEqual([]);
  });
}

describe.each(FAMILY_CASES)('reconcile of $name', reconcileOf);
describe.each(POSTGRES_QUEUE_CASES)('reconcile of $name, its queues in PostgreSQL', reconcileOf);
describe.each(LAGGING_CASES)('reconcile of $name, read from a replica that lags', reconcileOf);

describe("reconcile of partners: a company's contacts", () => {
  const c = PARTNERS_CASE;
  const h = useCaseHarness(c, { size: { roots: 20 }, copied: true });

  /** A company without contacts, and a contact then added under it. */
  const companyWithNewContact = async () => {
    const control = h.sandbox.control;
    const [company] = control
      .records(c.rootModel, { ids: c.standalone(control), fields: ['is_company'] })
      .filter((partner) => partner.is_company === true);
    const contact = control.create(c.rootModel, { name: 'Nadia Tazi', parent_id: company!.id });
    await h.run('sync-run', { trigger: 'test' });
    await h.run('reconcile', { trigger: 'test' });
    return { company: company!.id, contact };
  };

  it('a contact added under a company is copied by the next run', async () => {
    const { contact, company } = await companyWithNewContact();
    const { root } = await copyOfRoot(h.db.db, h.family, contact);
    expect(root).toMatchObject({ parent_id: company, archived_at: null });
    expect(h.sandbox.control.records(c.rootModel, { ids: [company] })[0]!.child_ids).toEqual([
      contact,
    ]);
  });

  // Odoo does not stamp a company when a contact is added under it (a one2many is its comodel's
  // many2one): no run would write the company's `child_ids` again, so the copy does not keep it
  // in `data` (the contacts' parent_id holds the relation). A configured family keeps it current
  // in a link table (test/sync/configured-families.test.ts).
  it("the company's copy holds its contact list current, or does not hold it", async () => {
    const { company, contact } = await companyWithNewContact();
    const { root } = await copyOfRoot(h.db.db, h.family, company);
    expect([undefined, [contact]]).toContainEqual(root!.data.child_ids);
    expect(await h.diffWithSandbox()).toEqual([]);
  });
});

describe.each(FAMILY_CASES)(
  'a $name reconcile run twice (its job ran again while the first execution went on)',
  (c) => {
    // Scans of 10 records: Odoo's 60 roots come in six pages, so a stage can be half-filled.
    const h = useCaseHarness(c, {
      size: { roots: 60, childrenPerRoot: 2 },
      scanPageSize: 10,
      jobLockMs: 1_000,
      copied: true,
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
    /**
     * The scan the first execution waits in: its children's, once it has listed every root; a
     * root alone, its last page of roots.
     */
    const lateScan = () =>
      c.childModel === undefined
        ? {
            model: c.rootModel,
            nth: Math.ceil(h.sandbox.control.ids(c.rootModel).length / 10),
          }
        : { model: c.childModel, nth: 1 };

    it('the first execution archives nothing Odoo has, whatever the second one staged', async () => {
      const input = {
        family: h.family,
        trigger: 'test',
        owner: 'reconcile-job-7',
        scheduled: false,
      };
      const archived = async () =>
        (await copyRows(h.db.db, h.family.root)).filter((row) => row.archived_at !== null);
      const late = lateScan();
      const first = holding(h.runtime.sync.odoo, late.model, late.nth);
      const firstEnded = reconcile({ ...h.runtime.sync, odoo: first.source }, input).then(
        (outcome) => outcome,
        (error: Error) => error,
      );
      await first.held;
      // BullMQ runs the job again: same owner, same run row. It has listed 40 of the 60 roots
      // when the first one goes on: enough for the safety stop, far from all.
      const second = holding(h.runtime.sync.odoo, c.rootModel, 5);
      const secondEnded = reconcile({ ...h.runtime.sync, odoo: second.source }, input);
      await second.held;
      first.release();
      expect(await firstEnded).toMatchObject({ code: 'SYNC_LEASE_LOST' });
      expect(await archived()).toEqual([]);
      second.release();
      await expect(secondEnded).resolves.toMatchObject({ status: 'succeeded', archived: 0 });
      expect(await archived()).toEqual([]);
      expect(await h.diffWithSandbox()).toEqual([]);
      expect((await h.runs())[0]).toMatchObject({
        family: c.name,
        kind: 'reconcile',
        status: 'succeeded',
      });
    });

    it('a job whose lock renewal fails is cancelled: its Odoo call is aborted, not waited for', async () => {
      const { model } = lateScan();
      const { job, slow } = await h.addWhileReading(
        'reconcile',
        { trigger: 'test' },
        {
          model,
          method: 'search_read',
          latencyMs: 20_000,
        },
      );
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
  },
);
