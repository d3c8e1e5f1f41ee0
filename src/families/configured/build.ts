/**
 * A configured family as the engine copies it: its declaration (the operators' file) and its
 * layout (what `migrate` created) make a `RecordFamily` like one declared in code.
 */
import type { FieldColumn } from '../columns.js';
import type { ChildModel, CopyTable, ModelDeclaration, RecordFamily } from '../family.js';
import {
  CHILD_BOOKKEEPING,
  layoutProblems,
  ROOT_BOOKKEEPING,
  specHash,
  type FamilyLayout,
  type ModelLayout,
} from './layout.js';
import type { ConfiguredFamilySpec, ConfiguredModelSpec } from './spec.js';

const BOOKKEEPING_TYPES: Readonly<Record<string, string>> = {
  id: 'bigint',
  odoo_id: 'integer',
  odoo_write_date: 'timestamp with time zone',
  data: 'jsonb',
  active: 'boolean',
  archived_at: 'timestamp with time zone',
  archive_reason: 'text',
  first_synced_at: 'timestamp with time zone',
  synced_at: 'timestamp with time zone',
  layout_version: 'integer',
};

function copyTable(layout: ModelLayout, bookkeeping: readonly string[]): CopyTable {
  const sqlTypes = new Map(bookkeeping.map((name) => [name, BOOKKEEPING_TYPES[name]!]));
  for (const column of layout.columns) {
    sqlTypes.set(column.column, column.sqlType);
    if (column.nameColumn) sqlTypes.set(column.nameColumn, 'text');
  }
  return { name: layout.table, sqlTypes };
}

function declaration(
  spec: ConfiguredModelSpec,
  layout: ModelLayout,
  version: number,
  bookkeeping: readonly string[],
  required: readonly string[],
): ModelDeclaration {
  return {
    model: spec.model,
    table: copyTable(layout, bookkeeping),
    columns: layout.columns.map((column): FieldColumn => ({
      field: column.field,
      kind: column.kind,
      column: column.column,
      ...(column.nameColumn === undefined ? {} : { nameColumn: column.nameColumn }),
      api: true,
      ...(column.frozen ? { frozen: true } : {}),
    })),
    links: layout.links
      .filter((link) => !link.frozen)
      .map((link) => ({
        field: link.field,
        table: link.table,
        relation: link.relation,
        ...(link.inverse === undefined ? {} : { inverse: link.inverse }),
        ...(link.domain === undefined ? {} : { domain: link.domain }),
      })),
    requiredFields: ['write_date', ...required],
    fields: { ...(spec.fields ? { only: spec.fields } : {}), binary: spec.binary },
    query: spec.api,
    layoutVersion: version,
  };
}

/**
 * The family, or why it cannot be built: it was never migrated, or its declaration changed
 * since the last `migrate`.
 */
export function buildConfiguredFamily(
  spec: ConfiguredFamilySpec,
  layout: FamilyLayout | undefined,
): RecordFamily | string {
  if (!layout) return `family ${spec.name} has no tables yet: run migrate`;
  if (layout.specHash !== specHash(spec))
    return `family ${spec.name} was declared differently when migrate last ran: run migrate`;
  const problems = layoutProblems(layout);
  if (problems.length > 0)
    return `family ${spec.name}: its layout in sync_family_layout is not one migrate made (${problems.join('; ')}): run migrate`;
  const [rootLayout, ...childLayouts] = layout.models;
  const activeField = rootLayout!.activeField ?? null;
  const children = spec.children.map((childSpec, i): ChildModel => {
    const childLayout = childLayouts[i]!;
    return {
      ...declaration(childSpec, childLayout, layout.version, CHILD_BOOKKEEPING, [childSpec.link]),
      parentField: childSpec.link,
      parentColumn: childLayout.parentColumn!,
    };
  });
  return {
    name: spec.name,
    noun: spec.root.model,
    root: {
      ...declaration(
        spec.root,
        rootLayout!,
        layout.version,
        ROOT_BOOKKEEPING,
        activeField ? [activeField] : [],
      ),
      activeField,
    },
    children,
    schedule: spec.schedule,
  };
}
