/**
 * A family as one source copies it (docs/sources.md). The engine keys everything it keeps of a
 * family by the family's name: its lease, watermarks, failures, runs, history and feed. A family of
 * a source other than the default is named `<source>.<family>`, and its tables are in the
 * source's schema: every key of it is then the pair (source, family), and the default source's
 * families keep the names and the tables they have always had.
 */
import { sql, type SQL } from 'drizzle-orm';
import type {
  CopyTable,
  FamilySchedule,
  LinkTable,
  ModelDeclaration,
  RecordFamily,
} from './family.js';
import type { ConfiguredFamilySpec } from './configured/spec.js';

/** The source of today's ODOO_* variables: its families keep their own names, in `public`. */
export const DEFAULT_SOURCE = 'default';

/** What a source's name may be: it prefixes its families' names and names its schema. */
export const SOURCE_NAME = /^[a-z][a-z0-9_]{0,30}$/;

/** A consumer's list of sources that means every source, those added later too (docs/feed.md). */
export const EVERY_SOURCE = '*';

/**
 * The sources a consumer that names none reads (docs/feed.md, "Whose records"): the default
 * source where the deployment has one — what every consumer read before a second source came —
 * else every source it has.
 */
export function unnamedSources(sources: readonly string[]): readonly string[] {
  return sources.includes(DEFAULT_SOURCE) ? [DEFAULT_SOURCE] : sources;
}

/** Between a source's name and a family's in the family's key (neither name may hold it). */
const SEPARATOR = '.';

/** Where a source's copy is. */
export interface SourcePlace {
  readonly name: string;
  /** The PostgreSQL schema of its copy tables. */
  readonly schema: string;
}

/** The name a source's family is keyed by: the family's own for the default source. */
export function familyKey(source: string, family: string): string {
  return source === DEFAULT_SOURCE ? family : `${source}${SEPARATOR}${family}`;
}

/**
 * A model as one source copies it, where models of every source are kept together (the claims of
 * models, the lookup of a model's family): the model's own name for the default source.
 */
export function modelKey(source: string, model: string): string {
  return source === DEFAULT_SOURCE ? model : `${source}:${model}`;
}

/**
 * A family of the families file as `source` declares it: named by its key there, so that the
 * layout `migrate` plans from the source's Odoo is kept, and found, under that key.
 */
export function sourceSpec(spec: ConfiguredFamilySpec, source: string): ConfiguredFamilySpec {
  return { ...spec, name: familyKey(source, spec.name) };
}

/** The source and the family a key names. */
export function splitFamilyKey(key: string): { source: string; family: string } {
  const at = key.indexOf(SEPARATOR);
  return at < 0
    ? { source: DEFAULT_SOURCE, family: key }
    : { source: key.slice(0, at), family: key.slice(at + SEPARATOR.length) };
}

/**
 * The source of the family key that `key` holds, in SQL: {@link splitFamilyKey} where rows are
 * filtered (the change feed's, by a consumer's sources).
 */
export function sourceOfKeySql(key: SQL): SQL {
  return sql`(case when strpos(${key}, ${SEPARATOR}) > 0 then split_part(${key}, ${SEPARATOR}, 1) else ${DEFAULT_SOURCE} end)`;
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
