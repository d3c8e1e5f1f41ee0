/**
 * `migrate`'s part for configured families: reads `fields_get` of every configured model, plans
 * each family's layout, and creates what it adds — all families in one transaction under an
 * advisory lock, so two migrators never interleave and a refused family leaves nothing half
 * done. Run again with nothing changed, it changes nothing.
 */
import { sql } from 'drizzle-orm';
import { isOdooError } from '../../clients/odoo/odoo-errors.js';
import type { OdooClient, OdooFieldDescription } from '../../clients/odoo/index.js';
import type { Db } from '../../db/create-db.js';
import { syncFamilyLayout } from '../../db/schema/index.js';
import { rowsOf, textArray } from '../../db/sql-rows.js';
import { AppError } from '../../lib/errors.js';
import { layoutStatements } from './ddl.js';
import { LAYOUT_ATTRIBUTES, planLayout, type Catalog, type FamilyLayout } from './layout.js';
import type { ConfiguredFamilySpec } from './spec.js';

/** Not the drizzle migrator's lock: a migrate holds that one and then this one. */
const LAYOUT_LOCK_KEY = 4_242_001_338;

export class LayoutRefusedError extends AppError {
  constructor(readonly problems: readonly string[]) {
    super(
      'LAYOUT_REFUSED',
      `configured families not migrated, nothing changed:\n  - ${problems.join('\n  - ')}`,
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
}

type FieldsSource = Pick<OdooClient, 'fieldsGet'>;

async function describe(
  odoo: FieldsSource,
  model: string,
): Promise<Record<string, OdooFieldDescription>> {
  try {
    return await odoo.fieldsGet(model, LAYOUT_ATTRIBUTES);
  } catch (error) {
    // A model Odoo does not have, or one the user may not read: a problem named with the others.
    if (isOdooError(error) && (error.code === 'ODOO_SERVER_FAULT' || error.code === 'ODOO_ACCESS'))
      return {};
    throw error;
  }
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

/** The layouts `migrate` kept, by family. */
export async function readLayouts(db: Db): Promise<Map<string, FamilyLayout>> {
  const rows = await db.select().from(syncFamilyLayout);
  return new Map(rows.map((row) => [row.family, row.layout as FamilyLayout]));
}

/**
 * Plans and creates the tables of the configured families.
 * @throws LayoutRefusedError naming every problem (nothing is changed then)
 */
export async function applyLayouts(
  db: Db,
  odoo: FieldsSource,
  specs: readonly ConfiguredFamilySpec[],
): Promise<AppliedLayout[]> {
  if (specs.length === 0) return [];
  const models = specs.flatMap((spec) => [spec.root, ...spec.children].map((m) => m.model));
  const described = Object.fromEntries(
    await Promise.all(models.map(async (model) => [model, await describe(odoo, model)] as const)),
  );
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LAYOUT_LOCK_KEY})`);
    const previous = await readLayouts(tx);
    const catalog = await readCatalog(
      tx,
      specs.flatMap((spec) => [spec.root, ...spec.children].map((m) => m.table)),
    );
    const plans = specs.map((spec) => ({
      spec,
      before: previous.get(spec.name),
      ...planLayout(spec, described, previous.get(spec.name), catalog),
    }));
    const problems = plans.flatMap((plan) => plan.problems);
    for (const plan of plans)
      for (const model of plan.layout.models) {
        const table = catalog.get(model.table);
        if (table && !(table.has('odoo_id') && table.has('data')))
          problems.push(
            `${plan.spec.name}: ${model.model}: table ${model.table} exists and is not a copy table`,
          );
      }
    if (problems.length > 0) throw new LayoutRefusedError(problems);

    const applied: AppliedLayout[] = [];
    for (const { spec, layout, before } of plans) {
      for (const statement of layoutStatements(layout, spec)) await tx.execute(sql.raw(statement));
      const changed = before?.version !== layout.version;
      if (changed)
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
      applied.push({
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
        frozen: layout.models.reduce(
          (n, model) => n + model.columns.filter((c) => c.frozen).length,
          0,
        ),
      });
    }
    return applied;
  });
}
