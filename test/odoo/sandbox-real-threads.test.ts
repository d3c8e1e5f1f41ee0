/**
 * What tests do to the models loaded from real Odoo 17.0 dumps through the control interface,
 * each change its own transaction with Odoo's time model (`write_date` the transaction's start,
 * read in whole seconds) and the sandbox's webhooks: following, unfollowing, posting and
 * scheduling on a thread leave the record's `write_date` where it was; creating, editing,
 * archiving and deleting records, moving a journal item to another entry and changing tags stamp
 * exactly what Odoo stamps.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/odoo-sandbox.js';
import { formatOdooDatetime } from '../../dev/sandbox/sandbox-time.js';
import { useSandbox, type SandboxHarness } from './sandbox-harness.js';
import { sandboxWire } from './sandbox-wire.js';

const clock = createManualClock(new Date('2025-06-02T09:00:00.000Z'));
let harness: SandboxHarness;
useSandbox(
  {
    seed: 11,
    clock: clock.source,
    realSchemas: {
      models: ['res.partner', 'account.move', 'account.move.line', 'res.partner.category'],
      records: { 'res.partner': 30, 'account.move': 8, 'res.partner.category': 5 },
      linesPerMove: 2,
    },
  },
  (started) => (harness = started),
  (started) => started.sandbox.control.setWebhook(undefined),
);
const { executeKw, value } = sandboxWire(() => harness);
const control = () => harness.sandbox.control;

type Row = Record<string, unknown> & { id: number };
const readOne = async (model: string, id: number, fields: string[]): Promise<Row> =>
  ((await value(executeKw(model, 'read', [[id], fields], { load: '' }))) as Row[])[0]!;
const stampOf = (model: string, id: number) => control().writeDateMicros(model, id);

/** Moves the clock to a new second (plus some microseconds) and returns it. */
let tick = 0;
function nextSecond(): number {
  tick += 1;
  clock.set(new Date(Date.UTC(2025, 5, 2, 10, 0, tick)));
  clock.advanceMicros(250_000);
  return Date.UTC(2025, 5, 2, 10, 0, tick) * 1000 + 250_000;
}

/** A live partner nobody points at with a restricting many2one. */
function freshPartner(name: string): number {
  nextSecond();
  return control().create('res.partner', { name, email: `${name.toLowerCase()}@example.ma` });
}

