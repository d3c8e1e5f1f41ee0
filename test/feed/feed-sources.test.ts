/**
 * Whose records a consumer of the change feed receives (docs/feed.md, "Whose records"): a consumer
 * made while the deployment copied the default source alone — an unfiltered subscription, an
 * unfiltered pull, a `family=bcs` pull — receives exactly what it received before once a second
 * source is copied and both change; one that names both sources gets both, each change naming its
 * source and the path that reads that source's record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFeedReceiver, type FeedReceiver } from '../../dev/services/feed-receiver.js';
import { BC_LINE_MODEL, BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { createFamilies } from '../../src/families/registry.js';
import type { ChangeBody } from '../../src/feed/change-body.js';
import { generateSecret } from '../../src/feed/secret.js';
import { viewSubscription } from '../../src/feed/subscription-status.js';
import { readSubscription } from '../../src/feed/subscriptions.js';
import type { App } from '../../src/http/app.js';
import { ACME_SANDBOX, acmeBcs, WITH_ACME } from '../helpers/acme-source.js';
import { feedCaughtUp } from '../helpers/feed-visible.js';
import {
  createSyncHarness,
  LOOPBACK_RECEIVERS,
  TEST_FEED_SECRET_KEY,
  type SyncHarness,
} from '../helpers/sync-harness.js';
import { bearer, createTestApp, testConfig } from '../helpers/test-app.js';

/** Deliveries a subscription takes at most to catch up here: it delivers batches of 50. */
const DELIVERY_TURNS = 20;

describe('whose records a consumer of the feed receives', () => {
  let h: SyncHarness;
  let receiver: FeedReceiver;
  let api: App;
  /** The head when the consumers below were made: they read from there. */
  let since: string;
  const secret = generateSecret();

  beforeAll(async () => {
    h = await createSyncHarness({
      sandbox: ACME_SANDBOX,
      ...WITH_ACME,
      feed: {
        retentionDays: 7,
        allowedHosts: LOOPBACK_RECEIVERS,
        secretKey: TEST_FEED_SECRET_KEY,
        delivery: {
          timeoutMs: 2_000,
          batchMax: 50,
          backoffBaseMs: 20,
          backoffMaxMs: 300,
          giveUpMs: 600_000,
          turnMs: 1_000,
        },
      },
    });
    await h.run('sync-run', { trigger: 'test' });
    receiver = await startFeedReceiver({ secret });
    // The consumers are made through an API of the deployment as it stood before acme: it served
    // the default source's families alone.
    const before = await createTestApp(h.db, {
      config: testConfig({ FEED_ALLOWED_HOSTS: '127.0.0.0/8' }),
      families: createFamilies([bcsFamily]),
      queues: h.runtime.queues,
    });
    try {
      await feedCaughtUp(h.db.db);
      since = (await before.inject({ url: '/api/changes/head', headers: bearer('reader') })).json<{
        position: string;
      }>().position;
      const made = await before.inject({
        method: 'POST',
        url: '/api/changes/subscriptions',
        headers: bearer('admin'),
        payload: { name: 'portal', url: receiver.url, secret, from: since },
      });
      expect(made.statusCode, made.body).toBe(201);
      expect(made.json()).toMatchObject({
        subscription: { sources: ['default'], families: [] },
      });
    } finally {
      await before.close();
    }
    // acme is copied from now on, and both sources change.
    await h.run('sync-run', { family: acmeBcs.name, trigger: 'test' });
    for (const control of [h.sandbox.control, h.sandbox.db('acme_db').control]) {
      for (const id of control.ids(BC_MODEL).slice(0, 4))
        control.write(BC_MODEL, id, { origin: `storm of ${id}` });
      for (const line of control.ids(BC_LINE_MODEL).slice(0, 3))
        control.write(BC_LINE_MODEL, line, { product_qty: line });
    }
    await h.run('sync-run', { trigger: 'test' });
    await h.run('sync-run', { family: acmeBcs.name, trigger: 'test' });
    await feedCaughtUp(h.db.db);
    api = await createTestApp(h.db, { families: h.runtime.sync.families });
  }, 180_000);
  afterAll(async () => {
    await api?.close();
    await receiver?.close();
    await h?.dispose();
  });

  /** Every change a pull gives from `since` with the query `query`. */
  const pulled = async (query: string): Promise<ChangeBody[]> => {
    const changes: ChangeBody[] = [];
    let after = since;
    for (;;) {
      const page = await api.inject({
        url: `/api/changes?after=${after}&limit=500${query}`,
        headers: bearer('reader'),
      });
      expect(page.statusCode, page.body).toBe(200);
      const body = page.json<{ changes: ChangeBody[]; next: string }>();
      changes.push(...body.changes);
      if (body.changes.length === 0) return changes;
      after = body.next;
    }
  };
  const ids = (changes: readonly ChangeBody[]) => changes.map((change) => change.id);

  it("delivers to a subscription made before the second source the default source's changes alone", async () => {
    const lag = async () => {
      const row = (await readSubscription(h.db.db, { name: 'portal' }))!;
      return { id: row.id, changes: (await viewSubscription(h.db.db, row)).lagChanges };
    };
    for (let turn = 0; turn < DELIVERY_TURNS; turn += 1) {
      const left = await lag();
      if (left.changes === 0) break;
      await h.run('feed-deliver', { subscriptionId: left.id });
    }
    expect((await lag()).changes).toBe(0);
    const defaults = await pulled('&source=default');
    expect(defaults.length).toBeGreaterThan(0);
    expect(new Set(receiver.changes.map((change) => change.source))).toEqual(new Set(['default']));
    expect(ids(receiver.changes)).toEqual(ids(defaults));
  });

  it('gives an unfiltered pull and a family=bcs pull the default source alone, as before', async () => {
    const defaults = ids(await pulled('&source=default'));
    expect(ids(await pulled(''))).toEqual(defaults);
    expect(ids(await pulled('&family=bcs'))).toEqual(defaults);
  });

  it("gives a consumer that names both sources both, each change with the path of its source's record", async () => {
    const both = await pulled('&source=default,acme');
    expect(ids(await pulled('&source=*'))).toEqual(ids(both));
    const sources = [...new Set(both.map((change) => change.source))].sort();
    expect(sources).toEqual(['acme', 'default']);
    for (const source of sources) {
      const changes = both.filter((change) => change.source === source);
      const root = changes.find((change) => change.model === BC_MODEL)!;
      const line = changes.find((change) => change.model === BC_LINE_MODEL)!;
      for (const change of [root, line]) {
        expect(change.path).toBe(
          `${source === 'default' ? '/api' : `/api/sources/${source}`}/models/${change.model}/records/${change.odooId}`,
        );
        const record = await api.inject({ url: change.path, headers: bearer('reader') });
        expect(record.statusCode, record.body).toBe(200);
        expect(record.json()).toMatchObject({ odooId: change.odooId });
      }
    }
    // Each source's record of a shared id is its own: the paths differ where the ids collide.
    const paths = new Set(both.map((change) => change.path));
    expect(paths.size).toBe(
      new Set(both.map((change) => `${change.source} ${change.model} ${change.odooId}`)).size,
    );
  });
});
