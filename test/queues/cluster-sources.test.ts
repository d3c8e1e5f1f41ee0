/**
 * Each source's queues in a slot of a Redis Cluster of their own (docs/sources.md, "Queues"): the
 * hash tag of their prefix holds the source's name, so a run of another source and its pages (a
 * BullMQ flow, whose scripts need all its keys in one slot) run on the cluster as the default
 * source's do, and the sources' keys lie in different slots.
 */
import type { QueueStoreOfKind } from '../../src/stores/queue-store.js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { createRedisConnection } from '../../src/stores/redis-connection.js';
import { ACME_SANDBOX, acmeBcs, WITH_ACME } from '../helpers/acme-source.js';
import { diffCopyWithSandbox } from '../helpers/copy-diff.js';
import { startRedisCluster, type ClusterTopology } from '../helpers/redis-cluster.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe('the sources on a Redis Cluster', () => {
  let cluster: ClusterTopology;
  let h: SyncHarness;
  const prefix = `{cluster-${randomBytes(4).toString('hex')}}`;

  beforeAll(async () => {
    cluster = await startRedisCluster({ appendOnly: false });
    const connection = createRedisConnection(
      cluster.env.REDIS_URL!,
      'worker',
      createLogger({ level: 'silent', pretty: false }),
      { cluster: { nodes: cluster.nodes } },
    );
    h = await createSyncHarness({
      sandbox: ACME_SANDBOX,
      ...WITH_ACME,
      // Pages of two: each run is a flow of several pages.
      pageSize: 2,
      queueRedis: { connection, prefix },
    });
  });
  afterAll(async () => {
    await h?.dispose();
    await cluster?.stop();
  });

  it("copies each source's records through its own queues, each source's keys in a slot of its own", async () => {
    const [main, acme] = await Promise.all([
      h.add('sync-run', { trigger: 'test' }),
      h.add('sync-run', { family: 'acme.bcs', trigger: 'test' }),
    ]);
    expect(await h.wait(main)).toMatchObject({ status: 'succeeded' });
    expect(await h.wait(acme)).toMatchObject({ status: 'succeeded' });
    expect(await h.diffWithSandbox()).toEqual([]);
    expect(await diffCopyWithSandbox(h.db.db, h.sandbox.db('acme_db').control, acmeBcs)).toEqual(
      [],
    );
    expect(acme.queueName).toBe('acme.sync');
    expect(await h.runtime.queues.of('acme')['sync-page'].getJobCountByTypes('completed')).toBe(4);

    const backend = h.runtime.queues.backend as QueueStoreOfKind;
    if (backend.kind !== 'redis') throw new Error('the queues are on Redis here');
    const keys = [
      `${prefix}:sync:${main.id}`,
      `${prefix.replace('}', ':acme}')}:acme.sync:${acme.id}`,
    ];
    // Each run's job is under its source's prefix...
    for (const key of keys) expect(await backend.connection.exists(key)).toBe(1);
    // ...in its source's slot.
    const [mainSlot, acmeSlot] = await Promise.all(
      keys.map((key) => backend.connection.call('CLUSTER', 'KEYSLOT', key)),
    );
    expect(acmeSlot).not.toBe(mainSlot);
  });
});
