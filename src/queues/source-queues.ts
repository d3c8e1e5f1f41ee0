/**
 * Each source has queues of its own (docs/sources.md, "Queues"): a source's first copy of
 * millions of records queues its pages on its own `sync-page`, never ahead of another source's, and
 * each worker takes a source's jobs up to that source's cap (workers/source-slots.ts). The
 * default source's queues keep their names and prefix, so that a deployment of one Odoo keeps its
 * queues; another source's are named `<source>.<queue>` (bull-board and the metrics tell them
 * apart, and so does BullMQ on PostgreSQL, which has no prefix) under a prefix whose Redis hash tag
 * holds the source's name (`{erp-bridge:acme}`), so that a Redis Cluster spreads sources over its
 * nodes while each source's flows stay in one slot. The change feed's queue is the deployment's,
 * as the feed is.
 */
import { DEFAULT_SOURCE, splitFamilyKey } from '../families/source-family.js';
import { QUEUE_NAMES, type QueueName } from './catalogue.js';

/** The queues every source has; `feed` is the default source's only. */
export type SourceQueueKind = Exclude<QueueName, 'feed'>;
export const SOURCE_QUEUE_KINDS = QUEUE_NAMES.filter(
  (name): name is SourceQueueKind => name !== 'feed',
);

/** Between a source's name and a queue's: no source name holds it, and BullMQ allows it. */
const SEPARATOR = '.';

/** The name of a source's queue of `kind`. */
export function queueNameOf(kind: QueueName, source: string): string {
  return source === DEFAULT_SOURCE ? kind : `${source}${SEPARATOR}${kind}`;
}

/** The kind and the source of a queue by its name; undefined for a name erp-bridge never gives. */
export function queueOfName(name: string): { kind: QueueName; source: string } | undefined {
  const at = name.indexOf(SEPARATOR);
  const [source, kind] = at < 0 ? [DEFAULT_SOURCE, name] : [name.slice(0, at), name.slice(at + 1)];
  const known = (QUEUE_NAMES as readonly string[]).includes(kind);
  return known && (source === DEFAULT_SOURCE || kind !== 'feed')
    ? { kind: kind as QueueName, source }
    : undefined;
}

/**
 * A source's Redis key prefix: the deployment's, its hash tag gaining the source's name
 * (`{erp-bridge}` → `{erp-bridge:acme}`); a prefix without a hash tag (no Cluster) gains it after.
 */
export function sourcePrefix(prefix: string, source: string): string {
  if (source === DEFAULT_SOURCE) return prefix;
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  return close > open + 1
    ? `${prefix.slice(0, close)}:${source}${prefix.slice(close)}`
    : `${prefix}:${source}`;
}

/** The source whose queues a job goes to: its family's, the default source's for the feed's. */
export function sourceOfJob(data: object): string {
  if ('family' in data && typeof data.family === 'string')
    return splitFamilyKey(data.family).source;
  return 'source' in data && typeof data.source === 'string' ? data.source : DEFAULT_SOURCE;
}
