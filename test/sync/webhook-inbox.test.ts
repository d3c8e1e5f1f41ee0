/**
 * The webhook inbox: Odoo posts an event once, and Redis can lose the job the API queued for it
 * (a failover to a replica that had not received it, a restart without its data) or be away when
 * the event comes. The API keeps each event in PostgreSQL before it answers; a job that writes the
 * record settles it; a worker queues again what no job settled (src/sync/webhook-inbox.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { Registry, type Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { buildApp } from '../../src/http/app.js';
import {
  keepWebhook,
  noteUnseenReads,
  pendingWebhooks,
  settleWebhooks,
  UNSEEN_AFTER_READS,
} from '../../src/sync/webhook-inbox.js';
import { requeueUnsettledWebhooks } from '../../workers/webhook-requeue.js';
import { registerWebhookInboxMetrics } from '../../workers/worker-metrics.js';
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
  const timePasses = () => h.db.db.execute(sql`update sync_webhook_inbox set due_at = now()`);
  const requeue = (unseen?: Counter<'family' | 'source'>) =>
    requeueUnsettledWebhooks({
      db: h.db.db,
      queues: h.runtime.queues,
      families: [h.family.name],
      debounceMs: 0,
      logger: h.logger,
      ...(unseen ? { unseen } : {}),
    });
  const nameOf = async (id: number) => (await h.copyOf(id)).bc?.name;
  /** The events kept, as a job would find them. */
  const kept = async () =>
    rowsOf<{ record_id: number; deleted: boolean; requeues: number }>(
      await h.db.db.execute(
        sql`select record_id, deleted, requeues from sync_webhook_inbox order by id`,
      ),
    );
  /** A BC's `write_date` as Odoo's reads give it. */
  const stampOf = (id: number) =>
    h.sandbox.control.records(BC_MODEL, { ids: [id], fields: ['write_date'] })[0]!
      .write_date as string;
  /** A stamp a second after `stamp`, as Odoo writes it. */
  const aSecondAfter = (stamp: string) =>
    new Date(Date.parse(`${stamp.replace(' ', 'T')}Z`) + 1_000)
      .toISOString()
      .slice(0, 19)
      .replace('T', ' ');
  /**
   * A transaction that commits only once released, as Odoo 17 and 18 post from inside it: a
   * confirm that creates moves and invoices, an import.
   */
  function heldCommit() {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    return { held: () => held, release: () => release() };
  }
  /**
   * Commits what `commit` held; then a worker's pass queues the event again, and its read shows
   * it: the job's result matches `outcome`, and nothing stays in the inbox.
   */
  async function readAgainOnceCommitted(
    commit: ReturnType<typeof heldCommit>,
    outcome: Record<string, unknown>,
  ) {
    commit.release();
    await h.sandbox.control.settled();
    await timePasses();
    const again = h.nextCompleted('sync-webhook', 'hook-');
    expect(await requeue()).toBe(1);
    expect(await again).toMatchObject({ ...outcome, committed: true });
    expect(await kept()).toEqual([]);
  }

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
        sql`update sync_webhook_inbox set due_at = now() where id = ${older!.id}`,
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

  it("a deletion event stays until a read shows the root gone, though a later event of the root took its job's place", async () => {
    const { app, path, url } = await listenForWebhooks(h, { debounceMs: 60_000 });
    const webhooks = h.runtime.queues.byName['sync-webhook'];
    const commit = heldCommit();
    try {
      const id = h.sandbox.control.ids(BC_MODEL)[4]!;
      h.sandbox.control.write(BC_MODEL, id, { name: 'edited, then deleted' });
      const stamp = stampOf(id);
      // The deletion is posted from inside its transaction, which commits once released.
      h.sandbox.control.setWebhook({
        url: `${url}?event=deleted`,
        models: [BC_MODEL],
        beforeCommit: commit.held,
      });
      h.sandbox.control.unlink(BC_MODEL, id);
      // Kept, then queued: the route writes the inbox before it queues the job.
      await vi.waitFor(
        async () => {
          expect(await kept()).toEqual([{ record_id: id, deleted: true, requeues: 0 }]);
          expect(await webhooks.getJobs(['delayed'])).toHaveLength(1);
        },
        { timeout: 10_000, interval: 50 },
      );
      // The edit's event comes after it: its job takes the waiting deletion job's place.
      const edit = await app.inject({
        method: 'POST',
        url: path,
        payload: { _model: BC_MODEL, _id: id, _action: 'write', id, write_date: stamp },
      });
      expect(edit.json()).toEqual({ queued: true, deduplicated: true });
      const read = h.nextCompleted('sync-webhook', 'hook-');
      for (const job of await webhooks.getJobs(['delayed'])) await job.promote();
      const outcome = await read;
      // The read showed the edit, and the BC still there: the deletion stays.
      expect(await kept()).toEqual([{ record_id: id, deleted: true, requeues: 0 }]);
      expect(outcome).toMatchObject({ odooId: id, committed: false });
      expect((await h.copyOf(id)).bc).toMatchObject({
        name: 'edited, then deleted',
        archivedAt: null,
      });

      await readAgainOnceCommitted(commit, { odooId: id, action: 'archived' });
      expect((await h.copyOf(id)).bc?.archivedAt).not.toBeNull();
    } finally {
      h.sandbox.control.setWebhook(undefined);
      commit.release();
      await webhooks.obliterate({ force: true });
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
      await app.close();
    }
  });

  it('a deletion whose transaction commits after its job gave up waiting stays until a read shows the root gone', async () => {
    const { app, url } = await listenForWebhooks(h, { debounceMs: 0 });
    const commit = heldCommit();
    try {
      const id = h.sandbox.control.ids(BC_MODEL)[5]!;
      h.sandbox.control.setWebhook({
        url: `${url}?event=deleted`,
        models: [BC_MODEL],
        beforeCommit: commit.held,
      });
      const read = h.nextCompleted('sync-webhook', 'hook-');
      h.sandbox.control.unlink(BC_MODEL, id);
      const outcome = await read;
      expect(await kept()).toEqual([{ record_id: id, deleted: true, requeues: 0 }]);
      expect(outcome).toMatchObject({ odooId: id, committed: false });
      expect((await h.copyOf(id)).bc?.archivedAt).toBeNull();

      await readAgainOnceCommitted(commit, { odooId: id, action: 'archived' });
      expect((await h.copyOf(id)).bc?.archivedAt).not.toBeNull();
    } finally {
      h.sandbox.control.setWebhook(undefined);
      commit.release();
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
      await app.close();
    }
  });

  /**
   * Writes BC `index`'s name in a transaction that commits only once released, with Odoo's
   * webhook on; `test` runs once the event's job has read and not shown it. Cleans up after.
   */
  async function withLateCommittedWrite(
    index: number,
    name: string,
    test: (id: number, commit: ReturnType<typeof heldCommit>) => Promise<void>,
  ) {
    const { app, url } = await listenForWebhooks(h, { debounceMs: 0 });
    const commit = heldCommit();
    try {
      const id = h.sandbox.control.ids(BC_MODEL)[index]!;
      h.sandbox.control.setWebhook({
        url,
        models: [BC_MODEL],
        fields: ['write_date'],
        beforeCommit: commit.held,
      });
      const read = h.nextCompleted('sync-webhook', 'hook-');
      h.sandbox.control.write(BC_MODEL, id, { name });
      expect(await read).toMatchObject({ odooId: id, committed: false });
      expect(await kept()).toEqual([{ record_id: id, deleted: false, requeues: 0 }]);
      expect(await nameOf(id)).not.toBe(name);
      await test(id, commit);
    } finally {
      h.sandbox.control.setWebhook(undefined);
      commit.release();
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
      await app.close();
    }
  }

  it('a stamped event whose transaction commits after its job gave up waiting stays until a read shows its stamp', () =>
    withLateCommittedWrite(6, 'committed late', async (id, commit) => {
      await readAgainOnceCommitted(commit, { odooId: id });
      expect(await nameOf(id)).toBe('committed late');
    }));

  it("a run's page that shows a late-committed event's change settles it, without waiting for its next queueing", () =>
    withLateCommittedWrite(7, 'shown by a run', async (id, commit) => {
      commit.release();
      await h.sandbox.control.settled();
      expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({
        status: 'succeeded',
      });
      expect(await nameOf(id)).toBe('shown by a run');
      // No worker's pass queued it again: the run's page settled it.
      expect(await kept()).toEqual([]);
    }));

  it("a run's page whose root no longer lists a child settles that child's late-committed deletion", async () => {
    const { app, url } = await listenForWebhooks(h, { debounceMs: 0 });
    const commit = heldCommit();
    try {
      // A BC whose lines no later test counts (deletions above shift the indices).
      const id = h.sandbox.control.ids(BC_MODEL)[2]!;
      const [line] = h.sandbox.control.records(BC_MODEL, { ids: [id], fields: ['line_ids'] })[0]!
        .line_ids as number[];
      h.sandbox.control.setWebhook({
        url: `${url}?event=deleted`,
        models: [BC_LINE_MODEL],
        fields: ['bc_id'],
        beforeCommit: commit.held,
      });
      const read = h.nextCompleted('sync-webhook', 'hook-');
      h.sandbox.control.unlink(BC_LINE_MODEL, line!);
      // Its job read the BC before the deletion committed: the line still listed, the event kept.
      expect(await read).toMatchObject({ odooId: id, committed: false });
      expect(await kept()).toEqual([{ record_id: line, deleted: true, requeues: 0 }]);
      commit.release();
      await h.sandbox.control.settled();
      // The BC is written too, so that the run's window holds it.
      h.sandbox.control.setWebhook(undefined);
      h.sandbox.control.write(BC_MODEL, id, { name: 'a line fewer' });
      expect(await h.run('sync-run', { trigger: 'test' })).toMatchObject({
        status: 'succeeded',
      });
      expect((await h.copyOf(id)).lines.map((copied) => copied.odooId)).not.toContain(line);
      // No worker's pass queued it again: the run's page settled it.
      expect(await kept()).toEqual([]);
    } finally {
      h.sandbox.control.setWebhook(undefined);
      commit.release();
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
      await app.close();
    }
  });

  it(`an event no read can show (its transaction rolled back) is settled after ${UNSEEN_AFTER_READS} reads, with a log line and a metric`, async () => {
    const { app, path } = await listenForWebhooks(h, { debounceMs: 0 });
    const registry = new Registry();
    const unseen = registerWebhookInboxMetrics(registry, h.db.db);
    try {
      const id = h.sandbox.control.ids(BC_MODEL)[7]!;
      // A stamp no committed version of the BC carries: Odoo posted it, then rolled back.
      const rolledBack = aSecondAfter(stampOf(id));
      const read = h.nextCompleted('sync-webhook', 'hook-');
      const posted = await app.inject({
        method: 'POST',
        url: path,
        payload: { _model: BC_MODEL, _id: id, _action: 'write', id, write_date: rolledBack },
      });
      expect(posted.statusCode).toBe(202);
      expect(await read).toMatchObject({ odooId: id, committed: false });
      // Not settled: the read did not show it.
      expect(await kept()).toEqual([{ record_id: id, deleted: false, requeues: 0 }]);
      for (let requeues = 0; requeues < UNSEEN_AFTER_READS - 1; requeues += 1) {
        expect(await kept()).toEqual([{ record_id: id, deleted: false, requeues }]);
        await timePasses();
        const again = h.nextCompleted('sync-webhook', 'hook-');
        expect(await requeue(unseen)).toBe(1);
        expect(await again).toMatchObject({ odooId: id, committed: false });
      }
      // Due once more after its last requeue: settled, unseen, and said so.
      await timePasses();
      expect(await requeue(unseen)).toBe(0);
      expect(await kept()).toEqual([]);
      expect(h.logLines.find((line) => line.includes('reads did not show'))).toContain(
        `"family":"${h.family.name}"`,
      );
      expect(
        (await registry.getSingleMetric('erp_bridge_webhook_events_unseen_total')?.get())?.values,
      ).toEqual([{ labels: { family: 'bcs', source: 'default' }, value: 1 }]);
    } finally {
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
      await app.close();
    }
  });

  it('an event whose stamp no version carries is settled by the first read past its stamp', async () => {
    const { app, path } = await listenForWebhooks(h, { debounceMs: 0 });
    try {
      const id = h.sandbox.control.ids(BC_MODEL)[8]!;
      const read = h.nextCompleted('sync-webhook', 'hook-');
      const posted = await app.inject({
        method: 'POST',
        url: path,
        payload: {
          _model: BC_MODEL,
          _id: id,
          _action: 'write',
          id,
          write_date: aSecondAfter(stampOf(id)),
        },
      });
      expect(posted.statusCode).toBe(202);
      expect(await read).toMatchObject({ odooId: id, committed: false });
      expect(await kept()).toEqual([{ record_id: id, deleted: false, requeues: 0 }]);
      // A later change, which Odoo posted no event for (a rule that failed to deliver).
      h.sandbox.control.write(BC_MODEL, id, { name: 'changed past the stamp' });
      await timePasses();
      const again = h.nextCompleted('sync-webhook', 'hook-');
      expect(await requeue()).toBe(1);
      expect(await again).toMatchObject({ odooId: id, committed: true, settled: 1 });
      expect(await nameOf(id)).toBe('changed past the stamp');
      expect(await kept()).toEqual([]);
    } finally {
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
      await app.close();
    }
  });

  it('settles unread, saying so, the events of a family no worker has copied for a day, and no other', async () => {
    const keep = async (family: string, receivedAgo: string) => {
      const id = await keepWebhook(h.db.db, {
        family,
        model: BC_MODEL,
        recordId: 1,
        deleted: true,
      });
      await h.db.db.execute(
        sql`update sync_webhook_inbox set received_at = now() - ${receivedAgo}::interval where id = ${id}`,
      );
    };
    const seen = (family: string, ago: string) =>
      h.db.db.execute(
        sql`insert into sync_family_seen (family, seen_at) values (${family}, now() - ${ago}::interval)`,
      );
    try {
      // Left the declarations two days ago; never noted by any worker (an older version's);
      // copied by another worker now; noted by none yet, its events an hour old (a worker to come).
      await keep('retired', '2 days');
      await seen('retired', '2 days');
      await keep('unnoted', '3 days');
      await keep('elsewhere', '3 days');
      await seen('elsewhere', '5 minutes');
      await keep('coming', '1 hour');
      await requeue();
      const left = rowsOf<{ family: string }>(
        await h.db.db.execute(sql`select family from sync_webhook_inbox order by family`),
      );
      expect(left.map((row) => row.family)).toEqual(['coming', 'elsewhere']);
      for (const family of ['retired', 'unnoted'])
        expect(
          h.logLines.find((line) => line.includes(`webhook event(s) of family ${family}`)),
        ).toContain('no worker has copied it for a day');
    } finally {
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
      await h.db.db.execute(sql`delete from sync_family_seen`);
    }
  });

  /**
   * Posts what `change` makes Odoo announce, with `rules` set, to an API whose jobs wait a minute;
   * then `meanwhile` changes Odoo, no rule firing, before the jobs' read: returns that read's result.
   */
  async function readAfter(
    rules: (url: string) => Parameters<typeof h.sandbox.control.setWebhook>[0],
    change: () => Promise<void> | void,
    meanwhile: () => Promise<void> | void,
  ): Promise<Record<string, unknown>> {
    const { app, url } = await listenForWebhooks(h, { debounceMs: 60_000 });
    const webhooks = h.runtime.queues.byName['sync-webhook'];
    try {
      h.sandbox.control.setWebhook(rules(url));
      await change();
      await h.sandbox.control.settled();
      h.sandbox.control.setWebhook(undefined);
      await meanwhile();
      const read = h.nextCompleted('sync-webhook', 'hook-');
      for (const job of await webhooks.getJobs(['delayed'])) await job.promote();
      return await read;
    } finally {
      h.sandbox.control.setWebhook(undefined);
      await webhooks.obliterate({ force: true });
      await app.close();
    }
  }
  const linesOf = async (id: number) => (await h.copyOf(id)).lines.map((line) => line.odooId);

  it('a line written, then deleted before its read, is settled by the read that shows it gone', async () => {
    try {
      const id = h.sandbox.control.ids(BC_MODEL).at(-1)!;
      const [line, other] = await linesOf(id);
      const outcome = await readAfter(
        (url) => ({ url, models: [BC_LINE_MODEL], fields: ['write_date', 'bc_id'] }),
        () => h.sandbox.control.write(BC_LINE_MODEL, line!, { name: 'written, then deleted' }),
        // No rule on deletions: Odoo says nothing of it.
        () => h.sandbox.control.unlink(BC_LINE_MODEL, line!),
      );
      expect(outcome).toMatchObject({ odooId: id, committed: true, settled: 1 });
      expect(await kept()).toEqual([]);
      expect(await linesOf(id)).toEqual([other]);
    } finally {
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
    }
  });

  it('a line whose rule sends no link, deleted before its read, is settled by the read of the root the copy holds it under', async () => {
    try {
      const id = h.sandbox.control.ids(BC_MODEL).at(-2)!;
      const [line, other] = await linesOf(id);
      const outcome = await readAfter(
        (url) => ({ url, models: [BC_LINE_MODEL], fields: ['write_date'] }),
        () => h.sandbox.control.write(BC_LINE_MODEL, line!, { name: 'written, then deleted' }),
        () => h.sandbox.control.unlink(BC_LINE_MODEL, line!),
      );
      expect(outcome).toMatchObject({ odooId: id, committed: true, settled: 1 });
      expect(await kept()).toEqual([]);
      expect(await linesOf(id)).toEqual([other]);
    } finally {
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
    }
  });

  it('a line written, then moved to another BC before its read, is settled by the read of the BC it moved to', async () => {
    try {
      const [from, to] = [
        h.sandbox.control.ids(BC_MODEL).at(-4)!,
        h.sandbox.control.ids(BC_MODEL).at(-5)!,
      ];
      const [line] = await linesOf(from);
      const outcome = await readAfter(
        (url) => ({ url, models: [BC_LINE_MODEL], fields: ['write_date', 'bc_id'] }),
        () => h.sandbox.control.write(BC_LINE_MODEL, line!, { name: 'written, then moved' }),
        // No rule fires now: the move's own event is lost, as any event may be.
        () => h.sandbox.control.write(BC_LINE_MODEL, line!, { bc_id: to }),
      );
      // The BC it was written under no longer lists it: that read could not show it, and did
      // not count against it; the event now waits on the BC the line moved to, due at once.
      expect(outcome).toMatchObject({ odooId: from, committed: false, settled: 0 });
      expect(
        rowsOf(
          await h.db.db.execute(
            sql`select record_id, root_id, unseen_reads, due_at <= now() as due from sync_webhook_inbox`,
          ),
        ),
      ).toEqual([{ record_id: line, root_id: to, unseen_reads: 0, due: true }]);
      const again = h.nextCompleted('sync-webhook', 'hook-');
      expect(await requeue()).toBe(1);
      expect(await again).toMatchObject({ odooId: to, committed: true, settled: 1 });
      expect(await kept()).toEqual([]);
      expect(await linesOf(to)).toContain(line);
      expect(await linesOf(from)).not.toContain(line);
    } finally {
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
    }
  });

  it("a line created and deleted before any read: its deletion shown, its creation's event is too", async () => {
    try {
      const id = h.sandbox.control.ids(BC_MODEL).at(-3)!;
      const before = await linesOf(id);
      let created = 0;
      // Odoo's usual rules: one on create and edit, one on deletion.
      const outcome = await readAfter(
        (url) => [
          {
            url,
            models: [BC_LINE_MODEL],
            on: ['create', 'write'],
            fields: ['write_date', 'bc_id'],
          },
          {
            url: `${url}?event=deleted`,
            models: [BC_LINE_MODEL],
            on: ['unlink'],
            fields: ['bc_id'],
          },
        ],
        async () => {
          created = h.sandbox.control.create(BC_LINE_MODEL, { bc_id: id, name: 'short-lived' });
          await h.sandbox.control.settled();
          h.sandbox.control.unlink(BC_LINE_MODEL, created);
        },
        () => undefined,
      );
      expect(created).toBeGreaterThan(0);
      expect(outcome).toMatchObject({ odooId: id, committed: true, settled: 2 });
      expect(await kept()).toEqual([]);
      expect(await linesOf(id)).toEqual(before);
    } finally {
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
    }
  });

  it('a root written, then deleted and archived before its read, is settled by that read', async () => {
    try {
      const id = h.sandbox.control.ids(BC_MODEL).at(-4)!;
      const outcome = await readAfter(
        (url) => ({ url, models: [BC_MODEL], fields: ['write_date'] }),
        () => h.sandbox.control.write(BC_MODEL, id, { name: 'written, then deleted and archived' }),
        async () => {
          h.sandbox.control.unlink(BC_MODEL, id);
          // An operator's resync archives it before the event's read.
          await h.run('resync-record', { odooId: id, trigger: 'test' });
        },
      );
      expect(outcome).toMatchObject({ odooId: id, committed: true, settled: 1 });
      expect(await kept()).toEqual([]);
      expect((await h.copyOf(id)).bc?.archivedAt).not.toBeNull();
    } finally {
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
    }
  });

  it('counts towards settling unseen only the reads that ran: a paused queue leaves the event kept, for its reads to come', async () => {
    const { app, path } = await listenForWebhooks(h, { debounceMs: 0 });
    const webhooks = h.runtime.queues.byName['sync-webhook'];
    try {
      const id = h.sandbox.control.ids(BC_MODEL)[0]!;
      const read = h.nextCompleted('sync-webhook', 'hook-');
      const posted = await app.inject({
        method: 'POST',
        url: path,
        payload: {
          _model: BC_MODEL,
          _id: id,
          _action: 'write',
          id,
          write_date: aSecondAfter(stampOf(id)),
        },
      });
      expect(posted.statusCode).toBe(202);
      expect(await read).toMatchObject({ odooId: id, committed: false });
      // An operator pauses the webhook queue for hours: the passes queue it again, nothing reads.
      await webhooks.pause();
      for (let pass = 0; pass < UNSEEN_AFTER_READS + 2; pass += 1) {
        await timePasses();
        expect(await requeue()).toBe(1);
      }
      expect(
        rowsOf<{ unseen_reads: number; requeues: number }>(
          await h.db.db.execute(sql`select unseen_reads, requeues from sync_webhook_inbox`),
        ),
      ).toEqual([{ unseen_reads: 1, requeues: UNSEEN_AFTER_READS + 2 }]);
      // Resumed, a read shows it once Odoo has its stamp.
      await webhooks.obliterate({ force: true });
      await webhooks.resume();
      h.sandbox.control.write(BC_MODEL, id, { name: 'read once the queue resumed' });
      await timePasses();
      const again = h.nextCompleted('sync-webhook', 'hook-');
      expect(await requeue()).toBe(1);
      expect(await again).toMatchObject({ odooId: id, committed: true, settled: 1 });
      expect(await kept()).toEqual([]);
    } finally {
      await webhooks.resume();
      await webhooks.obliterate({ force: true });
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
      await app.close();
    }
  });

  it('settles a root with more events than a statement takes parameters', async () => {
    const events = 70_000;
    try {
      await h.db.db.execute(sql`
        insert into sync_webhook_inbox (family, model, record_id, root_id, write_date, deleted)
        select ${h.family.name}, ${BC_MODEL}, 1, 1, '2026-03-01 10:00:00', false
        from generate_series(1, ${events})`);
      const pending = await pendingWebhooks(
        h.db.db,
        { family: h.family.name, model: BC_MODEL, recordId: 1, rootId: 1, deleted: false },
        { throughId: Number.MAX_SAFE_INTEGER, unstamped: false },
      );
      expect(pending).toHaveLength(events);
      const ids = pending.map((event) => event.id);
      await noteUnseenReads(h.db.db, ids);
      expect(
        rowsOf<{ reads: number }>(
          await h.db.db.execute(
            sql`select count(*)::int as reads from sync_webhook_inbox where unseen_reads = 1`,
          ),
        ),
      ).toEqual([{ reads: events }]);
      expect(await settleWebhooks(h.db.db, ids)).toBe(events);
      expect(await kept()).toEqual([]);
    } finally {
      await h.db.db.execute(sql`delete from sync_webhook_inbox`);
    }
  });
});
