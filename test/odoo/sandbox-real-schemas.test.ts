/**
 * Models served from a real Odoo 17.0's `fields_get` dumps (dev/sandbox/schemas/odoo-17.0/):
 * `fields_get` answers what that Odoo answered, attribute for attribute; the models keep its
 * `_order`, `_rec_name` and `_log_access`; and the generated records are consistent the way a
 * real database is — every many2one target exists, every one2many is its inverse (a
 * many2one_reference scoped by its model field, the field's domain applied), followers, messages
 * and activities point at existing records, binaries are base64, company-dependent and
 * non-stored computed fields read.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createManualClock, createOdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { DUMPED_MODELS } from '../../dev/sandbox/real/schema-dump.js';
import { PROTOCOLS, useSandbox, type SandboxHarness } from './sandbox-harness.js';
import { sandboxWire } from './sandbox-wire.js';

type Description = Record<string, unknown>;
interface Dump {
  order: string;
  rec_name: string;
  log_access: boolean;
  fields_get_unfiltered?: string[];
  fields: Record<string, Description>;
}
const dump = (model: string): Dump =>
  JSON.parse(
    readFileSync(
      new URL(`../../dev/sandbox/schemas/odoo-17.0/${model}.json`, import.meta.url),
      'utf8',
    ),
  ) as Dump;

const START = new Date('2025-06-02T09:00:00.000Z');
const SIZES = {
  'res.partner': 40,
  'account.move': 12,
  'res.partner.category': 5,
  'project.project': 3,
  'project.task': 12,
  'project.tags': 4,
} as const;
let harness: SandboxHarness;
/** The sandbox's own generators run too: their records are completed to the dumps' fields. */
const OPTIONS = {
  seed: 5,
  partners: 15,
  moves: 4,
  linesPerMove: 2,
  realSchemas: { models: [...DUMPED_MODELS], records: SIZES, linesPerMove: 3 },
};
useSandbox(
  { ...OPTIONS, clock: createManualClock(START).source },
  (started) => (harness = started),
);
const { executeKw, value } = sandboxWire(() => harness);
const control = () => harness.sandbox.control;

type Row = Record<string, unknown> & { id: number };
const bare = (model: string, fields?: string[]): Row[] =>
  control().records(model, { load: '', ...(fields === undefined ? {} : { fields }) });

describe('fields_get of a model loaded from its dump', () => {
  it.each(DUMPED_MODELS)('%s answers exactly what Odoo 17.0 answered', async (model) => {
    const answer = await value(executeKw(model, 'fields_get', [], {}));
    expect(answer).toEqual(dump(model).fields);
    expect(Object.keys(answer as object)).toEqual(Object.keys(dump(model).fields));
  });

  it('filters each description by the attributes asked, on every transport', async () => {
    const attributes = ['type', 'store', 'searchable', 'sortable', 'relation_field', 'domain'];
    const expected = Object.fromEntries(
      Object.entries(dump('res.partner').fields).map(([name, description]) => [
        name,
        Object.fromEntries(Object.entries(description).filter(([key]) => attributes.includes(key))),
      ]),
    );
    for (const protocol of PROTOCOLS)
      expect(await harness.client(protocol).fieldsGet('res.partner', attributes)).toEqual(expected);
  });

  it('gives the digits, related paths, company dependence and non-stored fields Odoo gave', async () => {
    const partner = (await value(
      executeKw('res.partner', 'fields_get', [
        ['partner_latitude', 'country_code', 'property_account_receivable_id', 'message_ids'],
      ]),
    )) as Record<string, Description>;
    expect(partner.partner_latitude).toMatchObject({ digits: [10, 7], store: true });
    expect(partner.country_code).toMatchObject({ related: 'country_id.code', store: false });
    expect(partner.property_account_receivable_id).toMatchObject({
      company_dependent: true,
      store: false,
    });
    expect(partner.message_ids).toMatchObject({
      relation: 'mail.message',
      relation_field: 'res_id',
      domain: [['message_type', '!=', 'user_notification']],
    });
  });

  it('returns res.users’ reified group entries whole whatever the attributes', async () => {
    const unfiltered = dump('res.users').fields_get_unfiltered ?? [];
    expect(unfiltered.length).toBeGreaterThan(0);
    const answer = (await value(
      executeKw('res.users', 'fields_get', [], { attributes: ['type'] }),
    )) as Record<string, Description>;
    expect(answer[unfiltered[0]!]).toEqual(dump('res.users').fields[unfiltered[0]!]);
    expect(answer.login).toEqual({ type: 'char' });
  });

  it('has no create_uid, create_date, write_uid nor write_date on mail.followers (_log_access off)', () => {
    expect(dump('mail.followers').log_access).toBe(false);
    expect(control().storedFields('mail.followers')).toEqual([
      'res_model',
      'res_id',
      'partner_id',
      'subtype_ids',
      'id',
    ]);
    for (const follower of bare('mail.followers'))
      expect(follower).not.toHaveProperty('write_date');
  });
});

