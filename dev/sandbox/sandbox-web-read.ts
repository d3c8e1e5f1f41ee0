/**
 * Odoo 17's `web_read(specification)` (addons/web/models/models.py, the same in 19.0): `read`
 * with many2one as bare ids, then each field as its specification asks. A many2one with
 * `fields` gives `{id, display_name, …}` (the name read as superuser, as `read` gives it, and no
 * access check for the name alone); an x2many with `fields` gives its records read the same way,
 * after its `order` and `limit`, with its `context`; a field with an empty specification keeps
 * what `read` gives. A record that no longer exists is left out, unless a relational field's
 * specification makes Odoo browse it: then MissingError, as Odoo's `self[field]` raises.
 */
import type { PyValue } from './python-values.js';
import { missingError, pythonError } from './sandbox-exceptions.js';
import { readContextOf, type SandboxStore } from './sandbox-store.js';

type Specification = Record<
  string,
  { fields?: unknown; context?: unknown; limit?: unknown; order?: unknown }
>;

type Values = Record<string, PyValue>;

function specificationOf(value: unknown): Specification {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw pythonError('AttributeError', `'${typeof value}' object has no attribute 'items'`);
  return value as Specification;
}

/** `web_read` of `ids` in `context` (the call's, with each field's own context on top). */
export function webRead(
  store: SandboxStore,
  model: string,
  ids: readonly number[],
  specification: unknown,
  context: Record<string, unknown>,
  uid: number,
): Values[] {
  const spec = specificationOf(specification);
  const table = store.requireTable(model);
  const fields = Object.keys(spec).length === 0 ? ['id'] : Object.keys(spec);
  if (fields.length === 1 && fields[0] === 'id') return ids.map((id) => ({ id }));
  store.access.check(table.spec, 'read');
  const browsed = fields.some((name) => {
    const field = table.fields.get(name);
    const type = field?.type;
    return (
      (type === 'many2one' && spec[name]?.fields !== undefined) ||
      ((type === 'one2many' || type === 'many2many') && Object.keys(spec[name] ?? {}).length > 0)
    );
  });
  if (browsed) {
    const missing = ids.filter((id) => !table.rows.has(id));
    if (missing.length > 0)
      throw missingError(
        `Record does not exist or has been deleted.\n(Record: ${model}(${missing.join(', ')},), User: ${uid})`,
      );
  }
  // `read` as `_classic_read` gives each many2one's name as `read` gives it (as superuser).
  const values = store
    .readList(model, ids, fields, '_classic_read', readContextOf(context))
    .toJSON();
  for (const name of fields) {
    const field = table.fields.get(name);
    const fieldSpec = spec[name] ?? {};
    if (field === undefined) continue;
    const subContext = contextOf(context, fieldSpec.context);
    if (field.type === 'many2one') {
      const extra =
        fieldSpec.fields === undefined ? undefined : { ...specificationOf(fieldSpec.fields) };
      const named = extra !== undefined && 'display_name' in extra;
      if (extra !== undefined) delete extra.display_name;
      // Only fields besides the name are read on the target (`web_read` of nothing reads nothing).
      const read =
        extra === undefined || Object.keys(extra).length === 0
          ? undefined
          : new Map(
              webRead(
                store,
                field.relation as string,
                [...new Set(values.flatMap((row) => idOf(row[name])))],
                extra,
                subContext,
                uid,
              ).map((row) => [row.id as number, row]),
            );
      for (const row of values) {
        const value = row[name];
        if (!Array.isArray(value)) continue;
        const [id, displayName] = value as readonly PyValue[];
        if (extra === undefined) row[name] = id;
        else {
          const target = read?.get(id as number);
          if (target === undefined) row[name] = named ? { id, display_name: displayName } : { id };
          else row[name] = named ? { ...target, display_name: displayName } : target;
        }
      }
    } else if (
      (field.type === 'one2many' || field.type === 'many2many') &&
      Object.keys(fieldSpec).length > 0
    ) {
      const relation = field.relation as string;
      if (typeof fieldSpec.order === 'string' && fieldSpec.order !== '') {
        const listed = [...new Set(values.flatMap((row) => row[name] as number[]))];
        const ordered = store.search(relation, [['id', 'in', listed]], {
          order: fieldSpec.order,
          context: { ...context, active_test: false },
        });
        const position = new Map(ordered.map((id, i) => [id, i]));
        for (const row of values)
          row[name] = (row[name] as number[])
            .filter((id) => position.has(id))
            .sort((a, b) => position.get(a)! - position.get(b)!);
      }
      if (fieldSpec.fields === undefined) continue;
      const limit = typeof fieldSpec.limit === 'number' ? fieldSpec.limit : undefined;
      const wanted = [...new Set(values.flatMap((row) => (row[name] as number[]).slice(0, limit)))];
      const read = new Map(
        webRead(store, relation, wanted, fieldSpec.fields, subContext, uid).map((row) => [
          row.id as number,
          row,
        ]),
      );
      for (const row of values)
        row[name] = (row[name] as number[]).map((id) => read.get(id) ?? { id });
    } else if (
      (field.type === 'reference' || field.type === 'many2one_reference') &&
      fieldSpec.fields !== undefined
    ) {
      throw pythonError(
        'NotImplementedError',
        `the sandbox does not read ${field.type} fields' records`,
      );
    }
  }
  return values;
}

/** A classic many2one value's id: `[id, name]`, or none. */
function idOf(value: PyValue): number[] {
  return Array.isArray(value) ? [value[0] as number] : [];
}

function contextOf(context: Record<string, unknown>, own: unknown): Record<string, unknown> {
  return own !== null && typeof own === 'object' && !Array.isArray(own)
    ? { ...context, ...(own as Record<string, unknown>) }
    : context;
}
