/**
 * What Odoo's base module computes on contacts: `complete_name` (stored), which is also the
 * display name — "Company, Contact" for a person under a company, the company's own name
 * otherwise. Renaming a company (or moving a contact) recomputes its contacts' `complete_name`,
 * and that recompute moves their `write_date`; records that merely point at the company (a BC's
 * `partner_id`) read the new name with their stamps unmoved.
 */
import type { Row } from '../sandbox-domain.js';
import { validationError } from '../sandbox-exceptions.js';
import type { SandboxTable } from '../sandbox-tables.js';
import { stamp, type ModelRules, type RuleContext } from './model-rules.js';

const PARTNER_MODEL = 'res.partner';
const NAME_INPUTS = ['name', 'is_company', 'parent_id'];

export const PARTNER_RULES: ModelRules = {
  defaults: () => ({ active: true }),
  computeNew(row, ctx) {
    row.complete_name = completeName(ctx.tables.requireTable(PARTNER_MODEL), row);
  },
  checkWrite(rows, values, tables) {
    const parent = values.parent_id;
    if (typeof parent !== 'number') return;
    // `_check_parent_id`: a contact cannot end up under itself.
    const partners = tables.requireTable(PARTNER_MODEL);
    const moved = new Set(rows.map((row) => row.id));
    const seen = new Set<number>();
    for (let id: unknown = parent; typeof id === 'number' && !seen.has(id);) {
      if (moved.has(id)) throw validationError('You cannot create recursive Partner hierarchies.');
      seen.add(id);
      id = partners.rows.get(id)?.parent_id;
    }
  },
  written(rows, changed, ctx) {
    if (!NAME_INPUTS.some((field) => changed.has(field))) return;
    const partners = ctx.tables.requireTable(PARTNER_MODEL);
    for (const row of rows) row.complete_name = completeName(partners, row);
    recomputeContacts(partners, rows, ctx);
  },
  referenceCleared(rows, field, ctx) {
    if (field !== 'parent_id') return;
    const partners = ctx.tables.requireTable(PARTNER_MODEL);
    for (const row of rows) {
      const name = completeName(partners, row);
      if (name === row.complete_name) continue;
      row.complete_name = name;
      stamp(row, ctx.tx);
    }
    recomputeContacts(partners, rows, ctx);
  },
  recomputeStored(rows, tables) {
    const partners = tables.requireTable(PARTNER_MODEL);
    for (const row of rows) row.complete_name = completeName(partners, row);
  },
  displayName: (row) =>
    (row.complete_name as string | null) ?? (row.name as string | null) ?? false,
};

/** `_get_complete_name`: a person under a company is shown with its commercial company's name. */
export function completeName(partners: SandboxTable, row: Row): string | null {
  const name = (row.name as string | null) ?? '';
  const parent = typeof row.parent_id === 'number' ? partners.rows.get(row.parent_id) : undefined;
  if (parent === undefined || row.is_company === true) return (row.name as string | null) ?? null;
  let commercial = parent;
  const seen = new Set<Row>([row]);
  while (commercial.is_company !== true && typeof commercial.parent_id === 'number') {
    const next = partners.rows.get(commercial.parent_id);
    // A hierarchy broken outside the ORM (corrupt) can loop: stop where it would.
    if (next === undefined || seen.has(next)) break;
    seen.add(commercial);
    commercial = next;
  }
  const company = commercial.is_company === true ? (commercial.name as string | null) : null;
  return `${company || (parent.name as string | null) || ''}, ${name}`.trim();
}

/** The contacts under `rows`, at every depth, get their `complete_name` recomputed. */
function recomputeContacts(partners: SandboxTable, rows: readonly Row[], ctx: RuleContext): void {
  const byParent = partners.index.get('parent_id');
  const seen = new Set(rows.map((row) => row.id));
  const queue = [...seen];
  while (queue.length > 0) {
    for (const childId of byParent?.get(queue.shift() as number) ?? []) {
      if (seen.has(childId)) continue;
      seen.add(childId);
      queue.push(childId);
      const child = partners.rows.get(childId);
      if (child === undefined) continue;
      const name = completeName(partners, child);
      if (name === child.complete_name) continue;
      child.complete_name = name;
      stamp(child, ctx.tx);
    }
  }
}
