/**
 * A source's name and the keys a source's things are kept under (docs/sources.md): the one file
 * that writes and reads their text forms. The engine keys everything it keeps of a family by the
 * family's key: its lease, watermarks, failures, runs, history and feed. A family of a source other
 * than the default is keyed `<source>.<family>`; the default source's families keep the names they
 * have always had.
 */
import { sql, type SQL } from 'drizzle-orm';

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

/** Between a source's name and a family's or a queue's (neither name may hold it; BullMQ allows it). */
const SEPARATOR = '.';

/**
 * A name of `source`'s own, where every source's are kept together (a family's key, a queue's
 * name, a schema of the API's document): the name itself for the default source,
 * `<source>.<name>` for another.
 */
export function sourceKey(source: string, name: string): string {
  return source === DEFAULT_SOURCE ? name : `${source}${SEPARATOR}${name}`;
}

/** The source and the name a {@link sourceKey} holds. */
function splitSourceKey(key: string): { source: string; name: string } {
  const at = key.indexOf(SEPARATOR);
  return at < 0
    ? { source: DEFAULT_SOURCE, name: key }
    : { source: key.slice(0, at), name: key.slice(at + SEPARATOR.length) };
}

/** The name a source's family is keyed by: the family's own for the default source. */
export function familyKey(source: string, family: string): string {
  return sourceKey(source, family);
}

/** The source and the kind a queue's name holds. */
export function splitQueueKey(key: string): { source: string; kind: string } {
  const { source, name } = splitSourceKey(key);
  return { source, kind: name };
}

/**
 * A source's Redis key prefix: the deployment's, its hash tag gaining the source's name
 * (`{erp-bridge}` → `{erp-bridge:acme}`), so that a Redis Cluster spreads sources over its nodes
 * while each source's keys stay in one slot; a prefix without a hash tag (no Cluster) gains it
 * after.
 */
export function sourcePrefix(prefix: string, source: string): string {
  if (source === DEFAULT_SOURCE) return prefix;
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  return close > open + 1
    ? `${prefix.slice(0, close)}:${source}${prefix.slice(close)}`
    : `${prefix}:${source}`;
}

/**
 * A model as one source copies it, where models of every source are kept together (the claims of
 * models, the lookup of a model's family): the model's own name for the default source.
 */
export function modelKey(source: string, model: string): string {
  return source === DEFAULT_SOURCE ? model : `${source}:${model}`;
}

/** The source and the family a key names. */
export function splitFamilyKey(key: string): { source: string; family: string } {
  const { source, name } = splitSourceKey(key);
  return { source, family: name };
}

/**
 * The source of the family key that `key` holds, in SQL: {@link splitFamilyKey} where rows are
 * filtered (the change feed's, by a consumer's sources).
 */
export function sourceOfKeySql(key: SQL): SQL {
  return sql`(case when strpos(${key}, ${SEPARATOR}) > 0 then split_part(${key}, ${SEPARATOR}, 1) else ${DEFAULT_SOURCE} end)`;
}
