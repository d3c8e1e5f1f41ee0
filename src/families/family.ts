/**
 * A record family: a root Odoo model and its child models, each child linked to its root by a
 * many2one. A root and its children are read and written together, in one transaction; children
 * Odoo no longer lists are deleted. A family may have no children.
 *
 * One declaration per family; the sync's SQL, the mapping, the write shapes, the jobs, the
 * webhook routing and the API bodies are derived from it (docs/sync.md, "Record families").
 */
import type { OdooDomain } from '../clients/odoo/odoo-types.js';
import type { FieldColumn } from './columns.js';
import { ownColumns, type TablePlace } from './copy-columns.js';
import { SOURCE_NAME, splitFamilyKey } from '../sources/family-key.js';

/** A copy table as the engine writes it: its name, and each column's PostgreSQL type by name. */
export interface CopyTable {
  readonly name: string;
  /**
   * The PostgreSQL schema of its source's copy (docs/sources.md); the search path's (`public`)
   * when undefined. Every statement names the table with it ({@link tableSql}).
   */
  readonly schema?: string;
  readonly sqlTypes: ReadonlyMap<string, string>;
}

/**
 * A many2many or one2many field kept as a table of its own: one row per target, in Odoo's order,
 * replaced whole whenever its record is written (docs/models.md).
 */
export interface LinkTable {
  /** The to-many field. */
  readonly field: string;
  /** The link table: `owner_id`, `position`, `target_id`. */
  readonly table: string;
  /** Its schema: its owner's table's. */
  readonly schema?: string;
  /** The target model. */
  readonly relation: string;
  /**
   * A one2many's inverse: the target's many2one to the owner. Odoo moves no stamp of the owner
   * when a target changes owner or order, so these targets are scanned on their own, as children
   * are (see `relationScans`). Undefined for a many2many.
   */
  readonly inverse?: string;
  /**
   * A one2many's static domain (`child_ids`: active contacts only): what reading the field
   * filters, so the reconcile's list of the targets applies it too, or the relation would never
   * agree with the copy and be read again every night.
   */
  readonly domain?: OdooDomain;
}

/** Which stored fields a model's reads ask for, when not every one of them. */
export interface FieldSelection {
  /** Only these (and the required ones); every stored field when undefined. */
  readonly only?: readonly string[];
  /** Binary fields are read only when listed here. */
  readonly binary: readonly string[];
}

/** What the read API of a model filters, sorts and searches on. */
export interface ModelQuery {
  readonly filter: readonly string[];
  readonly sort: readonly string[];
  /** Searches by their parameter's name, each over the text fields it looks inside. */
  readonly search?: Readonly<Record<string, readonly string[]>>;
}

/** What every model of a family declares. */
export interface ModelDeclaration {
  /** The Odoo model, e.g. `dimagaz.bc`. */
  readonly model: string;
  /**
   * The source whose copy this is (docs/sources.md), set where a family is placed in its source
   * (source-family.ts); the default source's when undefined.
   */
  readonly source?: string;
  readonly table: CopyTable;
  /** The typed columns; every field read is copied into `data` besides. */
  readonly columns: readonly FieldColumn[];
  /** To-many fields kept as link tables; none for the families declared in code. */
  readonly links: readonly LinkTable[];
  /** Fields every read asks for, whatever Odoo's `fields_get` lists. */
  readonly requiredFields: readonly string[];
  /** Every stored field when undefined. */
  readonly fields?: FieldSelection;
  /**
   * The fields whose columns the read API filters and sorts on (`/api/models/…`), besides the id
   * and the stamp, and its searches: a parameter that finds text inside any of some fields
   * (`q`: the name or the origin). Each has an index on what the API compares.
   */
  readonly query?: ModelQuery;
  /**
   * The version of the table's layout (a configured family's, see docs/models.md): every row
   * written carries it, and a row written under an older layout is written again by the next
   * write or reconcile, even when Odoo did not change it. Undefined for tables declared in code.
   */
  readonly layoutVersion?: number;
}

