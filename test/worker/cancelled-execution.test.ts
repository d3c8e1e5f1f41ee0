/**
 * An execution BullMQ cancels because its job lost its lock — it could not renew it, a loaded
 * machine or a Redis away for a moment; the job is run again once found stalled — stops without
 * failing the job for good: what it meets on its way out (a read aborted under it) is not the
 * job's failure, and it writes nothing into the job's data, which the next execution owns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe('an execution cancelled because its job lost its lock', () => {
  let h: SyncHarness;

  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 4, linesPerOrder: 2, seed: 3 } });
  });
  afterAll(() => h.dispose());

  it('is not the job failing: the job runs again and copies its BC', async () => {
    const [odooId] = h.sandbox.control.ids(BC_MODEL);
    const { job, slow } = await h.addWhileReading(
      'resync-record',
      { odooId: odooId!, trigger: 'test' },
      { model: BC_MODEL, latencyMs: 600_000 },
    );
    slow.remove();
    const worker = h.runtime.workers.find((w) => w.name === 'sync')!;
    // What BullMQ emits when it could not renew the lock of a job that this worker runs.
    worker.emit('lockRenewalFailed', [job.id!]);

    await expect(h.wait(job)).resolves.toMatchObject({ odooId, action: 'created' });
    expect((await h.copyOf(odooId!)).bc?.odooId).toBe(odooId);
    expect(await h.failures()).toEqual([]);
    const done = await h.runtime.queues.named('sync')!.getJob(job.id!);
    expect(done!.data).not.toHaveProperty('failure');
  });
});
