/**
 * A family's copy read whatever its tables: rows keyed by column name, as the engine writes them.
 * The family's declaration names the tables and each child's link to its root.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/create-db.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import type { ModelDeclaration, RecordFamily } from '../../src/families/family.js';

/**
 * A copy row: the columns every copy table has (its instants as Dates), and the family's typed
 * ones as PostgreSQL's driver gives them.
 */
export type CopyRow = Record<string, unknown> & {
  odoo_id: number;
  odoo_write_date: Date;
  archived_at?: Date | null;
  data: Record<string, unknown>;
};

/** The instants every copy table has; a raw query gives them as text. */
const INSTANTS = ['odoo_write_date', 'archived_at', 'synced_at', 'first_synced_at'];

function rowsOfCopy(result: unknown): CopyRow[] {
  return rowsOf<Record<string, unknown>>(result).map((row) => {
    const copy: Record<string, unknown> = { ...row };
    for (const column of INSTANTS)
      if (typeof copy[column] === 'string') copy[column] = new Date(copy[column]);
    return copy as CopyRow;
  });
}

/** Every row of a model's copy table, by Odoo id. */
export async function copyRows(db: Db, model: ModelDeclaration): Promise<CopyRow[]> {
  return rowsOfCopy(
    await db.execute(sql`select * from ${sql.identifier(model.table.name)} order by odoo_id`),
  );
}

export interface RootCopy {
  readonly root: CopyRow | undefined;
  /** Its children, by child model in the family's order, each by Odoo id. */
  readonly children: CopyRow[][];
}

/** One root of the copy with its children. */
export async function copyOfRoot(db: Db, family: RecordFamily, odooId: number): Promise<RootCopy> {
  const [root] = rowsOfCopy(
    await db.execute(
      sql`select * from ${sql.identifier(family.root.table.name)} where odoo_id = ${odooId}`,
    ),
  );
  const children = await Promise.all(
    family.children.map(async (child) =>
      rowsOfCopy(
        await db.execute(
          sql`select * from ${sql.identifier(child.table.name)}
              where ${sql.identifier(child.parentColumn)} = ${odooId} order by odoo_id`,
        ),
      ),
    ),
  );
  return { root, children };
}
