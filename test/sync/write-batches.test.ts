/**
 * A page's roots are written in batches. A page written alone (a run's only page, its last) has
 * two in flight: while one batch waits (on a row another transaction holds, on PostgreSQL's
 * work), the next goes on in a transaction of its own. Pages written side by side, as a first
 * copy's are, write one batch at a time each (src/sync/write-lanes.ts).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { mapRoot } from '../../src/families/map-record.js';
import { createWriteLanes, type WriteLanes } from '../../src/sync/write-lanes.js';
import { WRITE_BATCH_SIZE, writeRootBatches } from '../../src/sync/write-records.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const ORDERS = 2 * WRITE_BATCH_SIZE + 50;

describe('a page written in batches', () => {
  let h: SyncHarness;

  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: ORDERS, linesPerOrder: 1 } });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  /** Every BC edited in the sandbox, and mapped as a page's read maps it. */
  const editAll = (mark: string) => {
    const control = h.sandbox.control;
    const ids = control.ids(BC_MODEL);
    for (const id of ids) control.write(BC_MODEL, id, { origin: `${mark} ${id}` });
    const lines = control.records(BC_LINE_MODEL);
    const mapped = control.records(BC_MODEL, { ids }).map((root) =>
      mapRoot(h.family, {
        root,
        children: [lines.filter((line) => (line.bc_id as [number, string])[0] === root.id)],
      }),
    );
    return { ids, mapped };
  };
  const origins = async (wanted: readonly number[]) =>
    (await h.bcRows()).filter((row) => wanted.includes(row.odooId)).map((row) => row.origin);

  it('written alone, writes the next batch while the first waits on a locked row, then every root once', async () => {
    const { ids, mapped } = editAll('batched');
    expect(ids).toHaveLength(ORDERS);

    // The first batch's first root is held by another transaction until the second batch is in.
    const secondBatch = ids.slice(WRITE_BATCH_SIZE, 2 * WRITE_BATCH_SIZE);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = h.db.sql!.begin(async (tx) => {
      await tx`select 1 from scrap_dimagaz_bc where odoo_id = ${ids[0]!} for update`;
      locked();
      await held;
    });
    await lockTaken;
    const write = writeRootBatches(
      h.db.db,
      h.family,
      mapped,
      { runId: null, lease: null },
      h.logger,
      createWriteLanes(),
    );
    try {
      await vi.waitFor(
        async () =>
          expect(await origins(secondBatch)).toEqual(secondBatch.map((id) => `batched ${id}`)),
        { timeout: 30_000, interval: 20 },
      );
      expect(await origins(ids.slice(0, 1))).not.toEqual([`batched ${ids[0]}`]);
    } finally {
      release();
      await holder;
      await write.catch(() => undefined);
    }
    const written = await write;

    expect(written.failed).toEqual([]);
    expect(written.outcomes.map((outcome) => outcome.odooId).sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(written.outcomes.map((outcome) => outcome.action))).toEqual(
      new Set(['updated']),
    );
    expect(await origins(ids)).toEqual(ids.map((id) => `batched ${id}`));
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('beside another page being written, writes one batch at a time', async () => {
    const { ids, mapped } = editAll('one at a time');
    const process = createWriteLanes();
    // Another page's batch in flight.
    expect(process.take(false)).toBe(true);
    let own = 0;
    let ownAtOnce = 0;
    const lanes: WriteLanes = {
      take(beside) {
        const taken = process.take(beside);
        if (taken) ownAtOnce = Math.max(ownAtOnce, (own += 1));
        return taken;
      },
      release() {
        own -= 1;
        process.release();
      },
    };
    const written = await writeRootBatches(
      h.db.db,
      h.family,
      mapped,
      { runId: null, lease: null },
      h.logger,
      lanes,
    );
    process.release();

    expect(ownAtOnce).toBe(1);
    expect(written.failed).toEqual([]);
    expect(written.outcomes).toHaveLength(ORDERS);
    expect(await origins(ids)).toEqual(ids.map((id) => `one at a time ${id}`));
    expect(process.take(true) && process.take(true)).toBe(true);
  });
});
