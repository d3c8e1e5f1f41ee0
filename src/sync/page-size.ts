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
 * most. A root larger than the budget by itself counts for nothing: it is read alone, whatever
 * the size of its page (readRootPage), and a page sized by it would read every other root of the
 * family one at a time.
 */
import { sql } from 'drizzle-orm';
import { isOdooError } from '../clients/odoo/odoo-errors.js';
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import type { Db } from '../db/create-db.js';
import { rowsOf } from '../db/sql-rows.js';
import type { RecordFamily } from '../families/family.js';
import { childWriteShape, rootWriteShape } from '../families/write-shape.js';
import { type FamilySchema } from './odoo-reads.js';
import { readRootPage } from './root-pages.js';
import type { OdooSource } from './odoo-source.js';

/** Roots measured, in the copy or in Odoo. */
const SAMPLE_ROOTS = 50;

export interface PageBudget {
  /** The records of a page, as JSON. */
  readonly maxBytes: number;
  /** Roots a page reads at most. */
  readonly maxRoots: number;
}

/**
 * The largest answer a page's read takes from Odoo, in page budgets. Pages are sized from an
 * average, and an XML-RPC answer is larger than its records as JSON: an ordinary page stays well
 * under it. An answer past it holds a record far larger than a page (a long text, a binary): the
 * call is asked again for an eighth as many records, down to that record alone (readRootPage).
 */
const ANSWER_BUDGETS = 8;

/**
 * A page read's call options: the caller's, with the largest answer it takes: eight page budgets,
 * and never more than the largest value the copy takes (a larger answer is refused unread).
 */
export function pageReadCall(
  settings: { readonly pageMaxBytes?: number; readonly valueMaxBytes?: number },
  call?: OdooCallOptions,
): OdooCallOptions | undefined {
  const bounds = [
    ...(settings.pageMaxBytes === undefined ? [] : [ANSWER_BUDGETS * settings.pageMaxBytes]),
    ...(settings.valueMaxBytes === undefined ? [] : [settings.valueMaxBytes]),
  ];
  if (bounds.length === 0) return call;
  return { ...call, maxAnswerBytes: Math.min(...bounds) };
}

/**
 * The bytes of a root with its children, as the copy holds the last roots (those not larger than
 * `maxBytes` by themselves); undefined when it holds none.
 */
export async function storedRootBytes(
  db: Db,
  family: RecordFamily,
  maxBytes: number,
): Promise<number | undefined> {
  const roots = rootWriteShape(family.root).table;
  // A stored size past the budget proves the root past it without building its text.
  const bytes = (data: string) =>
    sql.raw(
      `case when pg_column_size(${data}) <= ${maxBytes} then octet_length(${data}::text) end`,
    );
  const children = family.children.map(
    (
      child,
    ) => sql`select c.${sql.identifier(child.parentColumn)} as root, ${bytes('c.data')} as bytes
      from ${childWriteShape(child).table} c
      where c.${sql.identifier(child.parentColumn)} = any(select odoo_id from sample)`,
  );
  const [row] = rowsOf<{ roots: number; bytes: string | null }>(
    await db.execute(sql`
      with sample as (
        select odoo_id, ${bytes('data')} as bytes from ${roots}
        where archived_at is null order by odoo_id desc limit ${SAMPLE_ROOTS}),
      sized as (
        select s.odoo_id, s.bytes + coalesce(sum(c.bytes), 0) as bytes,
          count(*) filter (where c.root is not null and c.bytes is null) as large
        from sample s
        ${
          children.length === 0
            ? sql`left join (select null::int as root, 0::bigint as bytes) c on false`
            : sql`left join (${sql.join(children, sql` union all `)}) c on c.root = s.odoo_id`
        }
        group by s.odoo_id, s.bytes)
      select count(*)::int as roots, sum(bytes)::text as bytes from sized
      where bytes <= ${maxBytes} and large = 0`),
  );
  if (!row || row.roots === 0) return undefined;
  return Number(row.bytes) / row.roots;
}

/**
 * The bytes of a root with its children as Odoo sends them, measured on a few roots (those not
 * larger than the budget by themselves); on fewer when their answer is past what a page's read
 * takes, on none when the first alone is (a large record is never read only to be measured).
 */
export async function readRootBytes(
  source: OdooSource,
  family: RecordFamily,
  ids: readonly number[],
  schema: FamilySchema,
  budget: { readonly maxBytes: number },
  call?: OdooCallOptions,
): Promise<number | undefined> {
  let sample = ids.slice(0, SAMPLE_ROOTS);
  for (;;) {
    if (sample.length === 0) return undefined;
    try {
      const page = await readRootPage(
        source,
        family,
        sample,
        schema,
        pageReadCall({ pageMaxBytes: budget.maxBytes }, call),
        false,
      );
      const sizes = page.items
        .map((item) => Buffer.byteLength(JSON.stringify(item)))
        .filter((bytes) => bytes <= budget.maxBytes);
      if (sizes.length === 0) return undefined;
      return sizes.reduce((sum, bytes) => sum + bytes, 0) / sizes.length;
    } catch (error) {
      if (!isOdooError(error, 'ODOO_ANSWER_TOO_LARGE')) throw error;
      sample = sample.slice(0, sample.length >>> 1);
    }
  }
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
    await storedRootBytes(db, family, settings.pageMaxBytes),
  );
}
