/**
 * The project's BullMQ queues and the one way to add a job: by catalogue name, with a payload
 * checked against the catalogue's schema and the catalogue's options.
 */
import type { Queue, JobsOptions, Job } from 'bullmq';
import type { QueueBackend } from './queue-backend.js';
import type { Logger } from '../lib/logger.js';
import {
  JOBS,
  QUEUE_NAMES,
  type ChildJob,
  type JobInput,
  type JobName,
  type JobSettings,
  type QueueName,
} from './catalogue.js';

/**
 * Children added per round trip: BullMQ builds every job of an `addBulk` (its JSON, its script
 * call) before sending any; in slices, a worker's memory does not jump when a wave of a large
 * run's pages is queued.
 */
const CHILDREN_PER_ADD = 100;

export interface Queues {
  readonly byName: Readonly<Record<QueueName, Queue>>;
  readonly all: readonly Queue[];
  readonly settings: JobSettings;
  /** Where the queues are: Redis or PostgreSQL. */
  readonly backend: QueueBackend;
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
  backend: QueueBackend;
  settings: JobSettings;
  logger: Logger;
}): Queues {
  const byName = Object.fromEntries(
    QUEUE_NAMES.map((name) => {
      const queue = input.backend.queue(name);
      // An 'error' event without a listener would crash the process.
      queue.on('error', (error) => input.logger.error({ err: error, queue: name }, 'queue error'));
      return [name, queue];
    }),
  ) as Record<QueueName, Queue>;
  const optionsOf = (name: JobName, extra?: JobsOptions): JobsOptions => ({
    ...JOBS[name].options(input.settings),
    ...extra,
  });
  return {
    byName,
    all: Object.values(byName),
    settings: input.settings,
    backend: input.backend,
    async add(name, data, options) {
      const payload = JOBS[name].schema.parse(data);
      return byName[JOBS[name].queue].add(name, payload, optionsOf(name, options));
    },
    async addBulk(name, jobs) {
      if (jobs.length === 0) return [];
      const queue = byName[JOBS[name].queue];
      return queue.addBulk(
        jobs.map((job) => ({
          name,
          data: JOBS[name].schema.parse(job.data),
          opts: optionsOf(name, job.options),
        })),
      );
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
      await Promise.all(Object.values(byName).map((queue) => queue.close()));
    },
  };
}
