/**
 * The webhook inbox: Odoo posts an event once, and Redis can lose the job the API queued for it
 * (a failover to a replica that had not received it, a restart without its data) or be away when
 * the event comes. The API keeps each event in PostgreSQL before it answers; a job that writes the
 * record settles it; a worker queues again what no job settled (src/sync/webhook-inbox.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { buildApp } from '../../src/http/app.js';
import { requeueUnsettledWebhooks } from '../../workers/webhook-requeue.js';
import { createSyncHarness, listenForWebhooks, type SyncHarness } from '../helpers/sync-harness.js';
import { memoryLogger, testConfig } from '../helpers/test-app.js';
import { redisAway } from '../helpers/redis-away.js';

describe('the webhook inbox', () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 12, linesPerOrder: 2 } });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  const inbox = async () =>
    rowsOf<{ record_id: number; requeues: number }>(
      await h.db.db.execute(sql`select record_id, requeues from sync_webhook_inbox order by id`),
    );
  /** The time a worker waits before it queues an unsettled event again, as if it had passed. */
  const timePasses = () =>
    h.db.db.execute(sql`update sync_webhook_inbox set queued_at = now() - interval '2 minutes'`);
  const requeue = () =>
    requeueUnsettledWebhooks({
      db: h.db.db,
      queues: h.runtime.queues,
      families: [h.family.name],
      debounceMs: 0,
      logger: h.logger,
    });
  const nameOf = async (id: number) => (await h.copyOf(id)).bc?.name;

  it('settles an event once its job has written the record: nothing stays behind', async () => {
    const { app, url } = await listenForWebhooks(h, { debounceMs: 0 });
    try {
      const id = h.sandbox.control.ids(BC_MODEL)[0]!;
      h.sandbox.control.setWebhook({ url, models: [BC_MODEL], fields: ['write_date'] });
      const done = h.nextCompleted('sync-webhook', 'hook-');
      h.sandbox.control.write(BC_MODEL, id, { name: 'settled by its job' });
      await h.sandbox.control.settled();
      expect(await done).toMatchObject({ odooId: id, committed: true });
      expect(await nameOf(id)).toBe('settled by its job');
      expect(await inbox()).toEqual([]);
      // Nothing is due again: the worker queues nothing.
      await timePasses();
      expect(await requeue()).toBe(0);
    } finally {
      h.sandbox.control.setWebhook(undefined);
      await app.close();
    }
  });

  it('an event whose job Redis lost reaches the copy: a worker queues it again', async () => {
    // A long debounce: the job waits in Redis when Redis loses it.
    const { app, url } = await listenForWebhooks(h, { debounceMs: 60_000 });
    try {
      const id = h.sandbox.control.ids(BC_MODEL)[1]!;
      h.sandbox.control.setWebhook({ url, models: [BC_MODEL], fields: ['write_date'] });
      h.sandbox.control.write(BC_MODEL, id, { name: 'announced once' });
      await h.sandbox.control.settled();
      const webhooks = h.runtime.queues.byName['sync-webhook'];
      expect(await webhooks.getJobCounts('delayed')).toEqual({ delayed: 1 });
      await webhooks.obliterate({ force: true });
      expect(await inbox()).toEqual([{ record_id: id, requeues: 0 }]);
      expect(await nameOf(id)).not.toBe('announced once');

      // Not due yet: a job may still be on its way.
      expect(await requeue()).toBe(0);
      await timePasses();
      const done = h.nextCompleted('sync-webhook', 'hook-');
      expect(await requeue()).toBe(1);
      expect(await done).toMatchObject({ odooId: id, committed: true });
      expect(await nameOf(id)).toBe('announced once');
      expect(await inbox()).toEqual([]);
    } finally {
      h.sandbox.control.setWebhook(undefined);
      await app.close();
    }
  });

  it('with Redis away when Odoo posts, the event is kept (202) and reaches the copy later', async () => {
    const away = redisAway();
    const token = randomBytes(32).toString('base64url');
    const app = await buildApp({
      config: testConfig({
        ODOO_WEBHOOK_TOKENS: createHash('sha256').update(token).digest('hex'),
      }),
      logger: memoryLogger('fatal').logger,
      db: h.db,
      queues: away.queues,
      families: h.runtime.sync.families,
    });
    try {
      const id = h.sandbox.control.ids(BC_MODEL)[2]!;
      h.sandbox.control.write(BC_MODEL, id, { name: 'posted while Redis was away' });
      // Without a stamp: the event's second read settles it.
      const answer = await app.inject({
        method: 'POST',
        url: `/hooks/odoo/${token}`,
        payload: { _model: BC_MODEL, _id: id, _action: 'write' },
      });
      expect(answer.statusCode).toBe(202);
      expect(answer.json()).toEqual({ queued: false, deduplicated: false });
      expect(await inbox()).toEqual([{ record_id: id, requeues: 0 }]);

      await timePasses();
      expect(await requeue()).toBe(1);
      await vi.waitFor(async () => expect(await inbox()).toEqual([]), {
        timeout: 20_000,
        interval: 50,
      });
      expect(await nameOf(id)).toBe('posted while Redis was away');
    } finally {
      await app.close();
      await away.close();
    }
  });

  it("an older event queued again leaves a later event's waiting job as it is", async () => {
    const { app, path } = await listenForWebhooks(h, { debounceMs: 60_000 });
    const webhooks = h.runtime.queues.byName['sync-webhook'];
    try {
      const id = h.sandbox.control.ids(BC_MODEL)[3]!;
      const post = (writeDate: string) =>
        app.inject({
          method: 'POST',
          url: path,
          payload: { _model: BC_MODEL, _id: id, _action: 'write', id, write_date: writeDate },
        });
      // The older event's job is lost with Redis; the later one's waits for its root.
      expect((await post('2026-03-01 10:00:00')).statusCode).toBe(202);
      await webhooks.obliterate({ force: true });
      expect((await post('2026-03-01 10:00:05')).statusCode).toBe(202);
      const [older, later] = rowsOf<{ id: string }>(
        await h.db.db.execute(
          sql`select id::text as id from sync_webhook_inbox where record_id = ${id} order by id`,
        ),
      );
      // Only the older one is due again.
      await h.db.db.execute(
        sql`update sync_webhook_inbox set queued_at = now() - interval '2 minutes' where id = ${older!.id}`,
      );
      expect(await requeue()).toBe(1);
      const waiting = await webhooks.getJobs(['delayed']);
      expect(waiting.map((job) => (job.data as { inbox?: { throughId: number } }).inbox)).toEqual([
        { throughId: Number(later!.id), unstamped: false },
      ]);
    } finally {
      await webhooks.obliterate({ force: true });
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
      await app.close();
    }
  });
});