describe('the model’s _order and _rec_name', () => {
  it('orders a search without order by _order (mail.message: newest first)', async () => {
    const ids = (await value(executeKw('mail.message', 'search', [[]]))) as number[];
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const moves = (await value(
      executeKw('account.move', 'search_read', [[]], { fields: ['date', 'name'] }),
    )) as Array<{ id: number; date: string; name: string }>;
    // date desc, name desc, invoice_date desc, id desc
    for (const [a, b] of moves.slice(1).map((move, i) => [moves[i]!, move] as const))
      expect(a.date > b.date || (a.date === b.date && a.name >= b.name)).toBe(true);
  });

  it('names a follower by its partner (_rec_name partner_id)', async () => {
    const [follower] = (await value(
      executeKw('mail.followers', 'search_read', [[]], {
        fields: ['partner_id', 'display_name'],
        limit: 1,
      }),
    )) as Array<{ partner_id: [number, string]; display_name: string }>;
    expect(follower!.display_name).toBe(follower!.partner_id[1]);
  });
});

describe('generated records', () => {
  it('makes the records asked, completes the other generators’ and is deterministic', () => {
    expect(control().ids('account.move')).toHaveLength(SIZES['account.move'] + 4);
    expect(control().ids('account.move.line')).toHaveLength(3 * SIZES['account.move'] + 2 * 4);
    // The BC generator's 20 vendors, the contacts generator's, the users' and companies'.
    expect(control().ids('res.partner').length).toBeGreaterThan(SIZES['res.partner'] + 35);
    const lines = bare('account.move.line', ['display_type', 'journal_id', 'move_id']);
    expect(new Set(lines.map((line) => line.display_type))).toEqual(new Set(['product']));
    expect(lines.every((line) => line.journal_id !== false)).toBe(true);
    const again = createOdooSandbox({ ...OPTIONS, clock: createManualClock(START).source });
    for (const model of ['res.partner', 'account.move.line', 'mail.message', 'mail.activity'])
      expect(again.control.records(model, { load: '' })).toEqual(bare(model));
  });

  it('points every many2one and many2many at a record that exists', () => {
    for (const model of DUMPED_MODELS) {
      const fields = Object.entries(dump(model).fields).filter(
        ([, description]) =>
          description.store === true &&
          (description.type === 'many2one' || description.type === 'many2many'),
      );
      const rows = bare(
        model,
        fields.map(([name]) => name),
      );
      for (const [name, description] of fields) {
        const targets = new Set(control().ids(description.relation as string));
        for (const row of rows) {
          const value = row[name];
          const ids = Array.isArray(value) ? (value as number[]) : value === false ? [] : [value];
          for (const id of ids)
            expect(targets.has(id as number), `${model}.${name} → ${String(id)}`).toBe(true);
        }
      }
    }
  });

  it('reads every stored one2many as the search of its inverse (model field and domain applied)', async () => {
    for (const model of [
      'res.partner',
      'account.move',
      'account.move.line',
      'res.partner.category',
    ]) {
      const one2manys = Object.entries(dump(model).fields).filter(
        ([name, description]) =>
          description.type === 'one2many' &&
          description.store === true &&
          !name.startsWith('stock_valuation_layer'),
      );
      const ids = control().ids(model).slice(0, 15);
      const rows = (await value(
        executeKw(model, 'read', [ids, one2manys.map(([name]) => name)]),
      )) as Row[];
      for (const [name, description] of one2manys) {
        const comodel = description.relation as string;
        const inverse = description.relation_field as string;
        const modelField = (await value(
          executeKw(comodel, 'fields_get', [[inverse]], { attributes: ['type'] }),
        )) as Record<string, { type: string }>;
        const scoped = modelField[inverse]?.type === 'many2one_reference';
        for (const row of rows) {
          const domain: unknown[] = [[inverse, '=', row.id], ...((description.domain as []) ?? [])];
          if (scoped) domain.push([comodel === 'mail.message' ? 'model' : 'res_model', '=', model]);
          const found = (await value(
            executeKw(comodel, 'search', [domain], { context: { active_test: false } }),
          )) as number[];
          expect(row[name], `${model}(${row.id}).${name}`).toEqual(found);
        }
      }
    }
  });

  it('gives threads followers, messages and activities pointing at records that exist', () => {
    const followers = bare('mail.followers');
    const messages = bare('mail.message', ['model', 'res_id', 'message_type', 'date']);
    const activities = bare('mail.activity', ['res_model', 'res_id', 'res_model_id']);
    expect(followers.length).toBeGreaterThan(20);
    expect(messages.some((message) => message.message_type === 'user_notification')).toBe(true);
    expect(activities.length).toBeGreaterThan(5);
    for (const [model, id] of [
      ...followers.map((row) => [row.res_model, row.res_id]),
      ...messages.map((row) => [row.model, row.res_id]),
      ...activities.map((row) => [row.res_model, row.res_id]),
    ])
      expect(control().ids(model as string)).toContain(id);
    // Messages get their ids in date order, as a real database gives them.
    const dates = messages.map((message) => message.date as string);
    expect(dates).toEqual([...dates].sort());
  });

  it('reads message_ids newest first, without user notifications, and the mixins’ computes from them', async () => {
    const threads = (await value(
      executeKw('res.partner', 'search_read', [[['message_ids', '!=', false]]], {
        fields: ['message_ids', 'message_follower_ids', 'message_partner_ids', 'has_message'],
        context: { active_test: false },
      }),
    )) as Row[];
    expect(threads.length).toBeGreaterThan(5);
    const messages = new Map(bare('mail.message', ['message_type']).map((row) => [row.id, row]));
    const followers = new Map(bare('mail.followers').map((row) => [row.id, row]));
    for (const thread of threads) {
      const ids = thread.message_ids as number[];
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      for (const id of ids) expect(messages.get(id)!.message_type).not.toBe('user_notification');
      expect(thread.has_message).toBe(true);
      expect(new Set(thread.message_partner_ids as number[])).toEqual(
        new Set(
          (thread.message_follower_ids as number[]).map((id) => followers.get(id)!.partner_id),
        ),
      );
    }
  });

  it('reads every field a record has, stored or not: base64 binaries, company-dependent and related values', async () => {
    const [partner] = (await value(
      executeKw('res.partner', 'search_read', [[['image_1920', '!=', false]]], {
        fields: [],
        limit: 1,
      }),
    )) as Row[];
    expect(Object.keys(partner!).sort()).toEqual(Object.keys(dump('res.partner').fields).sort());
    const image = partner!.image_1920 as string;
    expect(Buffer.from(image, 'base64').toString('base64')).toBe(image);
    expect(Buffer.from(image, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(partner!.property_account_receivable_id).toEqual([expect.any(Number), 'Customers']);
    expect(partner!.country_code).toBe(
      partner!.country_id === false
        ? false
        : bare('res.country', ['code']).find((c) => c.id === (partner!.country_id as [number])[0])!
            .code,
    );
    const [line] = (await value(
      executeKw('account.move.line', 'search_read', [[]], {
        fields: ['move_id', 'move_type', 'journal_id', 'parent_state', 'move_name'],
        limit: 1,
        load: '',
      }),
    )) as Row[];
    const [move] = bare('account.move', ['move_type', 'journal_id', 'state', 'name']).filter(
      (candidate) => candidate.id === line!.move_id,
    );
    expect(line).toMatchObject({
      move_type: move!.move_type,
      journal_id: move!.journal_id,
      parent_state: move!.state,
      move_name: move!.name,
    });
  });
});
