/**
 * The verify proves the copy equal to Odoo by content. Each loss below slips past every cursor —
 * the incremental runs and the reconcile compare stamps — and each test first shows the copy
 * wrong after them, then exact after one `verify --all`, with a `drift` audit row and the run's
 * counts. A verify of an exact copy writes nothing; the nightly slices cover every record once
 * per cycle; a field list that changed makes the next verify check everything.
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_LINE_MODEL, BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { mapRoot } from '../../src/families/map-record.js';
import { buildApp } from '../../src/http/app.js';
import { readRootPage } from '../../src/sync/odoo-reads.js';
import { writeRoots } from '../../src/sync/write-records.js';
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

describe('verify: a copy proven equal by content', () => {
  let h: SyncHarness;
  const clock = createManualClock(new Date('2026-03-02T08:00:00.100Z'));
  const c = () => h.sandbox.control;
  const verifyAll = async () =>
    (await h.run('verify', { trigger: 'test', all: true })) as unknown as VerifyResult;
  const driftRows = async () => (await h.auditRows()).filter((row) => row.action === 'drift');

  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: { orders: 30, linesPerOrder: 3, clock: clock.source },
      overlapSeconds: 60,
      pageSize: 10,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('finds nothing to do in an exact copy, and writes nothing', async () => {
    const audit = (await h.auditRows()).length;
    const result = await verifyAll();
    expect(result).toMatchObject({
      status: 'succeeded',
      scope: 'all',
      recordsSeen: c().ids(BC_MODEL, { activeOnly: false }).length,
      drifted: 0,
      healed: 0,
      driftFields: {},
    });
    expect((await h.auditRows()).length).toBe(audit);
    const [run] = await h.runs();
    expect(run).toMatchObject({ kind: 'verify', status: 'succeeded', drifted: 0, healed: 0 });
  });

  it('heals a second version committed in the same second by a transaction longer than the overlap', async () => {
    const [bc, other] = c().ids(BC_MODEL, { activeOnly: true });
    clock.advanceMs(60_000);
    // A long transaction starts (its stamp is its start), then a quick write lands in the same
    // second and is copied.
    const long = c().begin();
    clock.advanceMs(200);
    c().write(BC_MODEL, bc!, { origin: 'first version' });
    await h.run('sync-run', { trigger: 'test' });
    // Later changes move the watermark on; the long transaction commits ten minutes later.
    clock.advanceMs(5 * 60_000);
    c().write(BC_MODEL, other!, { origin: 'a later change' });
    await h.run('sync-run', { trigger: 'test' });
    clock.advanceMs(5 * 60_000);
    long.write(BC_MODEL, bc!, { origin: 'second version, same second' });
    long.commit();
    await h.run('sync-run', { trigger: 'test' });
    await h.run('reconcile', { trigger: 'test' });
    // Every cursor missed it: equal stamps, a window long gone.
    expect((await h.copyOf(bc!)).bc!.origin).toBe('first version');

    const result = await verifyAll();
    expect(result).toMatchObject({
      drifted: 1,
      healed: 1,
      driftFields: { [BC_MODEL]: { origin: 1 } },
    });
    expect((await h.copyOf(bc!)).bc!.origin).toBe('second version, same second');
    expect(await h.diffWithSandbox()).toEqual([]);
    expect((await driftRows()).at(-1)).toMatchObject({
      model: BC_MODEL,
      odooId: bc,
      action: 'drift',
      changedFields: ['origin'],
      trigger: 'verify',
    });
  });

  it('heals a stale write of an equal stamp by an unfenced writer', async () => {
    const bc = c().ids(BC_MODEL, { activeOnly: true })[3]!;
    clock.advanceMs(60_000);
    c().write(BC_MODEL, bc, { origin: 'read by a stalled job' });
    // A resync job reads this version, then stalls before its write...
    const schema = await h.runtime.sync.schema(bcsFamily, h.odoo);
    const read = await readRootPage(h.odoo, bcsFamily, [bc], schema);
    const stale = mapRoot(bcsFamily, read.items[0]!);
    // ...while a second commit of the same second is copied by a run...
    clock.advanceMs(100);
    c().write(BC_MODEL, bc, { origin: 'the last version' });
    await h.run('sync-run', { trigger: 'test' });
    expect((await h.copyOf(bc)).bc!.origin).toBe('the last version');
    // ...then the job commits what it read: equal stamps, other data, no lease to fence it.
    await writeRoots(h.db.db, bcsFamily, [stale], { runId: null, lease: null, trigger: 'resync' });
    await h.run('reconcile', { trigger: 'test' });
    expect((await h.copyOf(bc)).bc!.origin).toBe('read by a stalled job');

    expect(await verifyAll()).toMatchObject({ drifted: 1, healed: 1 });
    expect((await h.copyOf(bc)).bc!.origin).toBe('the last version');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('heals a renamed product: the display names the lines carry', async () => {
    const [line] = c().records(BC_LINE_MODEL, { fields: ['product_id'] });
    const [productId, before] = line!.product_id as [number, string];
    // Renamed in the sync user's language (the sandbox's is French), as its reads see it.
    c().write('product.product', productId, { name: 'Propane 35 kg (renommé)' }, { lang: 'fr_FR' });
    const renamed = (
      c().records(BC_LINE_MODEL, { ids: [line!.id], fields: ['product_id'] })[0]!.product_id as [
        number,
        string,
      ]
    )[1];
    expect(renamed).not.toBe(before);
    await h.run('sync-run', { trigger: 'test' });
    await h.run('reconcile', { trigger: 'test' });
    const names = async () =>
      rowsOf<{ product_name: string }>(
        await h.db.db.execute(
          sql`select distinct product_name from scrap_dimagaz_bc_line where product_id = ${productId}`,
        ),
      ).map((row) => row.product_name);
    expect(await names()).toEqual([before]);
    // A run re-reads what its overlap still covers; every other line keeps the old name.
    const stale = rowsOf<{ n: number }>(
      await h.db.db.execute(
        sql`select count(*)::int as n from scrap_dimagaz_bc_line where product_name = ${before}`,
      ),
    )[0]!.n;
    expect(stale).toBeGreaterThan(0);

    const result = await verifyAll();
    expect(result.driftFields[BC_LINE_MODEL]).toEqual({ product_id: stale });
    expect(await names()).toEqual([renamed]);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('heals a field Odoo added with a default, which moved no stamp', async () => {
    c().addField(
      BC_MODEL,
      { name: 'x_channel', type: 'char', string: 'Channel', store: true, manual: true },
      { default: 'portal' },
    );
    await h.run('sync-run', { trigger: 'test' });
    await h.run('reconcile', { trigger: 'test' });
    const live = c().ids(BC_MODEL).length;
    const holding = async () =>
      rowsOf<{ n: number }>(
        await h.db.db.execute(
          sql`select count(*)::int as n from scrap_dimagaz_bc where data->>'x_channel' = 'portal'`,
        ),
      )[0]!.n;
    expect(await holding()).toBeLessThan(live);

    // The field list changed: the verify checks every record, not a slice.
    const result = (await h.run('verify', { trigger: 'test' })) as unknown as VerifyResult;
    expect(result.scope).toBe('all');
    expect(result.driftFields[BC_MODEL]).toMatchObject({ x_channel: expect.any(Number) });
    expect(await holding()).toBe(live);
    expect(await h.diffWithSandbox()).toEqual([]);
    // Told, not hidden: the run log row and its counts, the audit rows.
    const [run] = await h.runs();
    expect(run).toMatchObject({ kind: 'verify', drifted: result.drifted, healed: result.drifted });
    expect(run!.driftFields).toEqual(result.driftFields);
    expect(h.logLines.join('')).toContain('the copy differed from Odoo; written again');
  });
});

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
