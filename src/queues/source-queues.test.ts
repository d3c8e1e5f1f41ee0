import { describe, expect, it } from 'vitest';
import { queueNameOf, queueOfName, sourceOfJob } from './source-queues.js';
import { sourcePrefix } from '../sources/family-key.js';

describe("a source's queues", () => {
  it("keep the default source's names and prefix, and name another's by its source", () => {
    expect(queueNameOf('sync-page', 'default')).toBe('sync-page');
    expect(queueNameOf('sync-page', 'acme')).toBe('acme.sync-page');
    expect(sourcePrefix('{erp-bridge}', 'default')).toBe('{erp-bridge}');
    expect(sourcePrefix('{erp-bridge}', 'acme')).toBe('{erp-bridge:acme}');
    expect(sourcePrefix('bull-{eb}-x', 'acme')).toBe('bull-{eb:acme}-x');
    expect(sourcePrefix('bull', 'acme')).toBe('bull:acme');
  });

  it('are told apart by name: kind and source, or none for a queue erp-bridge never makes', () => {
    expect(queueOfName('sync-page')).toEqual({ kind: 'sync-page', source: 'default' });
    expect(queueOfName('acme.sync-webhook')).toEqual({ kind: 'sync-webhook', source: 'acme' });
    expect(queueOfName('feed')).toEqual({ kind: 'feed', source: 'default' });
    // The change feed's queue is the deployment's only.
    expect(queueOfName('acme.feed')).toBeUndefined();
    expect(queueOfName('jobs')).toBeUndefined();
  });

  it("take a job by its family's source; the feed's jobs are the default source's", () => {
    expect(sourceOfJob({ family: 'acme.bcs', odooId: 1 })).toBe('acme');
    expect(sourceOfJob({ family: 'bcs' })).toBe('default');
    expect(sourceOfJob({ subscriptionId: 3 })).toBe('default');
  });

  it("carry their source in the hash tag a Redis Cluster places keys by; a source's in one tag", () => {
    // Redis Cluster hashes the first {...} of a key that holds one (its "hash tag").
    const tagOf = (key: string) => /\{([^}]+)\}/.exec(key)?.[1];
    const keyOf = (source: string, queue: 'sync' | 'sync-page', id: string) =>
      `${sourcePrefix('{erp-bridge}', source)}:${queueNameOf(queue, source)}:${id}`;
    // A run and its pages, on two queues, share a slot: BullMQ's flows need it.
    expect(tagOf(keyOf('acme', 'sync', 'run-1'))).toBe('erp-bridge:acme');
    expect(tagOf(keyOf('acme', 'sync-page', 'page-9'))).toBe('erp-bridge:acme');
    expect(tagOf(keyOf('default', 'sync-page', 'page-9'))).toBe('erp-bridge');
  });
});
