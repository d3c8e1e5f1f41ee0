/** Compares a family's copy with the sandbox's committed state, as a sync should leave it. */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../src/db/create-db.js';
import { COLUMN_KINDS, type ColumnKind } from '../../src/families/columns.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import type { ModelDeclaration, RecordFamily } from '../../src/families/family.js';
import { copyTableKey, linkTableSql, tableSql } from '../../src/families/table-names.js';
import { FIELD_NAME, isAdminOnlyField, isSecretField } from '../../src/families/field-policy.js';
import { sameJson } from '../../src/families/map-record.js';
import type { SandboxControl } from '../../dev/sandbox/sandbox-control.js';

/**
 * The fields a copy of the model holds, from the sandbox's own schema: every stored field but
 * secrets, binaries and names that are no identifiers, unless the model names them (its
 * selection, its columns); a one2many only when the copy keeps it current (a child model of the
 * family, or a link table of the model).
 */
function expectedFields(
  control: SandboxControl,
  family: RecordFamily,
  model: ModelDeclaration,
): string[] {
  const selection = model.fields;
  const children = new Set(family.children.map((child) => child.model));
  const named = new Set([
    ...model.requiredFields,
    ...model.columns.map((column) => column.field),
    ...(selection?.only ?? []),
    ...(selection?.binary ?? []),
  ]);
  return control.storedFields(model.model).filter((name) => {
    const field = control.field(model.model, name)!;
    if (
      field.type === 'one2many' &&
      !children.has(field.relation ?? '') &&
      !model.links.some((link) => link.field === name)
    )
      return false;
    if (named.has(name)) return true;
    if (selection?.only !== undefined) return false;
    return (
      field.type !== 'binary' &&
      !isSecretField(name) &&
      !isAdminOnlyField(field.groups) &&
      FIELD_NAME.test(name)
    );
  });
}

/** How a copy's data differs from Odoo's record: fields Odoo no longer lists are kept, not a difference. */
function dataDiff(
  copy: Record<string, unknown>,
  record: Record<string, unknown>,
  listed: ReadonlySet<string>,
): string[] {
  const names = new Set([
    ...Object.keys(record),
    ...Object.keys(copy).filter((name) => listed.has(name)),
  ]);
  return [...names].filter((name) => !sameJson(copy[name], record[name])).sort();
}

/** A row's `data` with its large values in place (`sync_restored_data`: drizzle/0041). */
function restored(model: ModelDeclaration): SQL {
  return sql`sync_restored_data(${copyTableKey(model.table)}, odoo_id, data)`;
}

/**
 * Asserts nothing: returns one line per difference (a record missing from the copy, a record
 * whose data differs, a typed column — what the API filters, sorts and serves — that does not
 * hold its field's value, a record in the copy that Odoo does not have, a link table that does
 * not hold the targets Odoo lists, in its order). Archived roots and their children are the
 * copy's history, not Odoo's state: they are left out.
 */
export async function diffCopyWithSandbox(
  db: Db,
  control: SandboxControl,
  family: RecordFamily,
): Promise<string[]> {
  const diffs: string[] = [];
  const compare = async (
    model: ModelDeclaration,
    rows: { odoo_id: number; data: Record<string, unknown> }[],
    held: ReadonlySet<number>,
  ) => {
    const records = control.records(model.model, {
      fields: expectedFields(control, family, model),
    });
    const listed = new Set(control.storedFields(model.model));
    const expected = new Map(records.map((record) => [record.id, record]));
    const actual = new Map(rows.map((row) => [row.odoo_id, row.data]));
    for (const [id, record] of expected) {
      const copy = actual.get(id);
      if (!copy) diffs.push(`${model.model} ${id}: missing from the copy`);
      else {
        const differing = dataDiff(copy, record, listed);
        if (differing.length > 0)
          diffs.push(`${model.model} ${id}: data differs (${differing.join(', ')})`);
      }
    }
    for (const id of actual.keys())
      if (!expected.has(id)) diffs.push(`${model.model} ${id}: in the copy but not in Odoo`);
    for (const link of model.links) {
      const stored = rowsOf<{ owner_id: number; targets: number[] }>(
        await db.execute(
          sql`select owner_id, array_agg(target_id order by position) as targets
            from ${linkTableSql(link)} group by owner_id`,
        ),
      );
      const byOwner = new Map(stored.map((row) => [row.owner_id, row.targets]));
      for (const [id, record] of expected) {
        if (!actual.has(id)) continue;
        const want = JSON.stringify(record[link.field] ?? []);
        const have = JSON.stringify(byOwner.get(id) ?? []);
        if (want !== have)
          diffs.push(`${model.model} ${id}: ${link.table} holds ${have}, not ${want}`);
        byOwner.delete(id);
      }
      // A root gone from Odoo loses its links; the children of an archived root keep theirs, a
      // child no longer in the copy has none.
      for (const owner of byOwner.keys())
        if (model === family.root || !held.has(owner))
          diffs.push(
            `${link.table}: links of ${model.model} ${owner}, which the copy does not hold live`,
          );
    }
  };
  const { root } = family;
  const roots = rowsOf<{ odoo_id: number; data: Record<string, unknown>; archived: boolean }>(
    await db.execute(
      sql`select odoo_id, ${restored(root)} as data, archived_at is not null as archived from ${tableSql(root.table)} order by odoo_id`,
    ),
  );
  const archived = new Set(roots.filter((row) => row.archived).map((row) => row.odoo_id));
  await compare(
    root,
    roots.filter((row) => !archived.has(row.odoo_id)),
    new Set(roots.map((row) => row.odoo_id)),
  );
  for (const child of family.children) {
    const children = rowsOf<{ odoo_id: number; data: Record<string, unknown>; root_id: number }>(
      await db.execute(
        sql`select odoo_id, ${restored(child)} as data, ${sql.identifier(child.parentColumn)} as root_id from ${tableSql(child.table)} order by odoo_id`,
      ),
    );
    await compare(
      child,
      children.filter((row) => !archived.has(row.root_id)),
      new Set(children.map((row) => row.odoo_id)),
    );
  }
  return [...diffs, ...(await diffTypedColumns(db, control, family, EVERY_KIND))];
}

