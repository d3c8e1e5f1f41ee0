/**
 * Changes of the other families pushed by Odoo (test/sync/webhooks.test.ts for BCs): the
 * sandbox's automation rule posts from inside its transaction, before the commit, as Odoo 17 and
 * 18 do; the API routes the event to its family by its model and queues it, the worker reads once
 * the change is committed. Polling stays the safety net for webhooks Odoo dropped.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/http/app.js';
import { childIdsOf, FAMILY_CASES, MOVES_CASE, PARTNERS_CASE } from '../../helpers/family-cases.js';
import { copyOfRoot } from '../../helpers/family-copy.js';
import { createSyncHarness, type SyncHarness } from '../../helpers/sync-harness.js';
import { memoryLogger, testConfig } from '../../helpers/test-app.js';

describe('changes of moves and partners pushed by Odoo webhooks', () => {
  let h: SyncHarness;
  let app: App;
  let hook: string;
  const token = randomBytes(32).toString('base64url');
  beforeAll(async () => {
    h = await createSyncHarness({
      families: [MOVES_CASE.family, PARTNERS_CASE.family],
      sandbox: {
        ...MOVES_CASE.sandbox({ roots: 20, childrenPerRoot: 2 }),
        ...PARTNERS_CASE.sandbox({ roots: 20 }),
      },
    });
    for (const c of FAMILY_CASES)
      await h.run('sync-run', { family: c.family.name, trigger: 'test' });
    app = await buildApp({
      config: testConfig({
        SYNC_FAMILIES: FAMILY_CASES.map((c) => c.family.name).join(','),
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

  const control = () => h.sandbox.control;
  /** The next webhook job of this family to complete: one left over from another family's test never answers. */
  const webhookDone = (family: string) => h.nextCompleted('sync-webhook', `hook-${family}.`);

  describe.each(FAMILY_CASES)('$family.name', (c) => {
    const models = [c.rootModel, ...(c.childModel ? [c.childModel] : [])];
    const rootText = async (id: number) =>
      (await copyOfRoot(h.db.db, c.family, id)).root!.data[c.rootText];

    it('a change reaches the copy through its webhook, with no polling run', async () => {
      const id = c.standalone(control())[0]!;
      const runsBefore = (await h.runs()).length;
      control().setWebhook({ url: hook, models, fields: ['write_date'] });
      const done = webhookDone(c.family.name);
      control().write(c.rootModel, id, { [c.rootText]: 'pushed by Odoo' });
      expect(await done).toMatchObject({
        family: c.family.name,
        odooId: id,
        action: 'updated',
        committed: true,
      });
      expect(await rootText(id)).toBe('pushed by Odoo');
      expect((await h.runs()).length).toBe(runsBefore);
      // The root's own row (a move's lines follow it: their move's display name moved).
      const audits = (await h.auditRows()).filter((a) => a.model === c.rootModel);
      expect(audits.at(-1)).toMatchObject({
        family: c.family.name,
        odooId: id,
        action: 'updated',
        trigger: 'webhook',
        runId: null,
      });
    });

    it('a webhook that arrives before the commit still ends with the committed version', async () => {
      const id = c.standalone(control())[1]!;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      control().setWebhook({ url: hook, models, fields: ['write_date'], beforeCommit: () => held });
      const done = webhookDone(c.family.name);
      // The job reads while Odoo still shows the old version; only then does Odoo commit.
      void control()
        .waitForCall({ model: c.rootModel })
        .then(() => release());
      control().write(c.rootModel, id, { [c.rootText]: 'committed late' });
      expect(await done).toMatchObject({ odooId: id, committed: true });
      expect(await rootText(id)).toBe('committed late');
    });

    it('a dropped webhook is caught by the next polling run', async () => {
      const id = c.standalone(control())[2]!;
      control().setWebhook({ url: hook, models, fields: ['write_date'], drop: () => true });
      control().write(c.rootModel, id, { [c.rootText]: 'webhook dropped' });
      await control().settled();
      expect(await rootText(id)).not.toBe('webhook dropped');
      await h.run('sync-run', { family: c.family.name, trigger: 'test' });
      expect(await rootText(id)).toBe('webhook dropped');
      expect(await h.diffWithSandbox(c.family)).toEqual([]);
    });

    it('a burst of 50 events on one root makes at most 2 Odoo reads', async () => {
      const id = c.standalone(control())[3]!;
      control().setWebhook({ url: hook, models, fields: ['write_date'] });
      await control().settled();
      control().resetCalls();
      const done = webhookDone(c.family.name);
      for (let i = 1; i <= 50; i += 1)
        control().write(c.rootModel, id, { [c.rootText]: `burst ${i}` });
      await control().settled();
      expect(await done).toMatchObject({ odooId: id, committed: true });
      expect(await rootText(id)).toBe('burst 50');
      const reads = control()
        .calls()
        .filter((call) => call.service === 'object')
        .reduce((sum, call) => sum + call.count, 0);
      expect(reads).toBeGreaterThan(0);
      expect(reads).toBeLessThanOrEqual(2);
    });

    it('a deletion archives the root once Odoo confirms it is gone', async () => {
      // A root nothing in Odoo points at: Odoo refuses to delete a contact a move names.
      const named = new Set(
        control()
          .records(MOVES_CASE.rootModel, { load: '', fields: ['partner_id'] })
          .map((move) => move.partner_id),
      );
      const id = c.standalone(control()).find((candidate) => !named.has(candidate))!;
      control().setWebhook({ url: `${hook}?event=deleted`, models: [c.rootModel] });
      const done = webhookDone(c.family.name);
      control().unlink(c.rootModel, id);
      expect(await done).toMatchObject({ family: c.family.name, odooId: id, committed: true });
      const { root } = await copyOfRoot(h.db.db, c.family, id);
      expect(root).toMatchObject({ archive_reason: 'deleted in Odoo' });
      expect(root!.archived_at).not.toBeNull();
      expect(await h.diffWithSandbox(c.family)).toEqual([]);
    });
  });

  it('refuses an event of a model whose family is not copied here (422), queuing nothing', async () => {
    const queue = h.runtime.queues.byName['sync-webhook'];
    const before = await queue.getJobCounts('waiting', 'delayed', 'active');
    const response = await fetch(hook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ _model: 'dimagaz.bc', _id: 1, _action: 'x' }),
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ error: 'UNKNOWN_MODEL' });
    expect(await queue.getJobCounts('waiting', 'delayed', 'active')).toEqual(before);
  });

  describe('journal items', () => {
    const c = MOVES_CASE;
    const lineText = async (moveId: number, lineId: number) =>
      (await copyOfRoot(h.db.db, c.family, moveId)).children[0]!.find(
        (row) => row.odoo_id === lineId,
      )?.data[c.childText!];

    it("a line's event resolves its move from Odoo", async () => {
      const moveId = c.standalone(control())[10]!;
      const [line] = childIdsOf(control(), c, moveId);
      control().setWebhook({ url: hook, models: [c.childModel!], fields: ['write_date'] });
      const done = webhookDone(c.family.name);
      control().write(c.childModel!, line!, { [c.childText!]: 'line pushed by Odoo' });
      expect(await done).toMatchObject({ family: c.family.name, odooId: moveId, committed: true });
      expect(await lineText(moveId, line!)).toBe('line pushed by Odoo');
    });

    it("a line's deletion, its event naming its move, deletes the line from the copy", async () => {
      const moveId = c.standalone(control())[11]!;
      const [line, kept] = childIdsOf(control(), c, moveId);
      control().setWebhook({
        url: `${hook}?event=deleted`,
        models: [c.childModel!],
        fields: ['write_date', 'move_id'],
      });
      const done = webhookDone(c.family.name);
      control().unlink(c.childModel!, line!);
      expect(await done).toMatchObject({ family: c.family.name, odooId: moveId, committed: true });
      const { root, children } = await copyOfRoot(h.db.db, c.family, moveId);
      expect(children[0]!.map((row) => row.odoo_id)).toEqual([kept]);
      expect(root!.archived_at).toBeNull();
      expect(await h.diffWithSandbox(c.family)).toEqual([]);
    });
  });
});
