/**
 * `migrate`'s part for configured families: reads `fields_get` of every configured model and of
 * the one2many targets they name, plans each family's layout, and creates what it adds. Odoo is
 * read first, outside any transaction; then, in a transaction of the family's own under an
 * advisory lock, the layout kept is checked unchanged since that reading began (another
 * migrator may have applied one meanwhile: Odoo is read again), the plan made and the DDL run.
 * So two migrators never plan one family from two readings over each other's tables, and no
 * transaction waits on Odoo (nor on the call budget, nor on a second connection the Odoo
 * client's key may need). A refused family leaves nothing half done and stops no other. Run
 * again with nothing changed, it changes nothing.
 */
import { eq, sql } from 'drizzle-orm';
import { isOdooError } from '../../clients/odoo/odoo-errors.js';
import type { OdooClient } from '../../clients/odoo/index.js';
import type { Db } from '../../db/create-db.js';
import { advisoryXactLock } from '../../db/advisory-lock.js';
import { syncFamilyLayout } from '../../db/schema/index.js';
import { quoteIdentifier, rowsOf, textArray } from '../../db/sql-rows.js';
import { AppError } from '../../lib/errors.js';
import { ownColumns } from '../copy-columns.js';
import type { LeftOutField } from '../field-policy.js';
import { one2manyTargets, type DescribedModel } from './choose-fields.js';
import { layoutStatements } from './ddl.js';
import {
  LAYOUT_ATTRIBUTES,
  planLayout,
  sameLayout,
  TARGET_ATTRIBUTES,
  type Catalog,
  type FamilyLayout,
} from './layout.js';
import type { ConfiguredFamilySpec } from './spec.js';

/** Not the drizzle migrator's lock: a migrate holds that one and then this one. */
const LAYOUT_LOCK_KEY = 4_242_001_338;
/**
 * How long a migrator waits for another's layout lock by default: that one holds it only while
 * its DDL runs (each statement waiting for the API's reads of the table at most as long).
 */
export const LAYOUT_LOCK_WAIT_MS = 600_000;
/** Readings of Odoo a family gets while other migrators keep applying its layout. */
const MAX_READINGS = 3;

/** The families `migrate` refused, each with its problems; the others were applied. */
export class LayoutRefusedError extends AppError {
  constructor(
    readonly problems: readonly string[],
    readonly applied: readonly AppliedLayout[],
  ) {
    super(
      'LAYOUT_REFUSED',
      `configured families not migrated, nothing of theirs changed:\n  - ${problems.join('\n  - ')}`,
    );
  }
}

export interface AppliedLayout {
  readonly family: string;
  readonly version: number;
  /** Whether this migrate changed it. */
  readonly changed: boolean;
  readonly tables: number;
  readonly columns: number;
  readonly frozen: number;
  /** Stored fields Odoo lists that the copy does not hold, and why. */
  readonly leftOut: readonly LeftOutField[];
  /** Columns of the family's tables its layout does not write (see {@link leftBehindColumns}). */
  readonly leftBehind: readonly LeftBehindColumn[];
}

/**
 * A column of a family's table that no layout writes: left by the family in code whose table the
 * declared family took over (`parent_name` beside the layout's `parent_id_name`), or made by hand.
 * `migrate` reports it and never drops it: the copy never destroys a value, and the family in
 * code writes it again if it is copied once more.
 */
export interface LeftBehindColumn {
  readonly table: string;
  readonly column: string;
  /** Whether a row holds a value in it. */
  readonly holdsValues: boolean;
  /** What drops it, for an operator who no longer wants it. */
  readonly dropSql: string;
}

type OdooSchemaSource = Pick<OdooClient, 'fieldsGet' | 'canRead'>;

/**
 * A model's fields and whether the sync user may read it; undefined when Odoo has no such model
 * (fault 2 `Object x doesn't exist`, a 404 on JSON-2: a user error on every transport) or will
 * not describe it (both are named with the family's other problems).
 */
async function describe(
  odoo: OdooSchemaSource,
  model: string,
  attributes: readonly string[],
): Promise<DescribedModel | undefined> {
  try {
    const [fields, readable] = await Promise.all([
      odoo.fieldsGet(model, attributes),
      odoo.canRead(model),
    ]);
    return { fields, readable };
  } catch (error) {
    if (
      isOdooError(error) &&
      (error.code === 'ODOO_USER_ERROR' ||
        error.code === 'ODOO_SERVER_FAULT' ||
        error.code === 'ODOO_ACCESS')
    )
      return undefined;
    throw error;
  }
}

