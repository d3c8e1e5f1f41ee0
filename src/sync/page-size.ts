/**
 * How many roots one page reads from Odoo: as many as fit the page's byte budget
 * (`ODOO_PAGE_MAX_BYTES`, the records of a page as JSON, children included), at most
 * `ODOO_PAGE_SIZE`. Each call to Odoo costs it tens of milliseconds of its own whatever its
 * size, so narrow records are read by the thousand; a page's records are most of what a worker
 * holds in memory, so wide ones (binaries, long texts, many children) are read a few at a time.
 *
 * The size of a root comes from the copy: the last roots it holds, with their children, as
 * stored. A family the copy does not hold yet (a first copy) is measured on a few of the roots
 * the run is about to read (one read of each of its models): a first copy is where pages matter
 * most.
 */
import { sql } from 'drizzle-orm';
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import type { Db } from '../db/create-db.js';
import { rowsOf } from '../db/sql-rows.js';
import type { RecordFamily } from '../families/family.js';
import { childWriteShape, rootWriteShape } from '../families/write-shape.js';
import { readRootPage, type FamilySchema } from './odoo-reads.js';
import type { OdooSource } from './odoo-source.js';

/** Roots measured, in the copy or in Odoo. */
const SAMPLE_ROOTS = 50;

export interface PageBudget {
  /** The records of a page, as JSON. */
  readonly maxBytes: number;
  /** Roots a page reads at most. */
  readonly maxRoots: number;
}

/** The bytes of a root with its children, as the copy holds the last roots; undefined when it holds none. */
export async function storedRootBytes(db: Db, family: RecordFamily): Promise<number | undefined> {
  const roots = rootWriteShape(family.root).table;
  const children = family.children.map(
    (
      child,
    ) => sql`(select coalesce(sum(octet_length(c.data::text)), 0) from ${childWriteShape(child).table} c
      where c.${sql.identifier(child.parentColumn)} = any(select odoo_id from sample))`,
  );
  const [row] = rowsOf<{ roots: number; bytes: string | null }>(
    await db.execute(sql`
      with sample as (
        select odoo_id, octet_length(data::text) as bytes from ${roots}
        where archived_at is null order by odoo_id desc limit ${SAMPLE_ROOTS})
      select (select count(*)::int from sample) as roots,
        ((select coalesce(sum(bytes), 0) from sample)
          ${sql.join(
            children.map((child) => sql` + ${child}`),
            sql``,
          )})::text as bytes`),
  );
  if (!row || row.roots === 0) return undefined;
  return Number(row.bytes) / row.roots;
}

/** The bytes of a root with its children as Odoo sends them, measured on a few roots. */
export async function readRootBytes(
  source: OdooSource,
  family: RecordFamily,
  ids: readonly number[],
  schema: FamilySchema,
  call?: OdooCallOptions,
): Promise<number | undefined> {
  const sample = ids.slice(0, SAMPLE_ROOTS);
  if (sample.length === 0) return undefined;
  const page = await readRootPage(source, family, sample, schema, call);
  if (page.items.length === 0) return undefined;
  return Buffer.byteLength(JSON.stringify(page.items)) / page.items.length;
}

/** Roots per page for roots of this size (a size unknown: the most a page may hold). */
export function rootsPerPage(budget: PageBudget, rootBytes: number | undefined): number {
  if (rootBytes === undefined || rootBytes <= 0) return budget.maxRoots;
  return Math.max(1, Math.min(budget.maxRoots, Math.floor(budget.maxBytes / rootBytes)));
}

/**
 * Roots per page of a step that reads roots the copy holds (the reconcile's re-reads, the
 * verify's slices): from the size of those it holds.
 */
export async function heldPageSize(
  db: Db,
  settings: { readonly pageSize: number; readonly pageMaxBytes?: number },
  family: RecordFamily,
): Promise<number> {
  if (settings.pageMaxBytes === undefined) return settings.pageSize;
  return rootsPerPage(
    { maxBytes: settings.pageMaxBytes, maxRoots: settings.pageSize },
    await storedRootBytes(db, family),
  );
}
