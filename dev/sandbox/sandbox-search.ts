/**
 * `search`: a domain compiled once, candidates narrowed by the id bound and the many2one
 * indexes, `active_test` and record rules applied, then Odoo's order, offset and limit.
 */
import { pythonError } from './sandbox-exceptions.js';
import { repr } from './python-repr.js';
import { compileDomain, type Row } from './sandbox-domain.js';
import { langOf } from './sandbox-reads.js';
import { upperBound, type SandboxTable, type SandboxTables } from './sandbox-tables.js';

export interface SearchOptions {
  offset?: unknown;
  limit?: unknown;
  order?: unknown;
  context?: Record<string, unknown>;
}

export function search(
  tables: SandboxTables,
  model: string,
  domain: unknown,
  options: SearchOptions = {},
): number[] {
  const table = tables.requireTable(model);
  const lang = langOf(options.context);
  const compiled = compileDomain(table.domainModel, domain, lang);
  const order = tables.order(table, lang, orderText(options.order));
  const offset = toCount(options.offset, 'offset') ?? 0;
  const limit = toCount(options.limit, 'limit') ?? Infinity;
  if (compiled.empty || limit === 0) return [];

  const active = table.activeField;
  const activeTest =
    active !== undefined &&
    isTruthy(options.context?.active_test ?? true) &&
    !compiled.mentionsActive;
  const hidden = table.hidden;
  const base = compiled.predicate;
  const matches = (row: Row): boolean =>
    (!activeTest || row[active] === true) &&
    (hidden.size === 0 || !hidden.has(row.id)) &&
    base(row);

  const candidates = candidateIds(table, compiled);
  const rows = table.rows;
  const wanted = offset + limit;
  if (order.idAscending || order.idDescending) {
    const found: number[] = [];
    const step = order.idAscending ? 1 : -1;
    for (
      let i = order.idAscending ? candidates.start : candidates.ids.length - 1;
      i >= candidates.start && i < candidates.ids.length;
      i += step
    ) {
      const row = rows.get(candidates.ids[i] as number);
      if (row !== undefined && matches(row)) {
        found.push(row.id);
        if (found.length >= wanted) break;
      }
    }
    return offset > 0 ? found.slice(offset) : found;
  }
  const matched: Row[] = [];
  for (let i = candidates.start; i < candidates.ids.length; i++) {
    const row = rows.get(candidates.ids[i] as number);
    if (row !== undefined && matches(row)) matched.push(row);
  }
  matched.sort(order.compare);
  return matched.slice(offset, offset + limit).map((row) => row.id);
}

/** Ascending ids worth testing, from the domain's hints, and where to start in them. */
function candidateIds(
  table: SandboxTable,
  compiled: ReturnType<typeof compileDomain>,
): { ids: number[]; start: number } {
  let ids: number[] | undefined;
  if (compiled.idSet !== undefined) {
    ids = [...compiled.idSet];
  } else if (compiled.indexed !== undefined) {
    const byTarget = table.index.get(compiled.indexed.field);
    ids = [];
    for (const target of compiled.indexed.targets) {
      const set = byTarget?.get(target);
      if (set !== undefined) for (const id of set) ids.push(id);
    }
  }
  if (ids === undefined) return { ids: table.ids, start: upperBound(table.ids, compiled.idAbove) };
  const above = compiled.idAbove;
  return { ids: ids.filter((id) => id > above).sort((a, b) => a - b), start: 0 };
}

/** `limit`/`offset`: None or False mean "none". */
function toCount(value: unknown, name: string): number | undefined {
  if (value === false || value === null || value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw pythonError('TypeError', `'${name}' must be an integer, got ${repr(value)}`);
}

function orderText(order: unknown): string | undefined {
  if (order === false || order === null || order === undefined || order === '') return undefined;
  if (typeof order !== 'string')
    throw pythonError('ValueError', `Invalid "order" specified (${repr(order)})`);
  return order;
}

/** Python truthiness of a context value. */
function isTruthy(value: unknown): boolean {
  return !(value === false || value === 0 || value === null || value === undefined || value === '');
}
