/**
 * A root that fails must fail alone and never fall through, in every family
 * (test/helpers/family-cases.ts): it is in the copy or in sync_failure, whatever broke (Odoo, the
 * data, PostgreSQL), the watermarks never move past a root that is in neither, a write of older
 * data never undoes newer data, and what the failures leave in Redis stays small.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { mapRoot } from '../../src/families/map-record.js';
import { writeRootBatches } from '../../src/sync/write-records.js';
import {
  caseCopy,
  caseModels,
  childIdsOf,
  FAMILY_CASES,
  POSTGRES_QUEUE_CASES,
  LAGGING_CASES,
  type FamilyCase,
  useCaseHarness,
} from '../helpers/family-cases.js';

describe.each(FAMILY_CASES)('failed $name records', failedRecordsOf);
describe.each(POSTGRES_QUEUE_CASES)(
  'failed $name records, its queues in PostgreSQL',
  failedRecordsOf,
);
describe.each(LAGGING_CASES)(
  'failed $name records, read from a replica that lags',
  failedRecordsOf,
);

function failedRecordsOf(c: FamilyCase): void {
  const clock = createManualClock(new Date('2026-03-02T08:00:00.250Z'));
  const h = useCaseHarness(c, {
    size: { roots: 80, childrenPerRoot: 2 },
    sandbox: { clock: clock.source },
    pageSize: 20,
    overlapSeconds: 60,
    jobAttempts: 1,
    copied: true,
  });

  const rootText = (id: number) => caseCopy(h, c).rootText(id);
  const failures = async () => (await h.failures()).map((f) => [f.odooId, f.errorCode]);
  /** The watermark of every model of the family. */
  const watermarks = async () =>
    Promise.all(caseModels(c).map(async (model) => (await h.watermark(model))?.getTime() ?? null));

  it('a root whose read resets the connection fails alone; its page and the watermark go on', async () => {
    const control = h.sandbox.control;
    const ids = c.standalone(control).slice(0, 12);
    const poison = ids[5]!;
    clock.advanceMs(60_000);
    for (const id of ids) control.write(c.rootModel, id, { [c.rootText]: `edited ${id}` });
    const before = (await h.watermark())!;
    const fault = control.injectFault({
      kind: 'reset',
      method: 'read',
      model: c.rootModel,
      recordId: poison,
      times: Infinity,
    });

    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'partial',
      counts: expect.objectContaining({ failed: 1, updated: ids.length - 1 }),
    });
    expect(await failures()).toEqual([[poison, 'ODOO_NETWORK']]);
    for (const id of ids.filter((id) => id !== poison))
      expect(await rootText(id)).toBe(`edited ${id}`);
    expect((await h.watermark())!.getTime()).toBeGreaterThan(before.getTime());

    fault.remove();
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    expect(await h.failures()).toEqual([]);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a root that keeps failing waits in sync_failure and as a failed job, is retried by every run, and clears once Odoo gives it', async () => {
    const control = h.sandbox.control;
    const ids = c.standalone(control).slice(12, 18);
    const poisoned = ids[3]!;
    clock.advanceMs(60_000);
    for (const id of ids) control.write(c.rootModel, id, { [c.rootText]: `batch ${id}` });
    const fault = control.injectFault({
      kind: 'fault',
      faultCode: 2,
      message: 'Broken computed field',
      method: 'read',
      model: c.rootModel,
      recordId: poisoned,
      times: Infinity,
    });

    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'partial',
      counts: expect.objectContaining({ failed: 1 }),
    });
    const [failure] = await h.failures();
    expect(failure).toMatchObject({ family: c.name, odooId: poisoned, attempts: 1 });
    expect(failure!.error).toContain('Broken computed field');
    const failedJobs = await h.runtime.queues.byName['sync-record'].getFailed();
    expect(failedJobs.map((job) => job.data as unknown)).toContainEqual(
      expect.objectContaining({ family: c.name, odooId: poisoned }),
    );
    for (const id of ids.filter((id) => id !== poisoned))
      expect(await rootText(id)).toBe(`batch ${id}`);
    expect(await rootText(poisoned)).not.toBe(`batch ${poisoned}`);
    expect((await h.state()).lastRunStatus).toBe('partial');

    // Still broken: the next run retries it on its own and it fails again, nothing else is lost.
    clock.advanceMs(10 * 60_000);
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'partial',
      counts: expect.objectContaining({ failed: 1 }),
    });
    expect((await h.failures()).map((f) => [f.odooId, f.attempts])).toEqual([[poisoned, 2]]);

    fault.remove();
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    expect(await h.failures()).toEqual([]);
    expect(await rootText(poisoned)).toBe(`batch ${poisoned}`);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a resync fixes a failed root and clears its failure', async () => {
    const control = h.sandbox.control;
    const target = c.standalone(control)[18]!;
    clock.advanceMs(60_000);
    control.write(c.rootModel, target, { [c.rootText]: 'needs a resync' });
    const fault = control.injectFault({
      kind: 'fault',
      faultCode: 4,
      message: 'Access rule',
      method: 'read',
      model: c.rootModel,
      recordId: target,
      times: Infinity,
    });
    await h.run('sync-run', { trigger: 'test' });
    expect(await failures()).toEqual([[target, 'ODOO_ACCESS']]);
    fault.remove();
    await expect(
      h.run('resync-record', { odooId: target, trigger: 'test' }),
    ).resolves.toMatchObject({ action: 'updated' });
    expect(await h.failures()).toEqual([]);
    expect(await rootText(target)).toBe('needs a resync');
  });

  it('older data written after newer data (a slow page, a replayed job) leaves the newer data', async () => {
    const control = h.sandbox.control;
    const [target, neighbour] = c.standalone(control).slice(19, 21);
    const childrenOf = (id: number) =>
      h.family.children.map((child) =>
        control.records(child.model, { ids: childIdsOf(control, c, id) }),
      );
    const [old, oldNeighbour] = control.records(c.rootModel, { ids: [target!, neighbour!] });
    const oldChildren = childrenOf(target!);
    clock.advanceMs(60_000);
    control.write(c.rootModel, target!, { [c.rootText]: 'newer' });
    await h.run('sync-run', { trigger: 'test' });

    // A page that read before the change writes after it: its older root is skipped, the rest
    // written (same stamp, other data: the data decide).
    const written = await writeRootBatches(
      h.db.db,
      h.family,
      [
        mapRoot(h.family, { root: old!, children: oldChildren }),
        mapRoot(h.family, {
          root: { ...oldNeighbour!, [c.rootText]: 'same version, other value' },
          children: childrenOf(neighbour!),
        }),
      ],
      { runId: null, lease: null },
      h.logger,
    );
    expect(written.outcomes.map((o) => o.action)).toEqual(['stale', 'updated']);
    expect(written.failed).toEqual([]);

    // A job replayed late reads fresh data, so it can only confirm the newer version.
    await expect(
      h.run('resync-record', { odooId: target!, trigger: 'replay' }),
    ).resolves.toMatchObject({ action: 'unchanged' });
    expect(await rootText(target!)).toBe('newer');
    expect((await caseCopy(h, c).children(target!)).length).toBe(oldChildren[0]?.length ?? 0);
    // The neighbour's copy is Odoo's again once read (same stamp, the data decide).
    await expect(
      h.run('resync-record', { odooId: neighbour!, trigger: 'test' }),
    ).resolves.toMatchObject({ action: 'updated' });
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it("Odoo answering HTML 502: the run fails with a readable reason, the family's watermarks stay, its lease is released, the next run recovers", async () => {
    const before = await watermarks();
    const fault = h.sandbox.control.injectFault({ kind: 'html', status: 502, times: Infinity });
    await expect(h.run('sync-run', { trigger: 'test' })).rejects.toThrow(/502/);
    const [run] = await h.runs();
    expect(run).toMatchObject({ family: c.name, status: 'failed' });
    expect(run!.errors[0]!.message).toMatch(/HTTP 502 \(HTML page\)/);
    expect(await watermarks()).toEqual(before);
    expect(await h.state()).toMatchObject({
      isSyncing: false,
      leaseOwner: null,
      lastRunStatus: 'failed',
    });

    fault.remove();
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
  });

  it('Odoo unreachable: the run fails with a network error, the watermarks stay, the next run recovers', async () => {
    const before = await watermarks();
    const fault = h.sandbox.control.injectFault({ kind: 'reset', times: Infinity });
    await expect(h.run('sync-run', { trigger: 'test' })).rejects.toThrow(/ODOO_NETWORK/);
    expect((await h.runs())[0]).toMatchObject({ family: c.name, status: 'failed' });
    expect(await watermarks()).toEqual(before);
    fault.remove();
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
  });

  it('a root whose failure cannot be recorded (PostgreSQL away) is not left behind the watermark', async () => {
    const control = h.sandbox.control;
    const [failing, later, after] = c.standalone(control).slice(21, 24);
    clock.advanceMs(60_000);
    control.write(c.rootModel, failing!, { [c.rootText]: 'changed, then failed' });
    clock.advanceMs(5 * 60_000);
    control.write(c.rootModel, later!, { [c.rootText]: 'changed five minutes later' });
    const before = await watermarks();
    const fault = control.injectFault({
      kind: 'fault',
      faultCode: 2,
      message: 'Broken computed field',
      method: 'read',
      model: c.rootModel,
      recordId: failing!,
      times: Infinity,
    });
    // PostgreSQL loses the table once the run has started, until the run is over.
    const { job: run, slow } = await h.addWhileReading(
      'sync-run',
      { trigger: 'test' },
      { model: c.rootModel, latencyMs: 200 },
    );
    await h.db.db.execute(sql`alter table sync_failure rename to sync_failure_away`);
    try {
      await expect(h.wait(run)).rejects.toThrow();
    } finally {
      await h.db.db.execute(sql`alter table sync_failure_away rename to sync_failure`);
    }
    slow.remove();
    fault.remove();
    // Neither in the copy nor in sync_failure: the run failed and its watermarks stayed.
    expect(await rootText(failing!)).not.toBe('changed, then failed');
    expect(await h.failures()).toEqual([]);
    expect((await h.runs())[0]).toMatchObject({ status: 'failed' });
    expect(await watermarks()).toEqual(before);

    // Later changes move the watermark on, well past the failed root's stamp.
    clock.advanceMs(10 * 60_000);
    control.write(c.rootModel, after!, { [c.rootText]: 'much later' });
    await h.run('sync-run', { trigger: 'test' });
    await h.run('sync-run', { trigger: 'test' });
    expect(await rootText(failing!)).toBe('changed, then failed');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a root with an empty write_date fails alone, and a child without its root is skipped', async () => {
    const control = h.sandbox.control;
    const [broken, orphanOwner, healthy] = c.standalone(control).slice(24, 27);
    const child = c.childModel;
    clock.advanceMs(60_000);
    let orphan: number | undefined;
    if (child) {
      // Both are in the run's window through a child of theirs, then broken the way only SQL can.
      control.write(child, childIdsOf(control, c, broken!)[0]!, {
        [c.childText!]: 'changed',
      });
      orphan = childIdsOf(control, c, orphanOwner!)[0]!;
      control.write(child, orphan, { [c.childText!]: 'orphaned' });
      control.corrupt(child, orphan, { [c.childLink!]: null });
    }
    control.corrupt(c.rootModel, broken!, { write_date: null });
    control.write(c.rootModel, healthy!, { [c.rootText]: 'healthy and changed' });
    const before = (await h.watermark())!;

    // A root alone and without a stamp is in no window: only a run that reads every root reads it.
    const full = child === undefined;
    const result = await h.run('sync-run', { trigger: 'test', full });
    expect(result).toMatchObject({
      status: 'partial',
      counts: expect.objectContaining({ failed: 1 }),
    });
    expect(await failures()).toEqual([[broken, 'SYNC_BAD_RECORD']]);
    expect(await rootText(healthy!)).toBe('healthy and changed');
    expect((await h.watermark())!.getTime()).toBeGreaterThan(before.getTime());
    if (child)
      expect(h.logLines.some((line) => line.includes('1 changed records cannot be copied'))).toBe(
        true,
      );
    // Still broken: the next runs retry it and go on.
    await expect(h.run('sync-run', { trigger: 'test', full })).resolves.toMatchObject({
      status: 'partial',
    });

    // Repaired in Odoo: both are copied, the failure clears.
    clock.advanceMs(60_000);
    control.corrupt(c.rootModel, broken!, { write_date: control.nowMicros() });
    if (child && orphan !== undefined)
      control.corrupt(child, orphan, {
        [c.childLink!]: orphanOwner,
        write_date: control.nowMicros(),
      });
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    expect(await h.failures()).toEqual([]);
    expect(await h.diffWithSandbox()).toEqual([]);
  });
}

describe.each(FAMILY_CASES)('bounded state in Redis while many $name records fail', (c) => {
  /** More than a run log keeps errors of. */
  const FAILING = 30;
  const clock = createManualClock(new Date('2026-03-02T08:00:00.250Z'));
  const h = useCaseHarness(c, {
    size: { roots: 80, childrenPerRoot: 1 },
    sandbox: { clock: clock.source },
    pageSize: 20,
    jobAttempts: 1,
    failureBackoffBaseMs: 3_600_000,
    copied: true,
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
  /** Puts a root in the next run's window: through a child of its where it has one. */
  const touch = (id: number, text: string) => {
    const control = h.sandbox.control;
    const [child] = childIdsOf(control, c, id);
    if (child === undefined) control.write(c.rootModel, id, { [c.rootText]: text });
    else control.write(c.childModel!, child, { [c.childText!]: text });
  };
  /**
   * Makes every read of the roots fail: a record rule where a child of theirs lists them (a
   * record rule also hides a root from its own scan, so a root alone would be gone, not failing),
   * a broken computed field on a root alone.
   */
  const refuse = (ids: readonly number[]) => {
    const control = h.sandbox.control;
    if (c.childModel !== undefined) {
      control.hide(c.rootModel, ids);
      return () => control.unhide(c.rootModel, ids);
    }
    const faults = ids.map((recordId) =>
      control.injectFault({
        kind: 'fault',
        faultCode: 2,
        message: 'Broken computed field',
        method: 'read',
        model: c.rootModel,
        recordId,
        times: Infinity,
      }),
    );
    return () => faults.forEach((fault) => fault.remove());
  };

  it(`${FAILING} failing roots: errors are capped, failures back off, and each is copied once Odoo gives it`, async () => {
    const control = h.sandbox.control;
    const standalone = c.standalone(control);
    const failing = standalone.slice(0, FAILING);
    clock.advanceMs(60_000);
    for (const id of failing) touch(id, 'relabelled');
    const allow = refuse(failing);

    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'partial',
      counts: expect.objectContaining({ failed: FAILING }),
    });
    // Later changes move the window past them: from now on only their retries read them.
    clock.advanceMs(20 * 60_000);
    const unrelated = standalone.at(-1)!;
    control.write(c.rootModel, unrelated, { [c.rootText]: 'unrelated, later' });
    touch(unrelated, 'unrelated, later');
    // The next run retries them all, each on its own; they fail again.
    const second = await h.run('sync-run', { trigger: 'test' });
    expect(second).toMatchObject({
      status: 'partial',
      counts: expect.objectContaining({ failed: FAILING }),
    });
    expect((second.errors as unknown[]).length).toBeLessThanOrEqual(20);
    const [run] = await h.runs();
    expect(run!.errors.length).toBeLessThanOrEqual(20);
    const failures = await h.failures();
    expect(failures.map((f) => f.odooId)).toEqual(failing);
    expect(failures.every((f) => f.attempts === 2 && f.error.length <= 300)).toBe(true);
    // A third run comes before their backoff is over: they wait, nothing is retried.
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    expect((await h.failures()).every((f) => f.attempts === 2)).toBe(true);

    // Readable again, and retried once due: every root and child is in the copy.
    allow();
    await h.db.db.execute(sql`update sync_failure set next_attempt_at = now()`);
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
      counts: expect.objectContaining({ failed: 0 }),
    });
    expect(await h.failures()).toEqual([]);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('whatever failed, a job carries its own ids and a few hundred bytes more, a result a few kilobytes', async () => {
    const sizes = await jobSizes();
    expect(sizes.map((size) => size.name)).toEqual(
      expect.arrayContaining(['sync-run', 'sync-page', 'sync-record']),
    );
    for (const size of sizes) {
      expect(size.data - size.ids, `${size.name} data`).toBeLessThan(2_500);
      expect(size.result, `${size.name} result`).toBeLessThan(6_000);
    }
  });
});
