/**
 * The sandbox's `res.partner`, shaped on Odoo's base module: the BC generator's vendors keep
 * their ids and names whatever else is generated, extra contacts cover companies with contacts,
 * archived ones, 0 to 4 tags (exactly two must travel as a list, never as a many2one), empty
 * values; display names are `complete_name`; renaming a company moves its contacts' stamps
 * (a stored recompute) but not those of the BCs pointing at it.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock, createOdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { useSandbox, type SandboxHarness } from './sandbox-harness.js';
import { sandboxWire } from './sandbox-wire.js';

const START = new Date('2025-06-02T09:00:00.000Z');
const clock = createManualClock(START);
let harness: SandboxHarness;
useSandbox(
  { orders: 40, linesPerOrder: 1, partners: 200, seed: 7, clock: clock.source },
  (started) => (harness = started),
);
const { executeKw, value } = sandboxWire(() => harness);
const control = () => harness.sandbox.control;

type Partner = Record<string, unknown> & { id: number };
const partners = (): Partner[] =>
  control().records('res.partner', {
    load: '',
    fields: [...control().storedFields('res.partner'), 'display_name'],
  });

describe('generated contacts', () => {
  it('leaves the BC data and its vendors as the BC generator made them', () => {
    const alone = createOdooSandbox({
      orders: 40,
      linesPerOrder: 1,
      seed: 7,
      clock: createManualClock(START).source,
    });
    const fields = ['name', 'active', 'display_name', 'write_date'];
    const vendorIds = alone.control.ids('res.partner');
    expect(vendorIds).toHaveLength(20);
    expect(control().records('res.partner', { ids: vendorIds, fields })).toEqual(
      alone.control.records('res.partner', { fields }),
    );
    for (const model of ['dimagaz.bc', 'dimagaz.bc.line'])
      expect(control().records(model)).toEqual(alone.control.records(model));
  });

  it('has companies with contacts, individuals, archived contacts and empty values', () => {
    const all = partners();
    expect(all).toHaveLength(220);
    const extra = all.filter((partner) => partner.id > 20);
    const companies = extra.filter((partner) => partner.is_company === true);
    const contacts = extra.filter((partner) => partner.parent_id !== false);
    expect(companies.length).toBeGreaterThan(40);
    expect(contacts.length).toBeGreaterThan(80);
    expect(extra.some((p) => p.is_company === false && p.parent_id === false)).toBe(true);
    expect(extra.some((partner) => partner.active === false)).toBe(true);
    for (const field of ['email', 'phone', 'comment', 'lang', 'street', 'country_id'])
      expect(all.some((partner) => partner[field] === false)).toBe(true);
    expect(all.some((partner) => partner.credit_limit === 0)).toBe(true);
    expect(
      all.some((partner) => Number.isInteger(partner.credit_limit) && partner.credit_limit !== 0),
    ).toBe(true);
    expect(all.some((partner) => partner.customer_rank === 0)).toBe(true);
  });

  it('gives contacts 0 to 4 tags, exactly two on every fifth, sent as a list of ids', async () => {
    const counts = new Set(partners().map((partner) => (partner.category_id as number[]).length));
    expect([...counts].sort()).toEqual([0, 1, 2, 3, 4]);
    const two = partners().find((partner) => (partner.category_id as number[]).length === 2)!;
    const xml = await executeKw('res.partner', 'read', [[two.id]], {
      fields: ['category_id'],
      context: { active_test: false },
    });
    const [first, second] = two.category_id as number[];
    expect(xml).toContain(
      `<name>category_id</name>\n<value><array><data>\n<value><int>${first}</int></value>\n<value><int>${second}</int></value>\n</data></array></value>`,
    );
  });

  it('reads tags in the tags’ order (by name in the reading language), archived tags included with active_test off', async () => {
    const tagged = partners().find((partner) => (partner.category_id as number[]).length >= 3)!;
    const tags = control().records('res.partner.category', {
      fields: ['name', 'active'],
      lang: 'fr_FR',
    });
    const nameOf = new Map(tags.map((tag) => [tag.id, tag.name as string]));
    const [read] = (await value(
      executeKw('res.partner', 'read', [[tagged.id]], {
        fields: ['category_id'],
        context: { lang: 'fr_FR', active_test: false },
      }),
    )) as Partner[];
    const ids = read!.category_id as number[];
    expect(ids.map((id) => nameOf.get(id))).toEqual(
      ids.map((id) => nameOf.get(id)).sort((a, b) => (a! < b! ? -1 : 1)),
    );
    expect(tags.find((tag) => tag.active === false)).toBeDefined();
  });

  it('shows a contact as "Company, Contact" and lists only active contacts in child_ids', async () => {
    const all = partners();
    const byId = new Map(all.map((partner) => [partner.id, partner]));
    const contact = all.find(
      (partner) => partner.parent_id !== false && partner.is_company === false,
    )!;
    const parent = byId.get(contact.parent_id as number)!;
    expect(contact.display_name).toBe(`${parent.name as string}, ${contact.name as string}`);
    expect(contact.complete_name).toBe(contact.display_name);
    const withArchived = all.find((company) =>
      all.some((child) => child.parent_id === company.id && child.active === false),
    )!;
    const children = all.filter((child) => child.parent_id === withArchived.id);
    const [read] = (await value(
      executeKw('res.partner', 'read', [[withArchived.id]], { fields: ['child_ids'] }),
    )) as Partner[];
    expect(new Set(read!.child_ids as number[])).toEqual(
      new Set(children.filter((child) => child.active === true).map((child) => child.id)),
    );
  });

  it('orders partners by complete_name, then id descending (res.partner’s _order)', async () => {
    const ids = (await value(
      executeKw('res.partner', 'search', [[['id', '<=', 60]]], { context: { active_test: false } }),
    )) as number[];
    const names = new Map(
      partners().map((partner) => [partner.id, partner.complete_name as string]),
    );
    const expected = [...ids].sort((a, b) =>
      names.get(a) === names.get(b) ? b - a : names.get(a)! < names.get(b)! ? -1 : 1,
    );
    expect(ids).toEqual(expected);
  });
});

describe('renaming records others point at', () => {
  it('a company renamed: its contacts’ names and stamps move, a BC’s display name changes with its stamp unmoved', () => {
    const all = partners();
    const company = all.find(
      (candidate) =>
        candidate.id <= 20 &&
        all.some((child) => child.parent_id === candidate.id) &&
        control()
          .records('dimagaz.bc', { fields: ['partner_id'], load: '' })
          .some((bc) => bc.partner_id === candidate.id),
    )!;
    const bc = control()
      .records('dimagaz.bc', { fields: ['partner_id'], load: '' })
      .find((record) => record.partner_id === company.id)!;
    const child = all.find((candidate) => candidate.parent_id === company.id)!;
    const bcStamp = control().writeDateMicros('dimagaz.bc', bc.id);
    clock.set(new Date('2025-06-02T10:00:00.000Z'));
    control().write('res.partner', company.id, { name: 'Renamed & Co' });
    const now = Date.parse('2025-06-02T10:00:00.000Z') * 1000;
    expect(control().records('dimagaz.bc', { ids: [bc.id], fields: ['partner_id'] })[0]).toEqual({
      id: bc.id,
      partner_id: [company.id, 'Renamed & Co'],
    });
    expect(control().writeDateMicros('dimagaz.bc', bc.id)).toBe(bcStamp);
    const [renamedChild] = control().records('res.partner', {
      ids: [child.id],
      fields: ['complete_name', 'write_date'],
    });
    expect(renamedChild!.complete_name).toBe(`Renamed & Co, ${child.name as string}`);
    expect(control().writeDateMicros('res.partner', child.id)).toBe(now);
  });

  it('a product renamed in French: BC lines read the new name in fr_FR, stamps unmoved; en_US keeps its text', () => {
    const [line] = control().records('dimagaz.bc.line', { fields: ['product_id'], load: '' });
    const productId = line!.product_id as number;
    const stamp = control().writeDateMicros('dimagaz.bc.line', line!.id);
    const english = control().records('product.product', {
      ids: [productId],
      fields: ['name'],
      lang: 'en_US',
    });
    control().write(
      'product.product',
      productId,
      { name: 'Bouteille renommée' },
      { lang: 'fr_FR' },
    );
    expect(
      control().records('dimagaz.bc.line', { ids: [line!.id], fields: ['product_id'] })[0],
    ).toEqual({
      id: line!.id,
      product_id: [productId, 'Bouteille renommée'],
    });
    expect(
      control().records('product.product', { ids: [productId], fields: ['name'], lang: 'en_US' }),
    ).toEqual(english);
    expect(control().writeDateMicros('dimagaz.bc.line', line!.id)).toBe(stamp);
  });

  it('a tag renamed: contacts keep their stamps, but their tag list comes in the new order', () => {
    const tagged = partners().find((partner) => (partner.category_id as number[]).length >= 2)!;
    const before = tagged.category_id as number[];
    const stamp = control().writeDateMicros('res.partner', tagged.id);
    // The last tag in the list takes a name that sorts first.
    control().write(
      'res.partner.category',
      before[before.length - 1]!,
      { name: '!!! premier' },
      { lang: 'fr_FR' },
    );
    const after = control().records('res.partner', {
      ids: [tagged.id],
      fields: ['category_id'],
    })[0]!.category_id as number[];
    expect(after[0]).toBe(before[before.length - 1]);
    expect(new Set(after)).toEqual(new Set(before));
    expect(control().writeDateMicros('res.partner', tagged.id)).toBe(stamp);
  });

  it('a company deleted: its contacts lose parent_id through the foreign key and are restamped by the name recompute', () => {
    const company = control().create('res.partner', { name: 'Short-lived SA', is_company: true });
    const contact = control().create('res.partner', { name: 'Nadia', parent_id: company });
    expect(
      control().records('res.partner', { ids: [contact], fields: ['display_name'] })[0],
    ).toEqual({
      id: contact,
      display_name: 'Short-lived SA, Nadia',
    });
    clock.set(new Date('2025-06-02T11:00:00.000Z'));
    control().unlink('res.partner', company);
    expect(
      control().records('res.partner', {
        ids: [contact],
        fields: ['parent_id', 'display_name'],
      })[0],
    ).toEqual({
      id: contact,
      parent_id: false,
      display_name: 'Nadia',
    });
    expect(control().writeDateMicros('res.partner', contact)).toBe(
      Date.parse('2025-06-02T11:00:00.000Z') * 1000,
    );
  });

  it('a vendor of BCs cannot be deleted (ondelete restrict), as Odoo answers', async () => {
    const bc = control().records('dimagaz.bc', { fields: ['partner_id'], load: '' })[0]!;
    const answer = await executeKw('res.partner', 'unlink', [[bc.partner_id]]);
    expect(answer).toContain('<int>2</int>');
    expect(answer).toContain(
      'The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.',
    );
    expect(answer).toContain('Constraint: dimagaz_bc_partner_id_fkey');
  });
});

describe('contact hierarchy', () => {
  it('refuses to put a company under its own contact, as Odoo’s _check_parent_id does', async () => {
    const company = control().create('res.partner', { name: 'Loop SA', is_company: true });
    const contact = control().create('res.partner', { name: 'Ali', parent_id: company });
    const answer = await executeKw('res.partner', 'write', [[company], { parent_id: contact }]);
    expect(answer).toContain('<int>2</int>');
    expect(answer).toContain('You cannot create recursive Partner hierarchies.');
    expect(
      control().records('res.partner', { ids: [company], fields: ['parent_id'] })[0]!.parent_id,
    ).toBe(false);
  });
});
