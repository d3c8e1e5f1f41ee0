/**
 * Any Odoo model by configuration, with no code: an operator declares a custom Studio model
 * (`x_cylinder` with its valves) and a standard one (`account.move` with its lines) in a file,
 * runs `migrate`, and the workers copy them — typed columns from Odoo's own `fields_get`, exact
 * many2many links, booleans that are false, archives and deletions — and a field Odoo gains while
 * the service runs becomes a column that the next reconcile fills.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { readCatalog, LayoutRefusedError } from '../../src/families/configured/apply-layouts.js';
import { writeFamiliesFile, type FamiliesFile } from '../helpers/families-file.js';
import { createSyncHarness, listenForWebhooks, type SyncHarness } from '../helpers/sync-harness.js';
import { CYLINDERS_DECLARATION } from '../helpers/family-cases.js';

const FILE = `
families:${CYLINDERS_DECLARATION}  - name: invoices
    model: account.move
    table: invoice
    children:
      - { model: account.move.line, link: move_id, table: invoice_line }
    api: { filter: [state, partner_id], sort: [date, amount_total] }
  - name: contacts
    model: res.partner
    table: contact
    api: { filter: [parent_id, is_company], sort: [name] }
`;

const CYLINDER = 'x_cylinder';
const TAGS = 'scrap_x_cylinder__x_tag_ids';

describe('families declared in a file', () => {
  let files: FamiliesFile;
  let h: SyncHarness;
  const migrate = () => files.migrate(h.db.db, h.odoo);
  const query = async <T>(text: string) => rowsOf<T>(await h.db.db.execute(sql.raw(text)));
  const c = () => h.sandbox.control;
  const family = (name: string) => h.runtime.sync.families.require(name);

  beforeAll(async () => {
    files = writeFamiliesFile(FILE);
    h = await createSyncHarness({
      sandbox: { cylinders: 40, moves: 20, linesPerMove: 3, partners: 40 },
      loadFamilies: (db, odoo) => files.loadFamilies(db, odoo),
    });
  });
  afterAll(async () => {
    await h.dispose();
    files.remove();
  });

  it('copies what the file names, the BC family no more', () => {
    expect(files.config.sync.families.copied).toEqual(['cylinders', 'invoices', 'contacts']);
    expect(h.runtime.sync.families.all.map((f) => f.name)).toEqual([
      'cylinders',
      'invoices',
      'contacts',
    ]);
  });

  it('migrate creates a typed column per field from fields_get, and a link table per to-many field', async () => {
    const catalog = await readCatalog(h.db.db, [
      'scrap_x_cylinder',
      'scrap_x_cylinder_valve',
      TAGS,
      'invoice_line',
    ]);
    const cylinder = Object.fromEntries(catalog.get('scrap_x_cylinder')!);
    expect(cylinder).toMatchObject({
      x_name: 'text',
      x_serial: 'text',
      x_capacity: 'numeric',
      x_price: 'numeric',
      x_currency_id: 'integer',
      x_currency_name: 'text',
      x_in_service: 'boolean',
      x_installed_on: 'date',
      x_checked_at: 'timestamp with time zone',
      x_status: 'text',
      x_notes: 'text',
      x_photo: 'text',
      x_partner_id: 'integer',
      x_partner_name: 'text',
      x_specs: 'jsonb',
      create_date: 'timestamp with time zone',
      active: 'boolean',
      odoo_write_date: 'timestamp with time zone',
      data: 'jsonb',
      archived_at: 'timestamp with time zone',
    });
    // The valves are a child table, not a link list; the tags are a link table, not a column.
    expect(cylinder).not.toHaveProperty('x_valve_ids');
    expect(cylinder).not.toHaveProperty('x_tag_ids');
    expect(cylinder).not.toHaveProperty('x_active');
    expect(Object.fromEntries(catalog.get(TAGS)!)).toEqual({
      owner_id: 'integer',
      position: 'integer',
      target_id: 'integer',
    });
    expect(catalog.get('scrap_x_cylinder_valve')!.get('x_cylinder_id')).toBe('integer');
    // A float is a plain numeric whatever its digits: they are an admin setting, and can change.
    expect(catalog.get('invoice_line')!.get('quantity')).toBe('numeric');
  });

  it('migrate run again changes nothing', async () => {
    const again = await migrate();
    expect(again.map((applied) => [applied.family, applied.version, applied.changed])).toEqual([
      ['cylinders', 1, false],
      ['invoices', 1, false],
      ['contacts', 1, false],
    ]);
  });

  it('a link table has no foreign key to its record: migrate drops the one an earlier version made', async () => {
    const keys = () =>
      query<{ name: string }>(
        `select conname as name from pg_constraint where conrelid = '${TAGS}'::regclass and contype = 'f'`,
      );
    await query(
      `alter table ${TAGS} add constraint ${TAGS}_owner_fkey foreign key (owner_id)
        references scrap_x_cylinder (odoo_id) on delete cascade`,
    );
    expect(await keys()).toEqual([{ name: `${TAGS}_owner_fkey` }]);
    await migrate();
    expect(await keys()).toEqual([]);
  });

  // The table's configured rows read over XML-RPC and JSON-RPC; migrate's access check
  // (check_access_rights) names its arguments over JSON-2.
  it('migrate reads the schema over JSON-2 too', async () => {
    const json2 = h.client({ protocol: 'json2', retries: 0 });
    const applied = await files.migrate(h.db.db, json2);
    expect(applied.map((layout) => layout.changed)).toEqual([false, false, false]);
  });

  it('the first sync copies every record of both families, links included', async () => {
    for (const name of ['cylinders', 'invoices', 'contacts']) {
      expect(await h.run('sync-run', { family: name, trigger: 'test' })).toMatchObject({
        status: 'succeeded',
      });
      expect(await h.diffWithSandbox(family(name))).toEqual([]);
    }

    // Boolean False is false, never NULL; a missing many2one is NULL with its name.
    const [booleans] = await query<{ nulls: number; falses: number; trues: number }>(
      `select count(*) filter (where x_in_service is null)::int as nulls,
        count(*) filter (where not x_in_service)::int as falses,
        count(*) filter (where x_in_service)::int as trues from scrap_x_cylinder`,
    );
    expect(booleans).toMatchObject({ nulls: 0 });
    expect(booleans!.falses).toBeGreaterThan(0);
    expect(booleans!.trues).toBeGreaterThan(0);
    const archived = c()
      .records(CYLINDER, { fields: ['x_active'] })
      .filter((r) => !r.x_active);
    expect(archived.length).toBeGreaterThan(0);
    const [copied] = await query<{ active: boolean }>(
      `select active from scrap_x_cylinder where odoo_id = ${archived[0]!.id}`,
    );
    expect(copied).toEqual({ active: false });
  });

  it('many2many edits, a two-id list, a boolean set to False, archive and unarchive reach the copy exactly', async () => {
    const tags = c().ids('res.partner.category');
    const byTags = (count: number) =>
      c()
        .records(CYLINDER, { fields: ['x_tag_ids', 'x_active'] })
        .filter((r) => r.x_active && (r.x_tag_ids as number[]).length === count)
        .map((r) => r.id);
    const [untagged, alsoUntagged] = byTags(0);
    const [twoTags] = byTags(2);
    const [oneTag] = byTags(1);
    const inService = c()
      .records(CYLINDER, { fields: ['x_in_service', 'x_active'] })
      .find((r) => r.x_active && r.x_in_service === true)!.id;
    const archivedOne = c()
      .records(CYLINDER, { fields: ['x_active'] })
      .find((r) => r.x_active === false)!.id;

    c().write(CYLINDER, untagged!, { x_tag_ids: [tags[3]!] }); // add
    c().write(CYLINDER, alsoUntagged!, { x_tag_ids: [tags[5]!, tags[1]!] }); // exactly two
    const [keep] = c().records(CYLINDER, { ids: [twoTags!], fields: ['x_tag_ids'] })[0]!
      .x_tag_ids as number[];
    c().write(CYLINDER, twoTags!, { x_tag_ids: [keep!] }); // remove one
    c().write(CYLINDER, oneTag!, { x_tag_ids: false }); // empty
    c().write(CYLINDER, inService, { x_in_service: false });
    c().archive(CYLINDER, oneTag!);
    c().unarchive(CYLINDER, archivedOne);

    await h.run('sync-run', { family: 'cylinders', trigger: 'test' });
    expect(await h.diffWithSandbox(family('cylinders'))).toEqual([]);
    const links = async (id: number) =>
      (
        await query<{ target_id: number }>(
          `select target_id from ${TAGS} where owner_id = ${id} order by position`,
        )
      ).map((row) => row.target_id);
    const expected = (id: number) =>
      c().records(CYLINDER, { ids: [id], fields: ['x_tag_ids'] })[0]!.x_tag_ids;
    expect(await links(untagged!)).toEqual(expected(untagged!));
    expect(await links(alsoUntagged!)).toHaveLength(2);
    expect(await links(alsoUntagged!)).toEqual(expected(alsoUntagged!));
    expect(await links(twoTags!)).toEqual([keep]);
    expect(await links(oneTag!)).toEqual([]);
    const rows = await query<{ odoo_id: number; active: boolean; x_in_service: boolean }>(
      `select odoo_id, active, x_in_service from scrap_x_cylinder
        where odoo_id in (${inService}, ${oneTag!}, ${archivedOne}) order by odoo_id`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.odoo_id, [r.active, r.x_in_service]]))).toEqual(
      expect.objectContaining({
        [inService]: [true, false],
        [oneTag!]: [false, expect.any(Boolean)],
        [archivedOne]: [true, expect.any(Boolean)],
      }),
    );
  });

  it('a record deleted in Odoo is archived by the reconcile, its links removed, its valves kept', async () => {
    const gone = c()
      .records(CYLINDER, { fields: ['x_tag_ids', 'x_valve_ids', 'x_active'] })
      .find(
        (r) =>
          r.x_active &&
          (r.x_tag_ids as number[]).length > 0 &&
          (r.x_valve_ids as number[]).length > 0,
      )!;
    c().unlink(CYLINDER, gone.id);
    expect(await h.run('reconcile', { family: 'cylinders', trigger: 'test' })).toMatchObject({
      status: 'succeeded',
      archived: 1,
    });
    const [row] = await query<{ archived: boolean; reason: string; links: number; valves: number }>(
      `select archived_at is not null as archived, archive_reason as reason,
        (select count(*)::int from ${TAGS} where owner_id = ${gone.id}) as links,
        (select count(*)::int from scrap_x_cylinder_valve where x_cylinder_id = ${gone.id}) as valves
       from scrap_x_cylinder where odoo_id = ${gone.id}`,
    );
    expect(row).toEqual({
      archived: true,
      reason: 'deleted in Odoo',
      links: 0,
      valves: (gone.x_valve_ids as number[]).length,
    });
    expect(await h.diffWithSandbox(family('cylinders'))).toEqual([]);
  });

  it("a webhook of a configured model reaches its family's copy", async () => {
    const { app, path, url } = await listenForWebhooks(h, { debounceMs: 0 });
    try {
      // The rule sends write_date, as the README sets it up: the job knows what to wait for.
      c().setWebhook({ url, models: [CYLINDER, 'x_cylinder_valve'], fields: ['write_date'] });
      const id = c().ids(CYLINDER, { activeOnly: true })[0]!;
      const done = h.nextCompleted('sync-webhook', 'hook-');
      c().write(CYLINDER, id, { x_serial: 'PUSHED-1', x_tag_ids: [] });
      expect(await done).toMatchObject({ odooId: id, action: 'updated', committed: true });
      const [row] = await query<{ x_serial: string; links: number }>(
        `select x_serial, (select count(*)::int from ${TAGS} where owner_id = ${id}) as links
         from scrap_x_cylinder where odoo_id = ${id}`,
      );
      expect(row).toEqual({ x_serial: 'PUSHED-1', links: 0 });
      // A model no family copies is refused.
      const refused = await app.inject({
        method: 'POST',
        url: path,
        payload: { _model: 'res.users', _id: 2 },
      });
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({ error: 'UNKNOWN_MODEL' });
    } finally {
      c().setWebhook(undefined);
      await c().settled();
      await app.close();
    }
  });

  it('a field added in Odoo while the service runs becomes a column after migrate, filled for every record by the next reconcile', async () => {
    c().addField(
      CYLINDER,
      { name: 'x_weight', type: 'float', string: 'Weight (kg)', store: true, manual: true },
      { default: 61.5 },
    );
    const [applied] = await migrate();
    expect(applied).toMatchObject({ family: 'cylinders', version: 2, changed: true });
    const [empty] = await query<{ filled: number }>(
      'select count(x_weight)::int as filled from scrap_x_cylinder',
    );
    expect(empty).toEqual({ filled: 0 });
    const auditBefore = (await h.auditRows()).length;

    expect(await h.run('reconcile', { family: 'cylinders', trigger: 'test' })).toMatchObject({
      status: 'succeeded',
    });
    const [filled] = await query<{ rows: number; filled: number; weights: string[]; old: number }>(
      `select count(*)::int as rows, count(x_weight)::int as filled,
        array_agg(distinct x_weight::text) as weights,
        count(*) filter (where layout_version <> 2)::int as old
       from scrap_x_cylinder where archived_at is null`,
    );
    expect(filled).toMatchObject({ filled: filled!.rows, weights: ['61.5'], old: 0 });
    // Odoo changed no record: a record written again for its new column leaves no audit row.
    expect((await h.auditRows()).length).toBe(auditBefore);
    expect(await h.diffWithSandbox(family('cylinders'))).toEqual([]);
  });

  it('a type change is refused, naming the way out, and changes nothing', async () => {
    c().removeField(CYLINDER, 'x_serial');
    c().addField(CYLINDER, {
      name: 'x_serial',
      type: 'integer',
      string: 'Serial Number',
      store: true,
      manual: true,
    });
    const refused = await migrate().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LayoutRefusedError);
    expect((refused as Error).message).toMatch(
      /x_cylinder: x_serial is now integer \(integer\), but column scrap_x_cylinder\.x_serial is text.*rename column x_serial to x_serial_old/,
    );
    const [layout] = await query<{ version: number }>(
      "select version from sync_family_layout where family = 'cylinders'",
    );
    expect(layout).toEqual({ version: 2 });
  });

  it('a one2many stays exact though Odoo moves no stamp of its owner: a contact added, moved, renamed (reordered) or deleted', async () => {
    const PARTNER = 'res.partner';
    const contacts = family('contacts');
    // Contacts no other family's record names: their new names change no other copy.
    const named = new Set(
      c()
        .records(CYLINDER, { fields: ['x_partner_id'] })
        .map((r) => (Array.isArray(r.x_partner_id) ? (r.x_partner_id[0] as number) : 0)),
    );
    const companies = c()
      .records(PARTNER, { fields: ['is_company', 'child_ids', 'active'] })
      .filter(
        (r) => r.is_company && r.active && (r.child_ids as number[]).some((id) => !named.has(id)),
      );
    const [first, second] = companies;
    const stamp = (id: number) => c().writeDateMicros(PARTNER, id);
    const before = [stamp(first!.id), stamp(second!.id)];

    const added = c().create(PARTNER, { name: 'Aaron Added', parent_id: first!.id });
    const moved = (second!.child_ids as number[]).find((id) => !named.has(id))!;
    c().write(PARTNER, moved, { parent_id: first!.id });
    const renamed = (first!.child_ids as number[]).filter((id) => !named.has(id)).at(-1)!;
    c().write(PARTNER, renamed, { name: 'AAA First Now' });
    // Odoo stamped the contacts, not their companies.
    expect([stamp(first!.id), stamp(second!.id)]).toEqual(before);

    await h.run('sync-run', { family: 'contacts', trigger: 'test' });
    expect(await h.diffWithSandbox(contacts)).toEqual([]);
    const links = async (id: number) =>
      (
        await query<{ target_id: number }>(
          `select target_id from contact__child_ids where owner_id = ${id} order by position`,
        )
      ).map((row) => row.target_id);
    const childIds = (id: number) =>
      c().records(PARTNER, { ids: [id], fields: ['child_ids'] })[0]!.child_ids as number[];
    expect(await links(first!.id)).toEqual(childIds(first!.id));
    expect(await links(first!.id)).toEqual(expect.arrayContaining([added, moved, renamed]));
    expect(await links(second!.id)).toEqual(childIds(second!.id));
    expect(await links(second!.id)).not.toContain(moved);

    // A deleted target names no owner in any scan: the reconcile finds the link Odoo lacks.
    c().unlink(PARTNER, added);
    await h.run('reconcile', { family: 'contacts', trigger: 'test' });
    expect(await links(first!.id)).toEqual(childIds(first!.id));
    expect(await links(first!.id)).not.toContain(added);
    expect(await h.diffWithSandbox(contacts)).toEqual([]);
  });
});
