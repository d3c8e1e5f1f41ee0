/**
 * The verify proves the copy equal to Odoo by content, in every family
 * (test/helpers/family-cases.ts). Each loss below slips past every cursor — the incremental runs
 * and the reconcile compare stamps — and each test first shows the copy wrong after them, then
 * exact after one `verify --all`, with a `drift` audit row and the run's counts. A verify of an
 * exact copy writes nothing; the nightly slices cover every record once per cycle. (A field Odoo
 * adds, which moves no stamp: test/sync/schema-changes.test.ts.)
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { familyModels } from '../../src/families/family.js';
import { mapRoot } from '../../src/families/map-record.js';
import { buildApp } from '../../src/http/app.js';
import { readRootPage } from '../../src/sync/root-pages.js';
import type { OdooSource } from '../../src/sync/odoo-source.js';
import { verify } from '../../src/sync/verify.js';
import { writeRoots } from '../../src/sync/write-records.js';
import {
  caseCopy,
  childIdsOf,
  FAMILY_CASES,
  POSTGRES_QUEUE_CASES,
  LAGGING_CASES,
  useCaseHarness,
  type FamilyCase,
} from '../helpers/family-cases.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

interface VerifyResult {
  status: string;
  scope: unknown;
  recordsSeen: number;
  drifted: number;
  healed: number;
  driftFields: Record<string, Record<string, number>>;
}

function verifiedByContent(c: FamilyCase): void {
  const clock = createManualClock(new Date('2026-03-02T08:00:00.100Z'));
  const control = () => h.sandbox.control;
  const copy = () => caseCopy(h, c);
  const verifyAll = async () =>
    (await h.run('verify', { trigger: 'test', all: true })) as unknown as VerifyResult;
  const driftRows = async () => (await h.auditRows()).filter((row) => row.action === 'drift');
  /**
   * What a verify finds when a root's text alone differs, in a version of the same second: the
   * root's field, and where its children hold the text (its display name in their link, a
   * related copy), theirs — not their stamps, of that same second.
   */
  const textDrift = (id: number) => {
    const inChildren = c.rootTextInChild.filter((field) => field !== 'write_date');
    return {
      [c.rootModel]: { [c.rootText]: 1 },
      ...(c.childModel === undefined || inChildren.length === 0
        ? {}
        : {
            [c.childModel]: Object.fromEntries(
              inChildren.map((field) => [field, childIdsOf(control(), c, id).length]),
            ),
          }),
    };
  };

  const h = useCaseHarness(c, {
    size: { roots: 30, childrenPerRoot: 3 },
    sandbox: { clock: clock.source },
    overlapSeconds: 60,
    pageSize: 10,
    copied: true,
  });

  it('finds nothing to do in an exact copy, and writes nothing', async () => {
    const audit = (await h.auditRows()).length;
    const result = await verifyAll();
    expect(result).toMatchObject({
      status: 'succeeded',
      scope: 'all',
      recordsSeen: control().ids(c.rootModel).length,
      drifted: 0,
      healed: 0,
      driftFields: {},
    });
    expect((await h.auditRows()).length).toBe(audit);
    const [run] = await h.runs();
    expect(run).toMatchObject({ kind: 'verify', status: 'succeeded', drifted: 0, healed: 0 });
  });

  it('heals a second version committed in the same second by a transaction longer than the overlap', async () => {
    const [id, other] = c.standalone(control());
    clock.advanceMs(60_000);
    // A long transaction starts (its stamp is its start), then a quick write lands in the same
    // second and is copied.
    const long = control().begin();
    clock.advanceMs(200);
    control().write(c.rootModel, id!, { [c.rootText]: 'first version' });
    await h.run('sync-run', { trigger: 'test' });
    // Later changes move the watermark on; the long transaction commits ten minutes later.
    clock.advanceMs(5 * 60_000);
    control().write(c.rootModel, other!, { [c.rootText]: 'a later change' });
    await h.run('sync-run', { trigger: 'test' });
    clock.advanceMs(5 * 60_000);
    long.write(c.rootModel, id!, { [c.rootText]: 'second version, same second' });
    long.commit();
    await h.run('sync-run', { trigger: 'test' });
    await h.run('reconcile', { trigger: 'test' });
    // Every cursor missed it: equal stamps, a window long gone.
    expect(await copy().rootText(id!)).toBe('first version');

    const result = await verifyAll();
    expect(result).toMatchObject({ drifted: 1, healed: 1, driftFields: textDrift(id!) });
    expect(await copy().rootText(id!)).toBe('second version, same second');
    expect(await h.diffWithSandbox()).toEqual([]);
    expect((await driftRows()).filter((row) => row.model === c.rootModel).at(-1)).toMatchObject({
      model: c.rootModel,
      odooId: id,
      action: 'drift',
      changedFields: [c.rootText],
      trigger: 'verify',
    });
  });

  // Not a case of the lagging rows: the stalled job must read the first of two commits of one
  // second before the second one commits, and a replica that lags shows neither by then.
  if (c.replicaLagMs === undefined)
    it('heals a stale write of an equal stamp by an unfenced writer', async () => {
      const id = c.standalone(control())[3]!;
      clock.advanceMs(60_000);
      control().write(c.rootModel, id, { [c.rootText]: 'read by a stalled job' });
      // A resync job reads this version, then stalls before its write...
      const schema = await h.runtime.sync.schema(h.family, h.odoo);
      const read = await readRootPage(h.odoo, h.family, [id], schema);
      const stale = mapRoot(h.family, read.items[0]!);
      // ...while a second commit of the same second is copied by a run...
      clock.advanceMs(100);
      control().write(c.rootModel, id, { [c.rootText]: 'the last version' });
      await h.run('sync-run', { trigger: 'test' });
      expect(await copy().rootText(id)).toBe('the last version');
      // ...then the job commits what it read: equal stamps, other data, no lease to fence it.
      await writeRoots(h.db.db, h.family, [stale], { runId: null, lease: null, trigger: 'resync' });
      await h.run('reconcile', { trigger: 'test' });
      expect(await copy().rootText(id)).toBe('read by a stalled job');

      expect(await verifyAll()).toMatchObject({ drifted: 1, healed: 1 });
      expect(await copy().rootText(id)).toBe('the last version');
      expect(await h.diffWithSandbox()).toEqual([]);
    });

  // Not a case of the lagging rows: its runs must settle every record first, and with reads that
  // lag the records changed last are read by each run (docs/odoo.md, "Reads from a replica"), so
  // a run heals some of the names before the verify.
  if (c.replicaLagMs === undefined)
    it('heals a renamed target: the display names the records carry', async () => {
      const { field } = c.renamable;
      const model = familyModels(h.family).find((m) => m.model === c.renamable.model)!;
      const nameColumn = model.columns.find((column) => column.field === field)!.nameColumn!;
      const relation = control().field(model.model, field)!.relation!;
      const [record] = control()
        .records(model.model, { fields: [field] })
        .filter((r) => r[field] !== false);
      const [targetId, before] = record![field] as [number, string];
      // Past the overlap of every earlier change, and a run that settles them: from now on no run
      // reads again a record that holds the name.
      clock.advanceMs(10 * 60_000);
      await h.run('sync-run', { trigger: 'test' });
      // Renamed in the sync user's language (the sandbox's is French), as its reads see it.
      control().write(relation, targetId, { name: `${before} (renommé)` }, { lang: 'fr_FR' });
      const renamed = (
        control().records(model.model, { ids: [record!.id], fields: [field] })[0]![field] as [
          number,
          string,
        ]
      )[1];
      expect(renamed).not.toBe(before);
      await h.run('sync-run', { trigger: 'test' });
      await h.run('reconcile', { trigger: 'test' });
      const table = sql.identifier(model.table.name);
      const names = async () =>
        rowsOf<{ name: string }>(
          await h.db.db.execute(
            sql`select distinct ${sql.identifier(nameColumn)} as name from ${table}
              where ${sql.identifier(model.columns.find((column) => column.field === field)!.column)} = ${targetId}`,
          ),
        ).map((row) => row.name);
      expect(await names()).toEqual([before]);
      const stale = rowsOf<{ n: number }>(
        await h.db.db.execute(
          sql`select count(*)::int as n from ${table} where ${sql.identifier(nameColumn)} = ${before}`,
        ),
      )[0]!.n;
      expect(stale).toBeGreaterThan(0);

      const result = await verifyAll();
      expect(result.driftFields[model.model]).toEqual({ [field]: stale });
      expect(await names()).toEqual([renamed]);
      expect(await h.diffWithSandbox()).toEqual([]);
    });

  it('never puts back a version it read before a webhook or a resync wrote a newer one', async () => {
    const target = c.standalone(control()).at(-1)!;
    clock.advanceMs(60_000);
    const source = h.runtime.sync.odoo;
    let wroteMeanwhile = false;
    // Odoo answers the verify's read of the target, then the record changes and a resync copies
    // the new version, all before that answer reaches the verify.
    const meanwhile = async (model: string, ids: readonly number[]) => {
      if (model === c.rootModel && ids.includes(target) && !wroteMeanwhile) {
        wroteMeanwhile = true;
        clock.advanceMs(2_000);
        control().write(c.rootModel, target, { [c.rootText]: 'newer, written meanwhile' });
        await h.run('resync-record', { odooId: target, trigger: 'test' });
      }
    };
    const slowAnswer: OdooSource = {
      ...source,
      read: async (model, ids, ...rest) => {
        const records = await source.read(model, ids, ...rest);
        await meanwhile(model, ids);
        return records;
      },
      // The roots read with their children, in one call (docs/odoo.md).
      readTree: async (model, ids, ...rest) => {
        const tree = await source.readTree!(model, ids, ...rest);
        await meanwhile(model, ids);
        return tree;
      },
    };
    const driftsBefore = (await driftRows()).length;
    await verify(
      { ...h.runtime.sync, odoo: slowAnswer },
      { family: h.family, trigger: 'test', owner: 'verify-slow', scheduled: false, all: true },
    );
    expect(wroteMeanwhile).toBe(true);
    expect(await copy().rootText(target)).toBe('newer, written meanwhile');
    expect((await driftRows()).length).toBe(driftsBefore);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  if (c.childModel !== undefined)
    it("finds each root's children missing, under another root or gone, among the roots of its page, and heals them", async () => {
      const child = h.family.children[0]!;
      // Two roots of one page, each with two children or more.
      const [first, second] = c
        .standalone(control())
        .filter((id) => childIdsOf(control(), c, id).length >= 2);
      const [missing, moved] = childIdsOf(control(), c, first!);
      await h.db.db.execute(sql`
        delete from ${sql.identifier(child.table.name)} where odoo_id = ${missing}`);
      await h.db.db.execute(sql`
        update ${sql.identifier(child.table.name)}
        set ${sql.identifier(child.parentColumn)} = ${second} where odoo_id = ${moved}`);

      // The moved child is under another root for the first, and one too many for the second.
      expect(await verifyAll()).toMatchObject({
        drifted: 2,
        healed: 2,
        driftFields: { [c.childModel!]: { '(missing)': 1, '(moved)': 1, '(gone)': 1 } },
      });
      expect(await h.diffWithSandbox()).toEqual([]);
    });
}

describe.each(FAMILY_CASES)('verify: a $name copy proven equal by content', verifiedByContent);
describe.each(POSTGRES_QUEUE_CASES)(
  'verify: a $name copy proven equal by content, its queues in PostgreSQL',
  verifiedByContent,
);
describe.each(LAGGING_CASES)(
  'verify: a $name copy proven equal by content, read from a replica that lags',
  verifiedByContent,
);

describe('verify: the nightly slices', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 40, linesPerOrder: 1 },
      pageSize: 7,
      verifyCycleDays: 3,
    });
    await h.run('sync-run', { trigger: 'test' });
    // A first verify knows no earlier field list: a slice, like every night after.
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('check every record once in a cycle, one slice a night, each after the reconcile', async () => {
    const ids = h.sandbox.control.ids(BC_MODEL);
    const seen: number[] = [];
    for (let night = 0; night < 3; night += 1) {
      const verified = h.nextCompleted('sync-reconcile', 'verify-after-');
      await h.run('reconcile', { trigger: 'cron', scheduled: true });
      const result = (await verified) as unknown as VerifyResult & {
        scope: { slice: number; slices: number };
      };
      expect(result.scope).toEqual({ slice: night, slices: 3 });
      expect(result.recordsSeen).toBe(ids.filter((id) => id % 3 === night).length);
      seen.push(result.recordsSeen);
    }
    expect(seen.reduce((a, b) => a + b, 0)).toBe(ids.length);
  });

  it('runs on demand from the API (admin), and the run log shows it', async () => {
    const token = randomBytes(8).toString('hex');
    const app = await buildApp({
      config: testConfig({
        ODOO_WEBHOOK_TOKENS: createHash('sha256').update(token).digest('hex'),
        // The verifies above just ran: no cooldown, this asks for one more.
        API_RECONCILE_COOLDOWN_SECONDS: '0',
      }),
      logger: memoryLogger('warn').logger,
      db: h.db,
      queues: h.runtime.queues,
      families: h.runtime.sync.families,
    });
    try {
      const refused = await app.inject({
        method: 'POST',
        url: '/api/sync/verify?all=true',
        headers: bearer('operator'),
      });
      expect(refused.statusCode).toBe(403);
      const queued = await app.inject({
        method: 'POST',
        url: '/api/sync/verify?all=true&family=bcs',
        headers: bearer('admin'),
      });
      expect(queued.statusCode).toBe(202);
      const { jobs } = queued.json<{ jobs: { family: string; jobId: string }[] }>();
      expect(jobs).toMatchObject([{ family: 'bcs' }]);
      const job = (await h.runtime.queues.byName['sync-reconcile'].getJob(jobs[0]!.jobId))!;
      expect(await h.wait(job)).toMatchObject({ scope: 'all', drifted: 0 });
      const runs = await app.inject({
        url: '/api/sync/runs?family=bcs&limit=1',
        headers: bearer('reader'),
      });
      expect(runs.json()).toMatchObject({
        items: [{ kind: 'verify', counts: { drifted: 0, healed: 0 }, driftFields: {} }],
      });
    } finally {
      await app.close();
    }
  });
});
