/**
 * Reads that may lag (docs/odoo.md, "Reads from a replica"): Odoo 18+ may serve JSON-2's
 * read-only methods from a read replica that shows each commit some time after it. The settled
 * stamps must not prove a record the replica has not shown whole, and a verify or a reconcile
 * must not write back over the copy a version the replica shows from before it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { syncRecord } from '../../src/sync/sync-record.js';
import { syncWebhookEvents } from '../../src/sync/webhook-event.js';
import { CLOCK_SKEW_MARGIN_SECONDS } from '../../src/sync/settled.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const BC = 'dimagaz.bc';
const OVERLAP_SECONDS = 60;
/** Longer than the overlap and the clock-skew margin together: Odoo's clock alone proves too much. */
const LAG_MS = 300_000;
const SETTLE_MS = (OVERLAP_SECONDS + CLOCK_SKEW_MARGIN_SECONDS + 1) * 1_000;

describe('reads from a replica that lags', () => {
  const clock = createManualClock(new Date('2026-03-02T08:00:00.100Z'));
  let h: SyncHarness;

  beforeEach(async () => {
    h = await createSyncHarness({
      sandbox: { clock: clock.source, orders: 4, linesPerOrder: 2, replicaLagMs: LAG_MS },
      protocol: 'json2',
      readReplica: true,
      overlapSeconds: OVERLAP_SECONDS,
    });
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    clock.advanceMs(SETTLE_MS);
  });
  afterEach(async () => {
    await h.dispose();
  });

  const origin = async (id: number) => (await h.copyOf(id)).bc?.origin;
  const run = () =>
    expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({ status: 'succeeded' });

  it('reads a change committed late in its stamp’s second once the replica shows it', async () => {
    const control = h.sandbox.control;
    // Stamped now, committed 30 s later: after another commit of the same second.
    const late = control.begin();
    control.write(BC, 2, { origin: 'first' });
    clock.advanceMs(30_000);
    late.write(BC, 2, { origin: 'second' });
    late.commit();
    // The replica shows the first commit, not the late one yet.
    clock.advanceMs(LAG_MS - 30_000 + 5_000);
    await run();
    expect(await origin(2)).toBe('first');
    // Odoo's clock is well past the stamp + overlap + margin; the replica still lags.
    clock.advanceMs(10_000);
    await run();
    clock.advanceMs(30_000);
    await run();
    expect(await origin(2)).toBe('second');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a webhook waits for the stamp it announces, writes nothing older, and the next run reads the change', async () => {
    const before = await origin(1);
    h.sandbox.control.write(BC, 1, { origin: 'announced' });
    const stampMicros = h.sandbox.control.writeDateMicros(BC, 1)!;
    const writeDate = new Date(stampMicros / 1_000).toISOString().replace('T', ' ').slice(0, 19);
    // The replica shows the change long after the webhook's waits (about 3 s) end.
    await expect(
      syncWebhookEvents(h.runtime.sync, {
        family: h.family,
        events: [{ model: BC, recordId: 1, rootId: 1, writeDate }],
        waitForCommit: true,
      }),
    ).resolves.toMatchObject({ committed: false });
    expect(await origin(1)).toBe(before);
    await run();
    expect(await origin(1)).toBe(before);
    clock.advanceMs(LAG_MS);
    await run();
    expect(await origin(1)).toBe('announced');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  describe('a copy newer than what the replica shows', () => {
    /** Copies a BC at once from the primary, as a worker still on XML-RPC would. */
    async function copyFromThePrimary(id: number): Promise<void> {
      const primary = h.client({ protocol: 'xmlrpc', retries: 0 });
      await syncRecord(
        { ...h.runtime.sync, odoo: primary },
        { family: h.family, odooId: id, run: null, trigger: 'resync' },
      );
    }

    /** Writes the BC in Odoo and copies it from the primary. */
    async function copiedFromThePrimary(id: number, text: string): Promise<void> {
      h.sandbox.control.write(BC, id, { origin: text });
      await copyFromThePrimary(id);
      expect(await origin(id)).toBe(text);
    }

    it('is left alone by the verify until the replica shows it', async () => {
      await copiedFromThePrimary(3, 'newer');
      await h.run('verify', { trigger: 'test', all: true });
      expect(await origin(3)).toBe('newer');
      clock.advanceMs(LAG_MS + 1);
      await h.run('verify', { trigger: 'test', all: true });
      expect(await origin(3)).toBe('newer');
      expect((await h.auditRows()).filter((row) => row.action === 'drift')).toEqual([]);
      expect(await h.diffWithSandbox()).toEqual([]);
    });

    it('is left alone by the reconcile until the replica shows it', async () => {
      await copiedFromThePrimary(4, 'newer');
      await h.run('reconcile', { trigger: 'test' });
      expect(await origin(4)).toBe('newer');
      clock.advanceMs(LAG_MS + 1);
      await h.run('reconcile', { trigger: 'test' });
      expect(await origin(4)).toBe('newer');
      expect((await h.auditRows()).filter((row) => row.action === 'drift')).toEqual([]);
      expect(await h.diffWithSandbox()).toEqual([]);
    });

    it('is not archived as gone while the replica has not shown it', async () => {
      const id = h.sandbox.control.create(BC, { partner_id: 1, origin: 'created' });
      await copyFromThePrimary(id);
      await h.run('reconcile', { trigger: 'test' });
      await h.run('verify', { trigger: 'test', all: true });
      expect((await h.copyOf(id)).bc).toMatchObject({ origin: 'created', archivedAt: null });
      clock.advanceMs(LAG_MS + 1);
      await h.run('reconcile', { trigger: 'test' });
      expect((await h.auditRows()).filter((row) => row.action === 'archived')).toEqual([]);
      expect(await h.diffWithSandbox()).toEqual([]);
    });
  });
});
