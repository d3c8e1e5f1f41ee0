/**
 * The sandbox's automation rule ("Send Webhook Notification") on every model it serves: a POST
 * per created, written or deleted record, from inside the transaction (the change is committed
 * after the POST), with Odoo's payload — `record.read(fields, load=None)` serialized by
 * `json.dumps(payload, sort_keys=True, default=str)`: sorted keys, `", "` separators, ASCII
 * with `\uXXXX` escapes, floats as Python writes them, datetimes by `str()`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/odoo-sandbox.js';
import { useSandbox, type SandboxHarness } from './sandbox-harness.js';

const clock = createManualClock(new Date('2025-06-02T09:00:00.000Z'));
let harness: SandboxHarness;
useSandbox(
  { partners: 20, moves: 5, linesPerMove: 2, cylinders: 8, seed: 4, clock: clock.source },
  (started) => (harness = started),
  (started) => started.sandbox.control.setWebhook(undefined),
);
const control = () => harness.sandbox.control;

/** A receiver that records each body, and what the sandbox showed of the record at that moment. */
let server: Server;
let url = '';
const received: Array<{ body: string; seen: unknown }> = [];
let peek: (() => unknown) | undefined;
beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), seen: peek?.() });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function posts(run: () => void): Promise<Array<{ body: string; seen: unknown }>> {
  received.length = 0;
  run();
  await control().settled();
  return [...received];
}

describe('webhooks on every model', () => {
  it('posts a written contact as Odoo encodes it, before the change is visible', async () => {
    control().setWebhook({
      url,
      models: ['res.partner'],
      fields: [
        'name',
        'credit_limit',
        'write_date',
        'parent_id',
        'category_id',
        'is_company',
        'phone',
        'bogus',
      ],
    });
    const id = control().ids('res.partner')[20]!;
    peek = () => control().records('res.partner', { ids: [id], fields: ['name'] })[0]!.name;
    const before = peek();
    clock.set(new Date('2025-06-02T10:00:00.000Z'));
    clock.advanceMicros(250_000);
    const [post] = await posts(() =>
      control().write('res.partner', id, {
        name: 'Ünal & Söhne "GmbH"',
        credit_limit: 100,
        phone: false,
      }),
    );
    const partner = control().records('res.partner', {
      ids: [id],
      fields: ['parent_id', 'category_id', 'is_company'],
      load: '',
    })[0]!;
    expect(post!.seen).toBe(before);
    expect(post!.body).toBe(
      `{"_action": "erp-bridge (#1)", "_id": ${id}, "_model": "res.partner", ` +
        `"category_id": ${JSON.stringify(partner.category_id).replace(/,/g, ', ')}, "credit_limit": 100.0, "id": ${id}, ` +
        `"is_company": ${String(partner.is_company)}, "name": "\\u00dcnal & S\\u00f6hne \\"GmbH\\"", ` +
        `"parent_id": ${JSON.stringify(partner.parent_id)}, "phone": false, "write_date": "2025-06-02 10:00:00.250000"}`,
    );
    expect(control().records('res.partner', { ids: [id], fields: ['name'] })[0]!.name).toBe(
      'Ünal & Söhne "GmbH"',
    );
  });

  it('posts creations and deletions of journal entries and their lines', async () => {
    control().setWebhook({
      url,
      models: ['account.move', 'account.move.line'],
      fields: ['name', 'state', 'date', 'amount_total', 'move_id', 'line_ids'],
    });
    peek = undefined;
    clock.set(new Date('2025-06-02T11:00:00.000Z'));
    let created = 0;
    const [create] = await posts(() => {
      created = control().create('account.move', {
        move_type: 'out_invoice',
        partner_id: 1,
        date: '2025-06-01',
      });
    });
    expect(JSON.parse(create!.body)).toEqual({
      _action: 'erp-bridge (#1)',
      _id: created,
      _model: 'account.move',
      amount_total: 0,
      date: '2025-06-01',
      id: created,
      line_ids: [],
      name: '/',
      state: 'draft',
    });
    expect(create!.body).toContain('"amount_total": 0.0');
    const line = control().ids('account.move.line')[0]!;
    const move = control().records('account.move.line', {
      ids: [line],
      fields: ['move_id'],
      load: '',
    })[0]!.move_id;
    const [removed] = await posts(() => control().unlink('account.move.line', line));
    expect(JSON.parse(removed!.body)).toMatchObject({
      _model: 'account.move.line',
      _id: line,
      move_id: move,
    });
    expect(control().ids('account.move.line')).not.toContain(line);
  });

  it('posts a custom record with its binary, json, date and x2many values', async () => {
    control().setWebhook({
      url,
      models: ['x_cylinder'],
      fields: [
        'x_name',
        'x_photo',
        'x_specs',
        'x_installed_on',
        'x_tag_ids',
        'x_valve_ids',
        'x_active',
        'x_price',
      ],
    });
    const photo = Buffer.from('PNG!').toString('base64');
    let id = 0;
    const [post] = await posts(() => {
      id = control().create('x_cylinder', {
        x_name: 'CYL-new',
        x_photo: photo,
        x_specs: { z: 1, a: [true, 'é'] },
        x_installed_on: '2025-05-31',
        x_tag_ids: [2, 1],
        x_price: 12.5,
      });
    });
    expect(post!.body).toBe(
      `{"_action": "erp-bridge (#1)", "_id": ${id}, "_model": "x_cylinder", "id": ${id}, ` +
        `"x_active": true, "x_installed_on": "2025-05-31", "x_name": "CYL-new", "x_photo": "b'${photo}'", ` +
        `"x_price": 12.5, "x_specs": {"a": [true, "\\u00e9"], "z": 1}, "x_tag_ids": [], "x_valve_ids": []}`,
    );
    const [archived] = await posts(() => control().archive('x_cylinder', id));
    // Tags in their own order, by name: Carrier (2) before Gas supplier (1).
    expect(JSON.parse(archived!.body)).toMatchObject({ x_active: false, x_tag_ids: [2, 1] });
  });

  it('keeps today’s BC rule: BCs and lines by default, a long transaction posting before its commit', async () => {
    control().setWebhook({ url, fields: ['write_date', 'bc_id'] });
    peek = undefined;
    const bc = control().create('dimagaz.bc', {
      partner_id: 1,
      line_ids: [[0, 0, { name: 'x', price_unit: 1 }]],
    });
    await control().settled();
    const tx = control().begin();
    tx.write('dimagaz.bc', bc, { origin: 'long' });
    const line = control().ids('dimagaz.bc.line').at(-1)!;
    tx.write('dimagaz.bc.line', line, { name: 'y' });
    const bodies = await posts(() => tx.commit());
    expect(bodies.map((post) => JSON.parse(post.body) as Record<string, unknown>)).toEqual([
      {
        _action: 'erp-bridge (#1)',
        _id: bc,
        _model: 'dimagaz.bc',
        id: bc,
        write_date: expect.any(String),
      },
      {
        _action: 'erp-bridge (#1)',
        _id: line,
        _model: 'dimagaz.bc.line',
        bc_id: bc,
        id: line,
        write_date: expect.any(String),
      },
    ]);
    expect(() => control().setWebhook({ url, models: ['stock.picking'] })).toThrow(
      /no model stock.picking/,
    );
  });

  it('commits a transaction late after its posts, while later ones commit at once', async () => {
    control().setWebhook({ url, models: ['res.partner'], fields: ['write_date'] });
    peek = undefined;
    const [late, early] = control().ids('res.partner').slice(0, 2) as [number, number];
    const phone = (id: number) =>
      control().records('res.partner', { ids: [id], fields: ['phone'] })[0]!.phone;
    const tx = control().begin();
    tx.write('res.partner', late, { phone: 'late' });
    let release!: () => void;
    const bodies = await posts(() => {
      tx.commit({ after: new Promise<void>((resolve) => (release = resolve)) });
      control().write('res.partner', early, { phone: 'early' });
      // settled() waits for the late commit: release it once the early write is seen committed.
      void expect
        .poll(() => phone(early))
        .toBe('early')
        .then(() => {
          expect(phone(late)).not.toBe('late');
          release();
        });
    });
    expect(bodies.map((post) => (JSON.parse(post.body) as { id: number }).id)).toEqual([
      late,
      early,
    ]);
    expect(phone(late)).toBe('late');
  });

  it('answers committed once every change so far is visible, a late transaction aside', async () => {
    control().setWebhook({ url, models: ['res.partner'], fields: ['write_date'] });
    peek = undefined;
    const [late, early] = control().ids('res.partner').slice(2, 4) as [number, number];
    const phone = (id: number) =>
      control().records('res.partner', { ids: [id], fields: ['phone'] })[0]!.phone;
    const tx = control().begin();
    tx.write('res.partner', late, { phone: 'held' });
    let release!: () => void;
    tx.commit({ after: new Promise<void>((resolve) => (release = resolve)) });
    control().write('res.partner', early, { phone: 'seen' });
    expect(phone(early)).not.toBe('seen');
    await control().committed();
    expect(phone(early)).toBe('seen');
    expect(phone(late)).not.toBe('held');
    release();
    await control().settled();
    expect(phone(late)).toBe('held');
  });
});

