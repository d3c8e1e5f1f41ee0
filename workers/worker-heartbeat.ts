/**
 * The worker's heartbeat, which its readiness reads: it beats while every BullMQ worker of the
 * process is running (taking jobs, or waiting for some) and whenever a job starts or ends. A
 * worker whose job loops stopped — a lost Redis connection that gave up, a closed worker — stops
 * beating, and turns unready once the last beat is older than `maxAgeMs`.
 */
import type { Worker } from 'bullmq';

export interface WorkerHeartbeat {
  /** Milliseconds since the last beat. */
  ageMs(): number;
  /** Whether the last beat is recent enough. */
  recent(): boolean;
  stop(): void;
}

export function startWorkerHeartbeat(
  workers: readonly Worker[],
  settings: { intervalMs: number; maxAgeMs: number },
): WorkerHeartbeat {
  let lastBeatMs = Date.now();
  const beat = (): void => {
    lastBeatMs = Date.now();
  };
  const timer = setInterval(() => {
    if (workers.every((worker) => worker.isRunning() && !worker.closing)) beat();
  }, settings.intervalMs);
  timer.unref();
  for (const worker of workers) {
    worker.on('active', beat);
    worker.on('completed', beat);
    worker.on('failed', beat);
  }
  return {
    ageMs: () => Date.now() - lastBeatMs,
    recent: () => Date.now() - lastBeatMs <= settings.maxAgeMs,
    stop() {
      clearInterval(timer);
      for (const worker of workers) {
        worker.off('active', beat);
        worker.off('completed', beat);
        worker.off('failed', beat);
      }
    },
  };
}
