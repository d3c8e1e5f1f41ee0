/**
 * BullMQ job counts by queue and state as a Prometheus gauge, read from Redis at scrape time.
 * The API and the worker both expose it, each on its own registry. Redis away must not take the
 * whole scrape down: the counts are left out and `erp_bridge_queue_reachable` says 0.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Queues } from './queues.js';

export function registerQueueMetrics(registry: Registry, queues: Queues): void {
  const reachable = new Gauge({
    name: 'erp_bridge_queue_reachable',
    help: '1 when the last scrape could read the queue counts from Redis, else 0',
    registers: [registry],
  });
  new Gauge({
    name: 'erp_bridge_queue_jobs',
    help: 'BullMQ jobs by queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const counts = await Promise.all(
        queues.all.map(async (queue) => ({
          queue: queue.name,
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
      for (const { queue, counts: byState } of counts ?? []) {
        for (const [state, n] of Object.entries(byState)) this.set({ queue, state }, n);
      }
    },
  });
}