const EVERY_KIND = Object.keys(COLUMN_KINDS) as ColumnKind[];

/**
 * Odoo's value of a typed column's field (a string, a number, a boolean or json, as a client
 * decodes it) as text, the way PostgreSQL prints the column.
 */
function expectedColumnText(kind: ColumnKind, value: unknown): string | null {
  if (kind === 'boolean') return value === true ? 'true' : 'false';
  if (value === false || value === null || value === undefined) return null;
  if (kind === 'json') return JSON.stringify(value);
  const text = value as string | number;
  switch (kind) {
    case 'datetime':
      // Compared as instants: the session's time zone prints timestamptz its own way.
      return String(Date.parse(`${String(text).replace(' ', 'T')}Z`) / 1_000);
    case 'decimal':
    case 'integer':
      return String(Number(text));
    default:
      return String(text);
  }
}

/** A typed column as text comparable with `expectedColumnText`. */
function columnText(kind: ColumnKind, column: string): SQL {
  const name = sql.identifier(column);
  switch (kind) {
    case 'datetime':
      return sql`(extract(epoch from ${name})::numeric)::text`;
    case 'decimal':
    case 'integer':
      // Trailing zeros of a numeric(p,s) are no difference.
      return sql`(${name}::float8)::text`;
    default:
      return sql`${name}::text`;
  }
}

/**
 * Asserts nothing: returns one line per typed column of a live record that does not hold
 * Odoo's value of its field (a many2one's id, and its display name where the column keeps it),
 * for the columns of `kinds`; an empty field (Odoo's False) is an empty column, SQL NULL; json
 * columns compared as json. Columns of fields Odoo no longer lists keep their last value
 * (docs/models.md): left out.
 */
export async function diffTypedColumns(
  db: Db,
  control: SandboxControl,
  family: RecordFamily,
  kinds: readonly ColumnKind[],
): Promise<string[]> {
  const diffs: string[] = [];
  for (const model of [family.root, ...family.children]) {
    const listed = new Set(control.storedFields(model.model));
    const columns = model.columns.filter(
      (column) => kinds.includes(column.kind) && !column.frozen && listed.has(column.field),
    );
    const records = new Map(
      control
        .records(model.model, { fields: columns.map((column) => column.field) })
        .map((record) => [record.id, record]),
    );
    const selected = columns.flatMap((column) => [
      sql`${columnText(column.kind === 'many2one' ? 'integer' : column.kind, column.column)} as ${sql.identifier(`c:${column.column}`)}`,
      ...(column.nameColumn
        ? [sql`${sql.identifier(column.nameColumn)} as ${sql.identifier(`c:${column.nameColumn}`)}`]
        : []),
    ]);
    if (selected.length === 0) continue;
    const rows = rowsOf<Record<string, string | number | null>>(
      await db.execute(
        sql`select odoo_id, ${sql.join(selected, sql`, `)} from ${tableSql(model.table)} order by odoo_id`,
      ),
    );
    for (const row of rows) {
      const record = records.get(Number(row.odoo_id));
      // Records Odoo no longer has (archived roots, their children) are the copy's history.
      if (!record) continue;
      for (const column of columns) {
        const value = record[column.field];
        const pairs: [string, string | null][] =
          column.kind === 'many2one'
            ? [
                [column.column, Array.isArray(value) ? String(value[0]) : null],
                ...(column.nameColumn
                  ? ([
                      [
                        column.nameColumn,
                        // A target without a name (a cylinder in forty) reads `[id, False]`.
                        Array.isArray(value) && value[1] !== false ? String(value[1]) : null,
                      ],
                    ] as [string, string | null][])
                  : []),
              ]
            : [[column.column, expectedColumnText(column.kind, value)]];
        for (const [name, want] of pairs) {
          const raw = row[`c:${name}`];
          const have = raw === null || raw === undefined ? null : String(raw);
          const same =
            column.kind === 'json' && have !== null && want !== null
              ? sameJson(JSON.parse(have), JSON.parse(want))
              : have === want ||
                (have !== null &&
                  want !== null &&
                  ['decimal', 'integer', 'datetime'].includes(column.kind) &&
                  Number(have) === Number(want));
          if (!same) diffs.push(`${model.model} ${record.id}: ${name} holds ${have}, not ${want}`);
        }
      }
    }
  }
  return diffs;
}
