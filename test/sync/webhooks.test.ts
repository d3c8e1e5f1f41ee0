/**
 * Changes pushed by Odoo: the sandbox's automation rule posts from inside its transaction,
 * before the commit, as Odoo 17 and 18 do; the API queues, the worker reads once the change is
 * committed. Polling stays the safety net for webhooks Odoo dropped.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/http/app.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

describe('changes pushed by Odoo webhooks', () => {
  let h: SyncHarness;
  let app: App;
  let hook: string;
  const token = randomBytes(32).toString('base64url');
  beforeAll(async () => {
    h = await createSyncHarness({ sandbox: { orders: 20, linesPerOrder: 2 } });
    await h.run('sync-run', { trigger: 'test' });
    app = await buildApp({
      config: testConfig({
        ODOO_WEBHOOK_TOKENS: createHash('sha256').update(token).digest('hex'),
        // Long enough that a burst of writes on a loaded machine still collapses into one read.
        ODOO_WEBHOOK_DEBOUNCE_MS: '300',
      }),
      logger: memoryLogger('warn').logger,
      db: h.db,
      queues: h.runtime.queues,
    });
    hook = `${await app.listen({ host: '127.0.0.1', port: 0 })}/hooks/odoo/${token}`;
  });
  afterEach(async () => {
    h.sandbox.control.setWebhook(undefined);
    await h.sandbox.control.settled();
  });
  afterAll(async () => {
    await app.close();
    await h.dispose();
  });

  const c = () => h.sandbox.control;
  const webhookDone = () => h.nextCompleted('sync-webhook', 'hook-');

  it('a change reaches the copy through its webhook, with no polling run', async () => {
    const id = c().ids(BC_MODEL)[0]!;
    const runsBefore = (await h.runs()).length;
    c().setWebhook({ url: hook, fields: ['write_date'] });
    const done = webhookDone();
    c().write(BC_MODEL, id, { origin: 'pushed by Odoo' });
    expect(await done).toMatchObject({ odooId: id, action: 'updated', committed: true });
    expect((await h.copyOf(id)).bc!.origin).toBe('pushed by Odoo');
    expect((await h.runs()).length).toBe(runsBefore);
    expect((await h.auditRows()).at(-1)).toMatchObject({
      odooId: id,
      action: 'updated',
      trigger: 'webhook',
      runId: null,
    });
  });

  it('a webhook that arrives before the commit still ends with the committed version', async () => {
    const id = c().ids(BC_MODEL)[1]!;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    c().setWebhook({ url: hook, fields: ['write_date'], beforeCommit: () => held });
    const done = webhookDone();
    // The job reads while Odoo still shows the old version; only then does Odoo commit.
    void c()
      .waitForCall({ model: BC_MODEL })
      .then(() => release());
    c().write(BC_MODEL, id, { origin: 'committed late' });
    expect(await done).toMatchObject({ odooId: id, committed: true });
    expect((await h.copyOf(id)).bc!.origin).toBe('committed late');
  });

  it("a line's event resolves its BC from Odoo", async () => {
    const bcId = c().ids(BC_MODEL)[2]!;
    const [line] = c()
      .records(BC_LINE_MODEL, { fields: ['bc_id'] })
      .filter((l) => {
        const bc = l.bc_id as [number, string];
        return bc[0] === bcId;
      });
    c().setWebhook({ url: hook, models: [BC_LINE_MODEL], fields: ['write_date'] });
    const done = webhookDone();
    c().write(BC_LINE_MODEL, line!.id, { name: 'line pushed by Odoo' });
    expect(await done).toMatchObject({ odooId: bcId, committed: true });
    const copy = await h.copyOf(bcId);
    expect(copy.lines.find((l) => l.odooId === line!.id)?.data.name).toBe('line pushed by Odoo');
  });

  it('a dropped webhook is caught by the next polling run', async () => {
    const id = c().ids(BC_MODEL)[3]!;
    c().setWebhook({ url: hook, fields: ['write_date'], drop: () => true });
    c().write(BC_MODEL, id, { origin: 'webhook dropped' });
    await c().settled();
    expect((await h.copyOf(id)).bc!.origin).not.toBe('webhook dropped');
    await h.run('sync-run', { trigger: 'test' });
    expect((await h.copyOf(id)).bc!.origin).toBe('webhook dropped');
  });

  it('a burst of 50 events on one BC makes at most 2 Odoo reads', async () => {
    const id = c().ids(BC_MODEL)[4]!;
    c().setWebhook({ url: hook, fields: ['write_date'] });
    await c().settled();
    c().resetCalls();
    const done = webhookDone();
    for (let i = 1; i <= 50; i += 1) c().write(BC_MODEL, id, { origin: `burst ${i}` });
    await c().settled();
    expect(await done).toMatchObject({ odooId: id, committed: true });
    expect((await h.copyOf(id)).bc!.origin).toBe('burst 50');
    const reads = c()
      .calls()
      .filter((call) => call.service === 'object')
      .reduce((sum, call) => sum + call.count, 0);
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThanOrEqual(2);
  });

  it('a deletion archives the BC once Odoo confirms it is gone', async () => {
    const id = c().ids(BC_MODEL)[5]!;
    c().setWebhook({ url: `${hook}?event=deleted`, models: [BC_MODEL] });
    const done = webhookDone();
    c().unlink(BC_MODEL, id);
    expect(await done).toMatchObject({ odooId: id, committed: true });
    const { bc } = await h.copyOf(id);
    expect(bc!.archivedAt).not.toBeNull();
    expect(bc!.archiveReason).toBe('deleted in Odoo');
  });

  it('refuses a bad token (404), a huge body (413) and a foreign model (422), queuing nothing', async () => {
    const queue = h.runtime.queues.byName['sync-webhook'];
    const before = await queue.getJobCounts('waiting', 'delayed', 'active');
    const post = (url: string, body: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const valid = JSON.stringify({ _model: BC_MODEL, _id: 1, _action: 'x' });
    const wrongToken = await post(`${hook.slice(0, -4)}AAAA`, valid);
    expect(wrongToken.status).toBe(404);
    expect(await wrongToken.json()).toMatchObject({ error: 'NOT_FOUND' });
    expect((await post(`${hook}x`, valid)).status).toBe(404);
    const huge = await post(
      hook,
      JSON.stringify({ _model: BC_MODEL, _id: 1, pad: 'x'.repeat(100_000) }),
    );
    expect(huge.status).toBe(413);
    const foreign = await post(hook, JSON.stringify({ _model: 'res.users', _id: 1 }));
    expect(foreign.status).toBe(422);
    expect(await foreign.json()).toMatchObject({ error: 'UNKNOWN_MODEL' });
    expect((await post(hook, '{"_model": ')).status).toBe(400);
    expect(await queue.getJobCounts('waiting', 'delayed', 'active')).toEqual(before);

    const metrics = await app.inject({ url: '/metrics', headers: bearer('operator') });
    const count = (outcome: string) =>
      Number(
        new RegExp(`^erp_bridge_webhook_events_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(
          metrics.body,
        )?.[1] ?? 0,
      );
    expect(count('rejected')).toBeGreaterThanOrEqual(3);
    expect(count('queued')).toBeGreaterThanOrEqual(5);
    expect(count('deduplicated')).toBeGreaterThanOrEqual(1);
  });
});