describe('threads', () => {
  it('a follower added and removed changes followers, not the followed record’s write_date', async () => {
    const partner = freshPartner('Followed');
    const stamp = stampOf('res.partner', partner);
    const follower = control().ids('res.partner')[0]!;
    nextSecond();
    const id = control().follow('res.partner', partner, follower);
    expect(control().follow('res.partner', partner, follower)).toBe(id);
    expect(
      await readOne('res.partner', partner, ['message_follower_ids', 'message_partner_ids']),
    ).toEqual({
      id: partner,
      message_follower_ids: [id],
      message_partner_ids: [follower],
    });
    expect(await readOne('mail.followers', id, [])).toEqual({
      id,
      res_model: 'res.partner',
      res_id: partner,
      partner_id: follower,
      subtype_ids: control()
        .records('mail.message.subtype', { fields: ['name'] })
        .filter((subtype) => subtype.name === 'Discussions')
        .map((subtype) => subtype.id),
      name: expect.any(String),
      email: expect.anything(),
      is_active: true,
      display_name: expect.any(String),
    });
    nextSecond();
    control().unfollow('res.partner', partner, follower);
    expect(await readOne('res.partner', partner, ['message_follower_ids'])).toEqual({
      id: partner,
      message_follower_ids: [],
    });
    expect(stampOf('res.partner', partner)).toBe(stamp);
  });

  it('a message posted comes first in message_ids, dated by its transaction; a user notification is not listed', async () => {
    const partner = freshPartner('Posted');
    const stamp = stampOf('res.partner', partner);
    const at = nextSecond();
    const comment = control().postMessage('res.partner', partner, {
      body: '<p>Bonjour &amp; merci</p>',
    });
    nextSecond();
    const notice = control().postMessage('res.partner', partner, {
      body: '<p>Pour vous</p>',
      messageType: 'user_notification',
    });
    const read = await readOne('res.partner', partner, [
      'message_ids',
      'has_message',
      'write_date',
    ]);
    expect(read.message_ids).toEqual([comment]);
    expect(read.has_message).toBe(true);
    expect(stampOf('res.partner', partner)).toBe(stamp);
    expect(
      await readOne('mail.message', comment, [
        'model',
        'res_id',
        'message_type',
        'date',
        'create_date',
        'record_name',
      ]),
    ).toEqual({
      id: comment,
      model: 'res.partner',
      res_id: partner,
      message_type: 'comment',
      date: formatOdooDatetime(at),
      create_date: formatOdooDatetime(at),
      record_name: 'Posted',
    });
    expect(control().writeDateMicros('mail.message', comment)).toBe(at);
    expect(
      (await value(
        executeKw('mail.message', 'search', [
          [
            ['model', '=', 'res.partner'],
            ['res_id', '=', partner],
          ],
        ]),
      )) as number[],
    ).toEqual([notice, comment]);
  });

  it('an activity scheduled shows in activity_ids and the activity computes, the record unstamped', async () => {
    const partner = freshPartner('Scheduled');
    const stamp = stampOf('res.partner', partner);
    nextSecond();
    const activity = control().scheduleActivity('res.partner', partner, {
      summary: 'Appeler',
      dateDeadline: '2025-05-30',
    });
    expect(
      await readOne('res.partner', partner, [
        'activity_ids',
        'activity_state',
        'activity_date_deadline',
        'activity_summary',
      ]),
    ).toEqual({
      id: partner,
      activity_ids: [activity],
      activity_state: 'overdue',
      activity_date_deadline: '2025-05-30',
      activity_summary: 'Appeler',
    });
    expect(await readOne('mail.activity', activity, ['res_model', 'res_id', 'res_name'])).toEqual({
      id: activity,
      res_model: 'res.partner',
      res_id: partner,
      res_name: 'Scheduled',
    });
    expect(stampOf('res.partner', partner)).toBe(stamp);
  });

  it('a record deleted takes its followers, messages and activities with it', () => {
    const partner = freshPartner('Doomed');
    const follower = control().follow('res.partner', partner, control().ids('res.partner')[0]!);
    const message = control().postMessage('res.partner', partner, { body: '<p>Adieu</p>' });
    const activity = control().scheduleActivity('res.partner', partner, {
      summary: 'Rien',
      dateDeadline: '2025-07-01',
    });
    nextSecond();
    control().unlink('res.partner', partner);
    expect(control().ids('mail.followers')).not.toContain(follower);
    expect(control().ids('mail.message')).not.toContain(message);
    expect(control().ids('mail.activity')).not.toContain(activity);
  });
});

