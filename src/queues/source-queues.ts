/**
 * Each source has queues of its own (docs/sources.md, "Queues"): a source's first copy of
 * millions of records queues its pages on its own `sync-page`, never ahead of another source's, and
 * each worker takes a source's jobs up to that source's cap (workers/source-slots.ts). The
 * default source's queues keep their names and prefix, so that a deployment of one Odoo keeps its
 * queues; another source's are named `<source>.<queue>` (bull-board and the metrics tell them
 * apart, and so does BullMQ on PostgreSQL, which has no prefix) under a prefix whose Redis hash tag
 * holds the source's name (`{erp-bridge:acme}`; src/sources/family-key.ts writes both). The change
 * feed's queue is the deployment's, as the feed is.
 */
import { DEFAULT_SOURCE, sourceKey, splitFamilyKey, splitQueueKey } from '../sources/family-key.js';
import { QUEUE_NAMES, type QueueName } from './catalogue.js';

/** The queues every source has; `feed` is the default source's only. */
export type SourceQueueKind = Exclude<QueueName, 'feed'>;
export const SOURCE_QUEUE_KINDS = QUEUE_NAMES.filter(
  (name): name is SourceQueueKind => name !== 'feed',
);

/** The name of a source's queue of `kind`. */
export function queueNameOf(kind: QueueName, source: string): string {
  return sourceKey(source, kind);
}

/** The kind and the source of a queue by its name; undefined for a name erp-bridge never gives. */
export function queueOfName(name: string): { kind: QueueName; source: string } | undefined {
  const { source, kind } = splitQueueKey(name);
  const known = (QUEUE_NAMES as readonly string[]).includes(kind);
  return known && (source === DEFAULT_SOURCE || kind !== 'feed')
    ? { kind: kind as QueueName, source }
    : undefined;
}

/** The source whose queues a job goes to: its family's, the default source's for the feed's. */
export function sourceOfJob(data: object): string {
  if ('family' in data && typeof data.family === 'string')
    return splitFamilyKey(data.family).source;
  return 'source' in data && typeof data.source === 'string' ? data.source : DEFAULT_SOURCE;
}