/** The family's models and the one2many targets they name, each described once. */
export async function describeFamily(
  odoo: OdooSchemaSource,
  spec: ConfiguredFamilySpec,
): Promise<Map<string, DescribedModel>> {
  const described = new Map<string, DescribedModel>();
  const own = [spec.root, ...spec.children].map((model) => model.model);
  for (const [i, found] of (
    await Promise.all(own.map((model) => describe(odoo, model, LAYOUT_ATTRIBUTES)))
  ).entries())
    if (found) described.set(own[i]!, found);
  const targets = [
    ...new Set([...described.values()].flatMap((model) => one2manyTargets(model.fields))),
  ].filter((model) => !described.has(model));
  for (const [i, found] of (
    await Promise.all(targets.map((model) => describe(odoo, model, TARGET_ATTRIBUTES)))
  ).entries())
    if (found) described.set(targets[i]!, found);
  return described;
}

/** Each table's columns and types, for the tables named. */
export async function readCatalog(
  db: Pick<Db, 'execute'>,
  tables: readonly string[],
): Promise<Catalog> {
  const rows = rowsOf<{ table_name: string; column_name: string; type: string }>(
    await db.execute(sql`
      select c.relname as table_name, a.attname as column_name,
        format_type(a.atttypid, a.atttypmod) as type
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relname = any(${textArray(tables)}::text[])
        and a.attnum > 0 and not a.attisdropped`),
  );
  const catalog = new Map<string, Map<string, string>>();
  for (const row of rows) {
    let columns = catalog.get(row.table_name);
    if (!columns) catalog.set(row.table_name, (columns = new Map<string, string>()));
    columns.set(row.column_name, row.type);
  }
  return catalog;
}

/** Each table's `not null` columns without a default: what a row must give. */
async function readRequiredColumns(
  db: Pick<Db, 'execute'>,
  tables: readonly string[],
): Promise<Map<string, Set<string>>> {
  const rows = rowsOf<{ table_name: string; column_name: string }>(
    await db.execute(sql`
      select c.relname as table_name, a.attname as column_name
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relname = any(${textArray(tables)}::text[])
        and a.attnum > 0 and not a.attisdropped and a.attnotnull and not a.atthasdef
        and a.attidentity = ''`),
  );
  const required = new Map<string, Set<string>>();
  for (const row of rows) {
    let columns = required.get(row.table_name);
    if (!columns) required.set(row.table_name, (columns = new Set()));
    columns.add(row.column_name);
  }
  return required;
}

/** The indexes of the tables, by name: how many key columns each has. */
async function readIndexWidths(
  db: Pick<Db, 'execute'>,
  tables: readonly string[],
): Promise<Map<string, number>> {
  const rows = rowsOf<{ name: string; width: number }>(
    await db.execute(sql`
      select i.relname as name, x.indnkeyatts as width
      from pg_index x
      join pg_class i on i.oid = x.indexrelid
      join pg_class c on c.oid = x.indrelid
      join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relname = any(${textArray(tables)}::text[])`),
  );
  return new Map(rows.map((row) => [row.name, Number(row.width)]));
}

/** The layouts `migrate` kept, by family. */
export async function readLayouts(db: Db): Promise<Map<string, FamilyLayout>> {
  const rows = await db.select().from(syncFamilyLayout);
  return new Map(rows.map((row) => [row.family, row.layout as FamilyLayout]));
}

/**
 * Plans and creates the tables of each configured family, each family on its own.
 * @throws LayoutRefusedError naming every problem of the families refused, after applying the others
 */
export async function applyLayouts(
  db: Db,
  odoo: OdooSchemaSource,
  specs: readonly ConfiguredFamilySpec[],
  options: {
    lockWaitMs?: number;
    /**
     * Another source's schema (docs/sources.md): its tables are planned and made there, each
     * spec named by its family's key in that source.
     */
    schema?: string;
  } = {},
): Promise<AppliedLayout[]> {
  const applied: AppliedLayout[] = [];
  const problems: string[] = [];
  const lockWaitMs = options.lockWaitMs ?? LAYOUT_LOCK_WAIT_MS;
  for (const spec of specs) {
    const outcome = await applyLayout(db, odoo, spec, lockWaitMs, options.schema);
    if (Array.isArray(outcome)) problems.push(...outcome);
    else applied.push(outcome);
  }
  if (problems.length > 0) throw new LayoutRefusedError(problems, applied);
  return applied;
}

/** What identifies the layout kept for a family now: it changes whenever one is written. */
async function layoutStamp(db: Db, family: string): Promise<string | null> {
  const [row] = await db
    .select({ version: syncFamilyLayout.version, updatedAt: syncFamilyLayout.updatedAt })
    .from(syncFamilyLayout)
    .where(eq(syncFamilyLayout.family, family));
  return row ? `${row.version}@${row.updatedAt.toISOString()}` : null;
}