describe('what the network does to the posts', () => {
  it('loses, doubles and holds back posts as the chaos draws, and counts each', async () => {
    control().setWebhook({ url, models: ['res.partner'], fields: ['write_date'] });
    peek = undefined;
    const ids = control().ids('res.partner').slice(0, 40);
    const before = control().webhookChaosCounts();
    control().setWebhookChaos({ drop: 0.25, duplicate: 0.25, delay: 0.25, delayMs: 500 });
    const bodies = await posts(() => {
      for (const id of ids) control().write('res.partner', id, { phone: `+${id}` });
    });
    control().setWebhookChaos(undefined);
    const after = control().webhookChaosCounts();
    const drawn = {
      dropped: after.dropped - before.dropped,
      duplicated: after.duplicated - before.duplicated,
      delayed: after.delayed - before.delayed,
    };
    const order = bodies.map((post) => (JSON.parse(post.body) as { id: number }).id);
    // Every write committed, whatever befell its post.
    expect(
      control()
        .records('res.partner', { ids, fields: ['phone'] })
        .map((partner) => partner.phone),
    ).toEqual(ids.map((id) => `+${id}`));
    expect(drawn.dropped).toBeGreaterThan(0);
    expect(drawn.duplicated).toBeGreaterThan(0);
    expect(drawn.delayed).toBeGreaterThan(0);
    expect(order.length).toBe(ids.length - drawn.dropped + drawn.duplicated);
    expect(new Set(order).size).toBe(ids.length - drawn.dropped);
    // A post held back arrives after posts of later writes.
    expect(order).not.toEqual([...order].sort((a, b) => ids.indexOf(a) - ids.indexOf(b)));
    // Without chaos, each post once and in order.
    const plain = await posts(() => {
      for (const id of ids.slice(0, 5)) control().write('res.partner', id, { phone: false });
    });
    expect(plain.map((post) => (JSON.parse(post.body) as { id: number }).id)).toEqual(
      ids.slice(0, 5),
    );
  });
});
