/**
 * A configured family as the engine copies it: its declaration (the operators' file) and its
 * layout (what `migrate` created) make a `RecordFamily` like one declared in code.
 */
import { SQL_TYPES, type FieldColumn } from '../columns.js';
import { ownColumns, type TablePlace } from '../copy-columns.js';
import type { ChildModel, CopyTable, ModelDeclaration, RecordFamily } from '../family.js';
import { layoutProblems, specHash, type FamilyLayout, type ModelLayout } from './layout.js';
import type { ConfiguredFamilySpec, ConfiguredModelSpec } from './spec.js';

/** The table as `migrate` made it: its own columns (copy-columns.ts), then the layout's. */
function copyTable(layout: ModelLayout, place: TablePlace): CopyTable {
  const sqlTypes = new Map(ownColumns(place, true).map((own) => [own.name, own.sqlType]));
  for (const column of layout.columns) {
    sqlTypes.set(column.column, column.sqlType);
    if (column.nameColumn) sqlTypes.set(column.nameColumn, SQL_TYPES.text);
  }
  return { name: layout.table, sqlTypes };
}

function declaration(
  spec: ConfiguredModelSpec,
  layout: ModelLayout,
  version: number,
  place: TablePlace,
  required: readonly string[],
): ModelDeclaration {
  return {
    model: spec.model,
    table: copyTable(layout, place),
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
      ...declaration(childSpec, childLayout, layout.version, 'child', [childSpec.link]),
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
        'root',
        activeField ? [activeField] : [],
      ),
      activeField,
    },
    children,
    schedule: spec.schedule,
  };
}
