/**
 * The isolation that keeps one poisoned record from taking its page down (docs/sync.md, "A failing
 * BC fails alone"): a page Odoo refuses is split until the records that break it stand alone; and
 * the check that a root a read did not return is gone from Odoo.
 */
import { isOdooError, type OdooError } from '../clients/odoo/index.js';
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import type { RecordFamily } from '../families/family.js';
import type { AppError } from '../lib/errors.js';
import type { LargeReads } from './large-reads.js';
import type { FamilySchema } from './odoo-reads.js';
import type { OdooSource } from './odoo-source.js';
import { readRootPage, type RootPage } from './root-pages.js';

export interface IsolatedPage extends Omit<RootPage, 'refused'> {
  /** Roots Odoo would not give even alone, and those refused: each gets a job of its own. */
  readonly unreadable: { odooId: number; error: AppError }[];
  /** The schema the page was read with: a fresher one when the one given named a field Odoo lacks. */
  readonly schema: FamilySchema;
}

/**
 * Whether Odoo may have refused a read for what the schema asks rather than for the records: a
 * field it no longer has (`ValueError: Invalid field …`: a Studio field deleted, a module
 * uninstalled), or a one2many whose targets the sync user may no longer read (an access error on
 * the whole page). A schema read now tells; a record's own access error stays one after it.
 */
function isSchemaFault(error: OdooError): boolean {
  return (
    error.code === 'ODOO_ACCESS' ||
    (error.code === 'ODOO_SERVER_FAULT' && /Invalid field\b/.test(error.message))
  );
}

/**
 * A page whose read fails even after the client's own retries is split in halves until the
 * records that break it stand alone: a broken computed field (fault 1), an access rule (fault 4),
 * or a record whose read kills Odoo's worker (a reset connection, a 502 from the proxy). When both
 * halves fail on the transport and Odoo does not answer a trivial call either, Odoo is down, not
 * a record: the page fails as a whole and is retried later. Refused credentials and aborts are
 * never about records and always propagate.
 */
export async function readRootPageIsolating(
  source: OdooSource,
  family: RecordFamily,
  ids: readonly number[],
  schema: FamilySchema,
  call?: OdooCallOptions,
  /** The family's schema read from Odoo now: asked once, when Odoo lacks a field it names. */
  refresh?: () => Promise<FamilySchema>,
  /** Where a record too large for an answer stages its values (readRootPage). */
  large?: LargeReads,
): Promise<IsolatedPage> {
  try {
    const { refused, ...page } = await readRootPage(source, family, ids, schema, call, true, large);
    return { ...page, unreadable: refused, schema };
  } catch (error) {
    if (!isRecordSuspect(error)) throw error;
    if (refresh && isSchemaFault(error))
      return readRootPageIsolating(source, family, ids, await refresh(), call, undefined, large);
    if (ids.length === 1)
      return { items: [], missingIds: [], unreadable: [{ odooId: ids[0]!, error }], schema };
    if (isTransportFailure(error) && !(await odooAnswers(source, family, schema, call)))
      throw error;
  }
  const middle = ids.length >>> 1;
  // One half after the other: a page that breaks Odoo's workers must not break two at once.
  const [first, second] = [ids.slice(0, middle), ids.slice(middle)];
  const left = await readRootPageIsolating(source, family, first, schema, call, undefined, large);
  const right = await readRootPageIsolating(source, family, second, schema, call, undefined, large);
  return {
    items: [...left.items, ...right.items],
    missingIds: [...left.missingIds, ...right.missingIds],
    unreadable: [...left.unreadable, ...right.unreadable],
    schema,
  };
}

function isRecordSuspect(error: unknown): error is OdooError {
  return isOdooError(error) && error.code !== 'ODOO_AUTH' && error.code !== 'ODOO_ABORTED';
}

function isTransportFailure(error: OdooError): boolean {
  return ['ODOO_NETWORK', 'ODOO_TIMEOUT', 'ODOO_HTTP', 'ODOO_PROTOCOL'].includes(error.code);
}

/** Whether Odoo answers a call that touches no record (an empty search). */
async function odooAnswers(
  source: OdooSource,
  family: RecordFamily,
  schema: FamilySchema,
  call?: OdooCallOptions,
): Promise<boolean> {
  try {
    await source.search(
      family.root.model,
      [['id', '=', 0]],
      { limit: 1, context: schema.context },
      call,
    );
    return true;
  } catch (error) {
    if (isOdooError(error) && isTransportFailure(error)) return false;
    throw error;
  }
}

/**
 * Of roots a read did not return, those Odoo really has no more: `read` drops deleted ids
 * silently, and archiving on a false "missing" would hide a live record until the next reconcile.
 */
export async function confirmGone(
  source: OdooSource,
  family: RecordFamily,
  ids: readonly number[],
  schema: FamilySchema,
  call?: OdooCallOptions,
): Promise<number[]> {
  if (ids.length === 0) return [];
  const present = new Set(
    await source.search(
      family.root.model,
      [['id', 'in', [...ids]]],
      { context: schema.context },
      call,
    ),
  );
  return ids.filter((id) => !present.has(id));
}