/** One family's layout, applied; or its problems, with nothing changed. */
async function applyLayout(
  db: Db,
  odoo: OdooSchemaSource,
  spec: ConfiguredFamilySpec,
  lockWaitMs: number,
  schema: string | undefined,
): Promise<AppliedLayout | string[]> {
  for (let reading = 1; ; reading++) {
    const seen = await layoutStamp(db, spec.name);
    const described = await describeFamily(odoo, spec);
    const outcome = await db.transaction(async (tx) => {
      await advisoryXactLock(tx, sql`${LAYOUT_LOCK_KEY}`, lockWaitMs, "migrate's layout lock");
      // The plan's catalog reads (current_schema()) and its DDL's names are the schema's; the
      // state tables stay public's, found further down the path.
      if (schema !== undefined)
        await tx.execute(sql.raw(`set local search_path to ${quoteIdentifier(schema)}, public`));
      // Another migrator applied a layout since this reading began: plan from a newer one.
      if ((await layoutStamp(tx, spec.name)) !== seen) return undefined;
      return applyReading(tx, spec, described);
    });
    if (outcome !== undefined) return outcome;
    if (reading === MAX_READINGS)
      throw new AppError(
        'LAYOUT_BUSY',
        `${spec.name}: other migrators applied its layout during each of ${MAX_READINGS} readings of Odoo; run migrate again`,
        { retryable: true },
      );
  }
}

/**
 * The columns of the family's tables that neither the layout nor the copy's own columns name,
 * and whether each holds a value.
 */
async function leftBehindColumns(
  tx: Db,
  layout: FamilyLayout,
  catalog: Catalog,
): Promise<LeftBehindColumn[]> {
  const found: LeftBehindColumn[] = [];
  for (const [i, model] of layout.models.entries()) {
    const existing = catalog.get(model.table);
    if (existing === undefined) continue;
    const written = new Set([
      ...ownColumns(i === 0 ? 'root' : 'child', true).map((own) => own.name),
      ...(model.parentColumn === undefined ? [] : [model.parentColumn]),
      ...model.columns.flatMap((c) => (c.nameColumn ? [c.column, c.nameColumn] : [c.column])),
    ]);
    for (const column of [...existing.keys()].sort()) {
      if (written.has(column)) continue;
      const table = quoteIdentifier(model.table);
      const [row] = rowsOf<{ holds: boolean }>(
        await tx.execute(
          sql.raw(
            `select exists (select 1 from ${table} where ${quoteIdentifier(column)} is not null) as holds`,
          ),
        ),
      );
      found.push({
        table: model.table,
        column,
        holdsValues: row?.holds === true,
        dropSql: `alter table ${table} drop column ${quoteIdentifier(column)}`,
      });
    }
  }
  return found;
}

/** The family planned from one reading of Odoo and applied, under the layout lock. */
async function applyReading(
  tx: Db,
  spec: ConfiguredFamilySpec,
  described: Map<string, DescribedModel>,
): Promise<AppliedLayout | string[]> {
  const tables = [spec.root, ...spec.children].map((m) => m.table);
  const previous = (await readLayouts(tx)).get(spec.name);
  const catalog = await readCatalog(tx, tables);
  const { layout, problems, leftOut } = planLayout(spec, described, previous, catalog);
  for (const model of layout.models) {
    const table = catalog.get(model.table);
    if (table && !(table.has('odoo_id') && table.has('data')))
      problems.push(
        `${spec.name}: ${model.model}: table ${model.table} exists and is not a copy table`,
      );
  }
  if (problems.length > 0) return problems;

  const required = await readRequiredColumns(tx, tables);
  const indexWidths = await readIndexWidths(tx, tables);
  for (const statement of layoutStatements(layout, spec, {
    catalog,
    required,
    indexWidths,
    previous,
  }))
    await tx.execute(sql.raw(statement));
  const changed = previous?.version !== layout.version;
  if (previous === undefined || !sameLayout(previous, layout))
    await tx
      .insert(syncFamilyLayout)
      .values({ family: spec.name, specHash: layout.specHash, version: layout.version, layout })
      .onConflictDoUpdate({
        target: syncFamilyLayout.family,
        set: {
          specHash: layout.specHash,
          version: layout.version,
          layout,
          updatedAt: sql`now()`,
        },
      });
  return {
    family: spec.name,
    version: layout.version,
    changed,
    tables:
      layout.models.length +
      layout.models.reduce((n, model) => n + model.links.filter((l) => !l.frozen).length, 0),
    columns: layout.models.reduce(
      (n, model) => n + model.columns.filter((c) => !c.frozen).length,
      0,
    ),
    frozen: layout.models.reduce((n, model) => n + model.columns.filter((c) => c.frozen).length, 0),
    leftOut,
    leftBehind: await leftBehindColumns(tx, layout, catalog),
  };
}
