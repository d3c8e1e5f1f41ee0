/**
 * The project's BullMQ queues and the one way to add a job: by catalogue name, with a payload
 * checked against the catalogue's schema and the catalogue's options, on the queue of its family's
 * source (source-queues.ts).
 */
import type { Queue, JobsOptions, Job } from 'bullmq';
import type { QueueStore } from '../stores/queue-store.js';
import type { Logger } from '../lib/logger.js';
import { DEFAULT_SOURCE, splitFamilyKey } from '../sources/family-key.js';
import {
  JOBS,
  QUEUE_NAMES,
  type ChildJob,
  type JobInput,
  type JobName,
  type JobSettings,
  type QueueName,
} from './catalogue.js';
import {
  SOURCE_QUEUE_KINDS,
  queueOfName,
  sourceOfJob,
  type SourceQueueKind,
} from './source-queues.js';

/**
 * Children added per round trip: BullMQ builds every job of an `addBulk` (its JSON, its script
 * call) before sending any; in slices, a worker's memory does not jump when a wave of a large
 * run's pages is queued.
 */
const CHILDREN_PER_ADD = 100;

export interface Queues {
  /** The default source's queues, and the change feed's. */
  readonly byName: Readonly<Record<QueueName, Queue>>;
  /** A source's queues, made on first use. */
  of(source: string): Readonly<Record<SourceQueueKind, Queue>>;
  /** The queue of `kind` of a family, by its key: its source's. */
  ofFamily(kind: SourceQueueKind, familyKey: string): Queue;
  /** The queue BullMQ names `name` (a child's, read from its key), if erp-bridge has it. */
  named(name: string): Queue | undefined;
  /** Every queue made so far: those of the sources `createQueues` was given, at least. */
  readonly all: readonly Queue[];
  readonly settings: JobSettings;
  /** Where the queues are: Redis or PostgreSQL. */
  readonly backend: QueueStore;
  /** Adds a job of the catalogue; rejects a payload that does not match its schema. */
  add<N extends JobName>(name: N, data: JobInput<N>, options?: JobsOptions): Promise<Job>;
  /** Adds many jobs of one kind in one round trip. */
  addBulk<N extends JobName>(
    name: N,
    jobs: readonly { data: JobInput<N>; options?: JobsOptions }[],
  ): Promise<Job[]>;
  /**
   * Adds a step's children under `parent`, each with its deterministic id (re-adding collapses).
   * A child that fails for good does not block its parent: the parent reads it from its list of
   * failed children.
   */
  addChildren(parent: { id: string; queue: string }, children: readonly ChildJob[]): Promise<void>;
  close(): Promise<void>;
}

export function createQueues(input: {
  backend: QueueStore;
  settings: JobSettings;
  logger: Logger;
  /** The sources whose queues are made at once (bull-board and the metrics show them). */
  sources?: readonly string[];
}): Queues {
  const made = (name: QueueName, source: string): Queue => {
    const queue = input.backend.queue(name, source);
    // An 'error' event without a listener would crash the process.
    queue.on('error', (error) =>
      input.logger.error({ err: error, queue: queue.name }, 'queue error'),
    );
    return queue;
  };
  const byName = Object.fromEntries(
    QUEUE_NAMES.map((name) => [name, made(name, DEFAULT_SOURCE)]),
  ) as Record<QueueName, Queue>;
  const bySource = new Map<string, Readonly<Record<SourceQueueKind, Queue>>>([
    [DEFAULT_SOURCE, byName],
  ]);
  const all: Queue[] = Object.values(byName);
  const of = (source: string) => {
    let queues = bySource.get(source);
    if (!queues) {
      queues = Object.fromEntries(
        SOURCE_QUEUE_KINDS.map((kind) => [kind, made(kind, source)]),
      ) as Record<SourceQueueKind, Queue>;
      bySource.set(source, queues);
      all.push(...Object.values(queues));
    }
    return queues;
  };
  for (const source of input.sources ?? []) of(source);
  /** A source's queue of `kind`; the change feed's is the deployment's. */
  const at = (kind: QueueName, source: string): Queue =>
    kind === 'feed' ? byName.feed : of(source)[kind];
  const queueOf = (name: JobName, data: object): Queue => at(JOBS[name].queue, sourceOfJob(data));
  const optionsOf = (name: JobName, extra?: JobsOptions): JobsOptions => ({
    ...JOBS[name].options(input.settings),
    ...extra,
  });
  return {
    byName,
    of,
    ofFamily: (kind, familyKey) => at(kind, splitFamilyKey(familyKey).source),
    named(name) {
      const queue = queueOfName(name);
      return queue && at(queue.kind, queue.source);
    },
    all,
    settings: input.settings,
    backend: input.backend,
    async add(name, data, options) {
      const payload = JOBS[name].schema.parse(data);
      return queueOf(name, payload).add(name, payload, optionsOf(name, options));
    },
    async addBulk(name, jobs) {
      // A bulk of one family's jobs (the rule) goes to one queue in one round trip.
      const byQueue = new Map<Queue, { name: string; data: object; opts: JobsOptions }[]>();
      for (const job of jobs) {
        const data: object = JOBS[name].schema.parse(job.data);
        const queue = queueOf(name, data);
        const group = byQueue.get(queue) ?? [];
        group.push({ name, data, opts: optionsOf(name, job.options) });
        byQueue.set(queue, group);
      }
      const added: Job[] = [];
      for (const [queue, group] of byQueue) added.push(...(await queue.addBulk(group)));
      return added;
    },
    async addChildren(parent, children) {
      const byName = new Map<JobName, ChildJob[]>();
      for (const child of children)
        byName.set(child.name, [...(byName.get(child.name) ?? []), child]);
      for (const [name, group] of byName) {
        for (let i = 0; i < group.length; i += CHILDREN_PER_ADD) {
          await this.addBulk(
            name,
            group.slice(i, i + CHILDREN_PER_ADD).map((child) => ({
              data: child.data,
              options: {
                jobId: child.jobId,
                parent,
                ignoreDependencyOnFailure: true,
                ...(child.priority === undefined ? {} : { priority: child.priority }),
              },
            })),
          );
        }
      }
    },
    async close() {
      await Promise.all(all.map((queue) => queue.close()));
    },
  };
}
