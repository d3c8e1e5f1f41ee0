/**
 * A family as one source copies it (docs/sources.md): keyed by the pair (source, family)
 * (src/sources/family-key.ts), its tables in the source's schema; the default source's families
 * keep the names and the tables they have always had.
 */
import type {
  CopyTable,
  FamilySchedule,
  LinkTable,
  ModelDeclaration,
  RecordFamily,
} from './family.js';
import type { ConfiguredFamilySpec } from './configured/spec.js';
import { DEFAULT_SOURCE, familyKey, splitFamilyKey } from '../sources/family-key.js';

/** Where a source's copy is. */
export interface SourcePlace {
  readonly name: string;
  /** The PostgreSQL schema of its copy tables. */
  readonly schema: string;
}

/**
 * A family of the families file as `source` declares it: named by its key there, so that the
 * layout `migrate` plans from the source's Odoo is kept, and found, under that key.
 */
export function sourceSpec(spec: ConfiguredFamilySpec, source: string): ConfiguredFamilySpec {
  return { ...spec, name: familyKey(source, spec.name) };
}

/**
 * The family as `source` copies it: keyed by {@link familyKey}, its tables and link tables in the
 * source's schema, on the source's schedule where the family has none of its own. The default
 * source in `public` copies the family as declared.
 */
export function familyInSource(
  family: RecordFamily,
  source: SourcePlace & { readonly schedule?: FamilySchedule },
): RecordFamily {
  if (source.name === DEFAULT_SOURCE && source.schema === 'public') return family;
  const everyMs = family.schedule.everyMs ?? source.schedule?.everyMs;
  const reconcileCron = family.schedule.reconcileCron ?? source.schedule?.reconcileCron;
  const placed = <M extends ModelDeclaration>(model: M): M => {
    const table: CopyTable = { ...model.table, schema: source.schema };
    const links: LinkTable[] = model.links.map((link) => ({ ...link, schema: source.schema }));
    return { ...model, source: source.name, table, links };
  };
  return {
    ...family,
    // A family built for the source is named by its key already (a configured one's layout is).
    name:
      splitFamilyKey(family.name).source === source.name
        ? family.name
        : familyKey(source.name, family.name),
    schedule: {
      ...(everyMs === undefined ? {} : { everyMs }),
      ...(reconcileCron === undefined ? {} : { reconcileCron }),
    },
    root: placed(family.root),
    children: family.children.map(placed),
  };
}
