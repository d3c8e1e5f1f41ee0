/**
 * Standard models of a real Odoo, declared as the README declares them — no field list, default
 * tables — on the sandbox serving Odoo 17.0's own `fields_get` answers: `account.move` with its
 * lines and `res.partner`, with their `mail.thread` mixins (followers, messages, activities), a
 * one2many the sync user may not read (`stock_valuation_layer_ids`), secrets and binaries.
 * `migrate` says what it leaves out; runs, reconciles, verifies and webhooks keep the copy equal
 * to Odoo through followers added, messages posted, lines moved, tags changed, archives and
 * deletions; a second reconcile reads nothing again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppliedLayout } from '../../src/families/configured/apply-layouts.js';
import { writeFamiliesFile, type FamiliesFile } from '../helpers/families-file.js';
import { createSyncHarness, listenForWebhooks, type SyncHarness } from '../helpers/sync-harness.js';

// The README's example, as written.
const FILE = `
families:
  - name: invoices
    model: account.move
    children: [{ model: account.move.line, link: move_id }]
    api: { filter: [state, partner_id], sort: [date, amount_total] }
  - name: contacts
    model: res.partner
`;
const MOVE = 'account.move';
const LINE = 'account.move.line';
const PARTNER = 'res.partner';

describe('standard models of a real Odoo 17, declared with no field list', () => {
  let files: FamiliesFile;
  let h: SyncHarness;
  const c = () => h.sandbox.control;
  const family = (name: string) => h.runtime.sync.families.require(name);
  const bothEqualOdoo = async () => {
    expect(await h.diffWithSandbox(family('invoices'))).toEqual([]);
    expect(await h.diffWithSandbox(family('contacts'))).toEqual([]);
  };
  const runBoth = async (job: 'sync-run' | 'reconcile' | 'verify') => {
    const results = [];
    for (const name of ['invoices', 'contacts'])
      results.push(await h.run(job, { family: name, trigger: 'test' }));
    return results;
  };

  beforeAll(async () => {
    files = writeFamiliesFile(FILE);
    h = await createSyncHarness({
      sandbox: {
        orders: 3,
        realSchemas: {
          models: [MOVE, LINE, PARTNER],
          records: { [PARTNER]: 40, [MOVE]: 20 },
          linesPerMove: 3,
        },
      },
      loadFamilies: (db, odoo) => files.loadFamilies(db, odoo),
    });
  });
  afterAll(async () => {
    await h.dispose();
    files.remove();
  });

  it('migrate takes the default tables, keeps only the one2many it can keep exact, and says what it left out and why', () => {
    const invoices = files.applied.find((layout) => layout.family === 'invoices')!;
    const contacts = files.applied.find((layout) => layout.family === 'contacts')!;
    const leftOut = (layout: AppliedLayout, model: string) =>
      Object.fromEntries(
        layout.leftOut
          .filter((field) => field.model === model)
          .map((field) => [field.field, field.reason]),
      );
    const move = leftOut(invoices, MOVE);
    for (const mixin of ['message_follower_ids', 'message_ids', 'activity_ids'])
      expect(move[mixin]).toMatch(/^its inverse mail\.\w+\.res_id is a stored many2one_reference/);
    expect(move.stock_valuation_layer_ids).toBe('the sync user may not read stock.valuation.layer');
    expect(move.access_token).toMatch(/holds a secret/);
    expect(leftOut(invoices, LINE).stock_valuation_layer_ids).toBe(
      'the sync user may not read stock.valuation.layer',
    );
    const partner = leftOut(contacts, PARTNER);
    expect(partner.message_follower_ids).toMatch(/many2one_reference/);
    expect(partner.image_1920).toBe('a binary: list it under binary to copy it');
    // child_ids is kept: its inverse parent_id is a stored many2one to res.partner.
    expect(partner.child_ids).toBeUndefined();
  });

  it('the first runs copy both families exactly', async () => {
    for (const result of await runBoth('sync-run'))
      expect(result).toMatchObject({ status: 'succeeded' });
    await bothEqualOdoo();
  });

  it('a one2many whose targets the sync user may no longer read fails that relation only, in a run and a reconcile', async () => {
    const key = `${MOVE}.payment_ids`;
    const before = await h.watermark(key);
    c().denyRead({ model: 'account.payment', description: 'Payments' });
    try {
      const [move] = c().ids(MOVE);
      c().write(MOVE, move!, { ref: 'EDITED-WHILE-PAYMENTS-REFUSED' });
      const run = await h.run('sync-run', { family: 'invoices', trigger: 'test' });
      expect(run).toMatchObject({ status: 'partial' });
      expect(JSON.stringify(run)).toContain(
        `${key}: its targets (account.payment) cannot be scanned`,
      );
      expect(await h.watermark(key)).toEqual(before);
      const reconciled = await h.run('reconcile', { family: 'invoices', trigger: 'test' });
      expect(reconciled).toMatchObject({ status: 'succeeded', updated: 0, archived: 0 });
      await bothEqualOdoo();
    } finally {
      c().allowRead('account.payment');
    }
    expect(await h.run('sync-run', { family: 'invoices', trigger: 'test' })).toMatchObject({
      status: 'succeeded',
    });
  });

  it('followers, messages and activities change no copy and fail no run', async () => {
    const [move] = c().ids(MOVE);
    const [partner, other] = c().ids(PARTNER, { activeOnly: true });
    c().follow(MOVE, move!, other!);
    c().follow(PARTNER, partner!, other!);
    c().postMessage(MOVE, move!, { body: '<p>Paid by transfer</p>' });
    c().scheduleActivity(PARTNER, partner!, { summary: 'Call back', dateDeadline: '2026-12-01' });
    for (const result of await runBoth('sync-run'))
      expect(result).toMatchObject({ status: 'succeeded' });
    await bothEqualOdoo();
  });

  it('lines moved between moves, tags changed, records archived and deleted reach the copy', async () => {
    const [from, to, doomed] = c().ids(MOVE);
    const line = (
      c().records(MOVE, { ids: [from!], fields: ['line_ids'] })[0]!.line_ids as number[]
    )[0]!;
    c().write(LINE, line, { move_id: to! });
    const partners = c().ids(PARTNER, { activeOnly: true });
    const tags = c().ids('res.partner.category');
    c().write(PARTNER, partners[2]!, { category_id: [[6, 0, tags.slice(0, 2)]] });
    c().write(PARTNER, partners[3]!, { category_id: [[5, 0, 0]] });
    // A contact archived leaves its company's child_ids (their domain: active contacts only).
    const contact = c()
      .records(PARTNER, { fields: ['parent_id', 'active'] })
      .find((record) => record.active === true && record.parent_id !== false)!;
    c().archive(PARTNER, contact.id);
    c().unlink(MOVE, doomed!);
    const runs = await runBoth('sync-run');
    for (const result of runs) expect(result).toMatchObject({ status: 'succeeded' });
    await runBoth('reconcile');
    await bothEqualOdoo();
    const verified = await runBoth('verify');
    for (const result of verified) expect(result).toMatchObject({ drifted: 0 });
  });

  it("a webhook of each model reaches its family's copy", async () => {
    const { app, url } = await listenForWebhooks(h, { debounceMs: 0 });
    try {
      c().setWebhook({ url, models: [MOVE, LINE, PARTNER], fields: ['write_date'] });
      const [move] = c().ids(MOVE);
      const moved = h.nextCompleted('sync-webhook', 'hook-');
      c().write(MOVE, move!, { ref: 'PUSHED-BY-ODOO' });
      expect(await moved).toMatchObject({ odooId: move, committed: true });
      const [partner] = c().ids(PARTNER, { activeOnly: true });
      const renamed = h.nextCompleted('sync-webhook', 'hook-');
      c().write(PARTNER, partner!, { name: 'Pushed Partner' });
      expect(await renamed).toMatchObject({ odooId: partner, committed: true });
      await bothEqualOdoo();
    } finally {
      c().setWebhook(undefined);
      await c().settled();
      await app.close();
    }
  });

  it('a second reconcile finds nothing to read again', async () => {
    await runBoth('reconcile');
    for (const result of await runBoth('reconcile'))
      expect(result).toMatchObject({ status: 'succeeded', recordsSeen: 0, created: 0, updated: 0 });
    await bothEqualOdoo();
  });
});
