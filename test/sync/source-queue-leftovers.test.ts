/**
 * Jobs an older version left on the default source's queues, from the time every source's jobs
 * shared them (docs/sources.md, "Queues"), in a fleet split by SYNC_SOURCES: the workers of the
 * default source do not copy another source's families, and that source's workers do not work the
 * default source's queues. Such a job is moved to its source's own queue once, where that source's
 * workers run it; one tied to a run that cannot move fails for good once, saying why. Handed back
 * instead, it would go back and forth between the default source's workers for ever.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Job } from 'bullmq';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { createFamilies } from '../../src/families/registry.js';
import { placeCodeTables } from '../../src/families/source-tables.js';
import { createQueueEvents, type OwnedQueueEvents } from '../../src/queues/queue-events.js';
import { acmeBcs } from '../helpers/acme-source.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe("another source's jobs left on the default source's queues", () => {
  let h: SyncHarness;
  const watched: OwnedQueueEvents[] = [];
  beforeAll(async () => {
    // The harness's own worker copies the default source's BCs alone; a second one, acme's.
    h = await createSyncHarness({
      sandbox: {
        databases: {
          main_db: { orders: 4, linesPerOrder: 1, seed: 5 },
          acme_db: { orders: 4, linesPerOrder: 1, seed: 6 },
        },
      },
      sources: [{ name: 'acme', database: 'acme_db' }],
      loadFamilies: async (db) => {
        await placeCodeTables(db.db, 'acme', [bcsFamily]);
        return createFamilies([bcsFamily]);
      },
    });
    h.spawnRuntime(undefined, createFamilies([acmeBcs]));
  });
  afterAll(async () => {
    await Promise.all(watched.map((events) => events.close()));
    await h?.dispose();
  });

  const acme = () => h.sandbox.db('acme_db').control;
  const queues = () => h.runtime.queues;
  /** How a job left on a default source's queue ends: its outcome, or its third hand-back. */
  async function ending(job: Job): Promise<unknown> {
    const events = await createQueueEvents(queues().backend, queues().named(job.queueName)!);
    watched.push(events);
    let handedBack = 0;
    const bouncing = new Promise((resolve) =>
      events.events.on('delayed', ({ jobId }) => {
        if (jobId === job.id && (handedBack += 1) === 3) resolve('handed back three times');
      }),
    );
    return Promise.race([
      events.waitFor(job, { pollMs: 100 }).catch((error: unknown) => ({
        failed: (error as Error).message,
      })),
      bouncing,
    ]);
  }

  it("is moved to its source's queue once, and run there by that source's workers", async () => {
    const id = acme().ids(BC_MODEL)[0]!;
    acme().write(BC_MODEL, id, { origin: 'resynced after the move' });
    const left = await queues().byName.sync.add('resync-record', {
      family: 'acme.bcs',
      odooId: id,
      trigger: 'test',
    });
    const moved = (await ending(left)) as { movedTo: string; jobId: string };
    expect(moved).toEqual({ movedTo: 'acme.sync', jobId: expect.any(String) as unknown });
    await vi.waitFor(
      async () =>
        expect(
          rowsOf<{ origin: string }>(
            await h.db.db.execute(
              sql`select origin from acme.scrap_dimagaz_bc where odoo_id = ${id}`,
            ),
          ),
        ).toEqual([{ origin: 'resynced after the move' }]),
      { timeout: 20_000, interval: 50 },
    );
    expect(await queues().of('acme').sync.getJob(moved.jobId)).toMatchObject({
      name: 'resync-record',
      data: { family: 'acme.bcs', odooId: id, trigger: 'test' },
    });
  });

  it("fails for good once, saying why, when it is tied to a run left there: the source's next run reads it", async () => {
    // A run's page: its run waits for it on the default source's queue, where it was queued.
    const run = await queues().byName.sync.add(
      'sync-run',
      { family: 'acme.bcs', trigger: 'test' },
      { delay: 3_600_000 },
    );
    const page = await queues().byName['sync-page'].add(
      'sync-page',
      {
        family: 'acme.bcs',
        run: { runId: 1, lease: { key: 'acme.bcs', owner: 'an older worker', token: 1 } },
        ids: [1],
        schemaKey: 'a'.repeat(64),
      },
      { parent: { id: run.id!, queue: run.queueQualifiedName }, attempts: 3 },
    );
    const outcome = await ending(page);
    expect(outcome).toEqual({
      failed: expect.stringContaining(
        "SOURCE_QUEUE_LEFT_OVER: a job of acme.bcs that an older version left on the default source's queue sync-page, tied to its run there: acme's next run reads what it would have",
      ) as unknown,
    });
    expect((await queues().byName['sync-page'].getJob(page.id!))?.attemptsMade).toBe(1);
    await run.remove({ removeChildren: true });
  });
});