export interface RootModel extends ModelDeclaration {
  /**
   * Odoo's archive flag (`active`, `x_active` on custom models): archived records are copied with
   * active=false. A model without one (null) has no archived records.
   */
  readonly activeField: string | null;
}

export interface ChildModel extends ModelDeclaration {
  /** The child's many2one to its root (`bc_id`). */
  readonly parentField: string;
  /** The column holding the root's Odoo id (`bc_odoo_id`). */
  readonly parentColumn: string;
  /**
   * Odoo's order of a root's children (`sequence`, then the id; empty last), when it is not the
   * id's: an integer field.
   */
  readonly order?: string;
}

export interface FamilySchedule {
  /** The incremental sync's interval; default SYNC_EVERY. */
  readonly everyMs?: number;
  /** The reconcile's cron (UTC); default SYNC_RECONCILE_CRON. */
  readonly reconcileCron?: string;
}

export interface RecordFamily {
  /** The family's name in jobs, state, the CLI and the API (`bcs`, `partners`). */
  readonly name: string;
  /** What one root record is called in logs and messages (`BC`, `partner`). */
  readonly noun: string;
  readonly root: RootModel;
  readonly children: readonly ChildModel[];
  readonly schedule: FamilySchedule;
}

export function isChild(model: ModelDeclaration): model is ChildModel {
  return 'parentField' in model;
}

/**
 * A one2many kept as a link table, as a change scan lists it: the targets written since the
 * scan's watermark, each naming its owner now; the owner it had before is in the link table.
 */
export interface RelationScan {
  /** Its watermark's name: `<owner model>.<field>`. */
  readonly key: string;
  readonly owner: ModelDeclaration;
  readonly link: LinkTable & { readonly inverse: string };
}

export function isRelationScan(scanned: ModelDeclaration | RelationScan): scanned is RelationScan {
  return 'owner' in scanned;
}

/** The family's one2many link tables, each scanned on its own. */
export function relationScans(family: RecordFamily): RelationScan[] {
  return familyModels(family).flatMap((owner) =>
    owner.links.flatMap((link) =>
      link.inverse === undefined
        ? []
        : [
            {
              key: `${owner.model}.${link.field}`,
              owner,
              link: { ...link, inverse: link.inverse },
            },
          ],
    ),
  );
}

/** Every model of a family, root first. */
export function familyModels(family: RecordFamily): readonly ModelDeclaration[] {
  return [family.root, ...family.children];
}

/** What a family's name may be. */
export const FAMILY_NAME = /^[a-z][a-z0-9_-]{0,47}$/;

/**
 * Checks a family against its tables: every declared column exists, and so does every column the
 * engine writes. A family declared in code that fails this is a bug: the check runs in a test.
 * @returns the problems, empty when the family is sound
 */
export function familyProblems(family: RecordFamily): string[] {
  const problems: string[] = [];
  // It goes into job ids (no `:`), URLs and metric labels; another source's is keyed by both.
  const key = splitFamilyKey(family.name);
  if (!FAMILY_NAME.test(key.family) || !SOURCE_NAME.test(key.source))
    problems.push(
      `${family.name}: the name must be lowercase letters, digits, - or _, starting with a letter`,
    );
  const check = (model: ModelDeclaration, place: TablePlace, required: readonly string[]) => {
    const missing = [
      ...ownColumns(place, model.layoutVersion !== undefined).map((column) => column.name),
      ...required,
      ...model.columns.flatMap((c) => (c.nameColumn ? [c.column, c.nameColumn] : [c.column])),
    ].filter((name) => !model.table.sqlTypes.has(name));
    for (const name of missing)
      problems.push(
        `${family.name}: ${model.model}: table ${model.table.name} has no column ${name}`,
      );
  };
  check(family.root, 'root', []);
  for (const child of family.children) check(child, 'child', [child.parentColumn]);
  const models = familyModels(family).map((model) => model.model);
  if (new Set(models).size !== models.length)
    problems.push(`${family.name}: a model appears twice`);
  return problems;
}
