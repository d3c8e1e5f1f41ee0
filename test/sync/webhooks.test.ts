/**
 * Changes pushed by Odoo, in every family (test/helpers/family-cases.ts): the sandbox's
 * automation rule posts from inside its transaction, before the commit, as Odoo 17 and 18 do;
 * the API routes the event to its family by its model and queues it, the worker reads once the
 * change is committed. A child's event reads its root. Polling stays the safety net for webhooks
 * Odoo dropped; what is not a valid event of a copied model queues nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/http/app.js';
import {
  caseCopy,
  caseModels,
  childIdsOf,
  FAMILY_CASES,
  POSTGRES_QUEUE_CASES,
  type FamilyCase,
  useCaseHarness,
} from '../helpers/family-cases.js';
import { listenForWebhooks } from '../helpers/sync-harness.js';
import { bearer } from '../helpers/test-app.js';

/** The burst test's debounce: each event delays its root's job this long again. */
const BURST_DEBOUNCE_MS = 3_000;

function pushedByWebhooks(c: FamilyCase): void {
  const h = useCaseHarness(c, { size: { roots: 20, childrenPerRoot: 2 }, copied: true });
  let app: App;
  let hook: string;
  const models = caseModels(c);
  beforeAll(async () => {
    // Long enough that a burst of writes on a loaded machine still collapses into one read.
    ({ app, url: hook } = await listenForWebhooks(h, { debounceMs: 300 }));
  });
  afterEach(async () => {
    h.sandbox.control.setWebhook(undefined);
    await h.sandbox.control.settled();
    // No job of a case is left to complete during the next one.
    await webhooksDone();
  });
  afterAll(async () => {
    await app.close();
  });

  const control = () => h.sandbox.control;
  const webhookDone = () => h.nextCompleted('sync-webhook', 'hook-');
  /** Once Odoo has posted every event: until no webhook job waits or runs. */
  const webhooksDone = () =>
    vi.waitFor(
      async () =>
        expect(
          await h.runtime.queues.byName['sync-webhook'].getJobCounts(
            'waiting',
            'delayed',
            'prioritized',
            'active',
          ),
        ).toEqual({ waiting: 0, delayed: 0, prioritized: 0, active: 0 }),
      { timeout: 15_000, interval: 50 },
    );
  const copy = () => caseCopy(h, c);

  it('a change reaches the copy through its webhook, with no polling run', async () => {
    const id = c.standalone(control())[0]!;
    const runsBefore = (await h.runs()).length;
    control().setWebhook({ url: hook, models, fields: ['write_date'] });
    const done = webhookDone();
    control().write(c.rootModel, id, { [c.rootText]: 'pushed by Odoo' });
    expect(await done).toMatchObject({
      family: c.name,
      odooId: id,
      action: 'updated',
      committed: true,
    });
    expect(await copy().rootText(id)).toBe('pushed by Odoo');
    expect((await h.runs()).length).toBe(runsBefore);
    // The root's own row (children follow it where they hold its text).
    const audits = (await h.auditRows()).filter((a) => a.model === c.rootModel);
    expect(audits.at(-1)).toMatchObject({
      family: c.name,
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
    const done = webhookDone();
    // The job reads while Odoo still shows the old version; only then does Odoo commit.
    void control()
      .waitForCall({ model: c.rootModel })
      .then(() => release());
    control().write(c.rootModel, id, { [c.rootText]: 'committed late' });
    expect(await done).toMatchObject({ odooId: id, committed: true });
    expect(await copy().rootText(id)).toBe('committed late');
  });

  it("a child's event resolves its root from Odoo", async () => {
    if (c.childModel === undefined) {
      // The row's root has no children: every event names a root.
      expect(h.family.children).toEqual([]);
      return;
    }
    const rootId = c.standalone(control())[2]!;
    const [child] = childIdsOf(control(), c, rootId);
    control().setWebhook({ url: hook, models: [c.childModel], fields: ['write_date'] });
    const done = webhookDone();
    control().write(c.childModel, child!, { [c.childText!]: 'child pushed by Odoo' });
    expect(await done).toMatchObject({ family: c.name, odooId: rootId, committed: true });
    expect(await copy().childText(rootId, child!)).toBe('child pushed by Odoo');
  });

  it("a child's deletion, its event naming its root, deletes the child from the copy", async () => {
    if (c.childModel === undefined) {
      expect(h.family.children).toEqual([]);
      return;
    }
    const rootId = c.standalone(control())[3]!;
    const [child, ...kept] = childIdsOf(control(), c, rootId);
    control().setWebhook({
      url: `${hook}?event=deleted`,
      models: [c.childModel],
      fields: ['write_date', c.childLink!],
    });
    const done = webhookDone();
    control().unlink(c.childModel, child!);
    expect(await done).toMatchObject({ family: c.name, odooId: rootId, committed: true });
    expect((await copy().children(rootId)).map((row) => row.odoo_id)).toEqual(kept);
    expect((await copy().root(rootId))!.archived_at).toBeNull();
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a dropped webhook is caught by the next polling run', async () => {
    const id = c.standalone(control())[4]!;
    control().setWebhook({ url: hook, models, fields: ['write_date'], drop: () => true });
    control().write(c.rootModel, id, { [c.rootText]: 'webhook dropped' });
    await control().settled();
    expect(await copy().rootText(id)).not.toBe('webhook dropped');
    await h.run('sync-run', { trigger: 'test' });
    expect(await copy().rootText(id)).toBe('webhook dropped');
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('a burst of 50 events on one root, posted while its job waits, collapses into its job', async () => {
    const id = c.standalone(control())[5]!;
    // Odoo posts the events one after the other, each once the last was answered; an API of its
    // own waits BURST_DEBOUNCE_MS after each, far past the pauses of a loaded machine. The queue
    // is paused meanwhile (not its worker: a worker already waiting for a job takes the next one
    // whatever its pause says), so no job reads the root before the burst is over.
    const burst = await listenForWebhooks(h, { debounceMs: BURST_DEBOUNCE_MS });
    const hooks = h.runtime.queues.byName['sync-webhook'];
    try {
      control().setWebhook({ url: burst.url, models, fields: ['write_date'] });
      await control().settled();
      control().resetCalls();
      await hooks.pause();
      for (let i = 1; i <= 50; i += 1)
        control().write(c.rootModel, id, { [c.rootText]: `burst ${i}` });
      await control().settled();
      await hooks.resume();
      await webhooksDone();
      const count = await webhookEvents(burst.app);
      expect(count('queued') + count('deduplicated')).toBe(50);
      expect(count('deduplicated')).toBeGreaterThanOrEqual(1);
      // One read of the root (with its children) per job the events collapsed into.
      expect(control().countCalls({ model: c.rootModel, method: 'read' })).toBe(count('queued'));
    } finally {
      await hooks.resume();
      control().setWebhook(undefined);
      await control().settled();
      await burst.app.close();
    }
    expect(await copy().rootText(id)).toBe('burst 50');
  });

  it('a deletion archives the root once Odoo confirms it is gone', async () => {
    const id = c.standalone(control())[6]!;
    control().setWebhook({ url: `${hook}?event=deleted`, models: [c.rootModel] });
    const done = webhookDone();
    control().unlink(c.rootModel, id);
    expect(await done).toMatchObject({ family: c.name, odooId: id, committed: true });
    const root = await copy().root(id);
    expect(root).toMatchObject({ archive_reason: 'deleted in Odoo' });
    expect(root!.archived_at).not.toBeNull();
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('refuses a bad token (404), a huge body (413), a malformed one (400) and a model no family copies (422), queuing nothing', async () => {
    const queue = h.runtime.queues.byName['sync-webhook'];
    const before = await queue.getJobCounts('waiting', 'delayed', 'active');
    const post = (url: string, body: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const valid = JSON.stringify({ _model: c.rootModel, _id: 1, _action: 'x' });
    const wrongToken = await post(`${hook.slice(0, -4)}AAAA`, valid);
    expect(wrongToken.status).toBe(404);
    expect(await wrongToken.json()).toMatchObject({ error: 'NOT_FOUND' });
    expect((await post(`${hook}x`, valid)).status).toBe(404);
    const huge = await post(
      hook,
      JSON.stringify({ _model: c.rootModel, _id: 1, pad: 'x'.repeat(100_000) }),
    );
    expect(huge.status).toBe(413);
    const foreign = await post(hook, JSON.stringify({ _model: 'res.users', _id: 1 }));
    expect(foreign.status).toBe(422);
    expect(await foreign.json()).toMatchObject({ error: 'UNKNOWN_MODEL' });
    expect((await post(hook, '{"_model": ')).status).toBe(400);
    expect(await queue.getJobCounts('waiting', 'delayed', 'active')).toEqual(before);

    const count = await webhookEvents(app);
    expect(count('rejected')).toBeGreaterThanOrEqual(3);
    // The events the cases above posted (the burst went to an API of its own): a change, one
    // before its commit, a deletion, and a child's change and deletion where the row has children.
    expect(count('queued')).toBeGreaterThanOrEqual(c.childModel === undefined ? 3 : 5);
  });
}

/** How many webhook events an API counted, by outcome. */
async function webhookEvents(app: App): Promise<(outcome: string) => number> {
  const metrics = await app.inject({ url: '/metrics', headers: bearer('operator') });
  return (outcome) =>
    Number(
      new RegExp(`^erp_bridge_webhook_events_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(
        metrics.body,
      )?.[1] ?? 0,
    );
}

describe.each(FAMILY_CASES)('changes of $name pushed by Odoo webhooks', pushedByWebhooks);
describe.each(POSTGRES_QUEUE_CASES)(
  'changes of $name pushed by Odoo webhooks, its queues in PostgreSQL',
  pushedByWebhooks,
);