describe('records of a loaded model, with Odoo’s time model', () => {
  it('creates, edits and archives a contact, each stamped with its transaction’s start', async () => {
    const created = nextSecond();
    const id = control().create('res.partner', { name: 'Nouveau & Cie', is_company: true });
    expect(stampOf('res.partner', id)).toBe(created);
    const read = await readOne('res.partner', id, [
      'complete_name',
      'active',
      'write_date',
      'property_account_receivable_id',
    ]);
    expect(read).toMatchObject({
      complete_name: 'Nouveau & Cie',
      active: true,
      write_date: formatOdooDatetime(created),
    });
    expect(read.property_account_receivable_id).not.toBe(false);
    const edited = nextSecond();
    control().write('res.partner', id, { email: 'nouveau@example.ma' });
    expect(stampOf('res.partner', id)).toBe(edited);
    const archived = nextSecond();
    control().archive('res.partner', id);
    expect(stampOf('res.partner', id)).toBe(archived);
    expect(
      (await value(executeKw('res.partner', 'search', [[['id', '=', id]]]))) as number[],
    ).toEqual([]);
  });

  it('moves a journal item to another entry: its copies of the entry follow, both entries’ totals and stamps move', async () => {
    const [from, to] = control().records('account.move', {
      load: '',
      fields: ['line_ids', 'amount_total', 'journal_id', 'name', 'date'],
    }) as Array<Row & { line_ids: number[] }>;
    const line = from!.line_ids[0]!;
    const at = nextSecond();
    control().write('account.move.line', line, { move_id: to!.id });
    expect(
      await readOne('account.move.line', line, ['move_id', 'move_name', 'journal_id', 'date']),
    ).toEqual({
      id: line,
      move_id: to!.id,
      move_name: to!.name,
      journal_id: to!.journal_id,
      date: to!.date,
    });
    const [fromAfter, toAfter] = control().records('account.move', {
      load: '',
      ids: [from!.id, to!.id],
      fields: ['line_ids', 'amount_total'],
    });
    expect(fromAfter!.line_ids).not.toContain(line);
    expect(toAfter!.line_ids).toContain(line);
    expect(fromAfter!.amount_total).not.toBe(from!.amount_total);
    for (const id of [line, from!.id, to!.id])
      expect(stampOf(id === line ? 'account.move.line' : 'account.move', id)).toBe(at);
  });

  it('a journal changed on an entry moves its items’ journal_id, and their stamps', async () => {
    const [move] = control().records('account.move', {
      load: '',
      fields: ['line_ids', 'journal_id'],
    });
    const journals = control().ids('account.journal');
    const other = journals.find((journal) => journal !== move!.journal_id)!;
    const at = nextSecond();
    control().write('account.move', move!.id, { journal_id: other });
    for (const line of move!.line_ids as number[]) {
      expect((await readOne('account.move.line', line, ['journal_id'])).journal_id).toBe(other);
      expect(stampOf('account.move.line', line)).toBe(at);
    }
  });

  it('tags changed from the contact stamp the contact; from the tag, the tag only', async () => {
    const partner = freshPartner('Tagged');
    const [first, second] = control().ids('res.partner.category');
    const onPartner = nextSecond();
    control().write('res.partner', partner, { category_id: [[6, 0, [first]]] });
    expect(stampOf('res.partner', partner)).toBe(onPartner);
    expect((await readOne('res.partner.category', first!, ['partner_ids'])).partner_ids).toContain(
      partner,
    );
    const tagStamp = stampOf('res.partner.category', second!);
    const onTag = nextSecond();
    control().write('res.partner.category', second!, { partner_ids: [[4, partner]] });
    expect(stampOf('res.partner.category', second!)).toBe(onTag);
    expect(tagStamp).not.toBe(onTag);
    expect(stampOf('res.partner', partner)).toBe(onPartner);
    expect(
      new Set((await readOne('res.partner', partner, ['category_id'])).category_id as number[]),
    ).toEqual(new Set([first, second]));
  });
});

describe('webhooks on loaded models', () => {
  let server: Server;
  let url = '';
  const bodies: string[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('posts for a contact edited and a follower added, a follower without write_date', async () => {
    const partner = freshPartner('Hooked');
    control().setWebhook({
      url,
      models: ['res.partner', 'mail.followers'],
      fields: ['write_date'],
    });
    const at = nextSecond();
    control().write('res.partner', partner, { phone: '+212 5 22 00 00 00' });
    const follower = control().follow('res.partner', partner, control().ids('res.partner')[0]!);
    await control().settled();
    expect(bodies.map((body) => JSON.parse(body) as Record<string, unknown>)).toEqual([
      expect.objectContaining({
        _model: 'res.partner',
        _id: partner,
        write_date: `${formatOdooDatetime(at)}.250000`,
      }),
      { _action: expect.any(String), _id: follower, _model: 'mail.followers', id: follower },
    ]);
  });
});
