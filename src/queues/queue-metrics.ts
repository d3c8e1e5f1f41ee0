/**
 * BullMQ job counts by queue and state as a Prometheus gauge, read from Redis at scrape time.
 * The API and the worker both expose it, each on its own registry. Redis away must not take the
 * whole scrape down: the counts are left out and `erp_bridge_queue_reachable` says 0.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Queues } from './queues.js';
import { queueOfName } from './source-queues.js';

export function registerQueueMetrics(registry: Registry, queues: Queues): void {
  const reachable = new Gauge({
    name: 'erp_bridge_queue_reachable',
    help: '1 when the last scrape could read the queue counts from Redis, else 0',
    registers: [registry],
  });
  new Gauge({
    name: 'erp_bridge_queue_jobs',
    help: 'BullMQ jobs by queue, source (each source has queues of its own) and state',
    labelNames: ['queue', 'source', 'state'] as const,
    registers: [registry],
    async collect() {
      const counts = await Promise.all(
        queues.all.map(async (queue) => ({
          // A queue of erp-bridge's is always named by its kind and source (source-queues.ts).
          ...queueOfName(queue.name)!,
          counts: await queue.getJobCounts(
            'waiting',
            'active',
            'delayed',
            'completed',
            'failed',
            'waiting-children',
            'prioritized',
          ),
        })),
      ).catch(() => undefined);
      this.reset();
      reachable.set(counts ? 1 : 0);
      for (const { kind, source, counts: byState } of counts ?? []) {
        for (const [state, n] of Object.entries(byState))
          this.set({ queue: kind, source, state }, n);
      }
    },
  });
}
