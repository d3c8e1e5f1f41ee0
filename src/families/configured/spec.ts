/**
 * A family declared in the operators' file (`SYNC_FAMILIES_FILE`), as the configuration checked
 * it: which models, which of their fields, where their copy goes, when it runs, and what the API
 * may filter and sort on. Its typed columns come from Odoo's own `fields_get`, read by `migrate`
 * (layout.ts); the two together make a family like one declared in code (build.ts).
 */

export interface ConfiguredModelSpec {
  readonly model: string;
  /** Its copy table: `scrap_<model, dots as underscores>` unless named. */
  readonly table: string;
  /** Only these fields (and those every read needs); undefined: every stored field. */
  readonly fields?: readonly string[];
  /** Binary fields copied: the others are left out of reads. */
  readonly binary: readonly string[];
  /** Fields the API may filter on, and sort by. */
  readonly api: { readonly filter: readonly string[]; readonly sort: readonly string[] };
}

export interface ConfiguredChildSpec extends ConfiguredModelSpec {
  /** The child's many2one to its root. */
  readonly link: string;
}

export interface ConfiguredFamilySpec {
  readonly name: string;
  readonly root: ConfiguredModelSpec;
  readonly children: readonly ConfiguredChildSpec[];
  readonly schedule: { readonly everyMs?: number; readonly reconcileCron?: string };
}

/** The default copy table of a model. */
export function defaultTableOf(model: string): string {
  return `scrap_${model.replace(/\./g, '_')}`;
}

/** The link table of a to-many field of a copy table. */
export function linkTableOf(table: string, field: string): string {
  return `${table}__${field}`;
}
