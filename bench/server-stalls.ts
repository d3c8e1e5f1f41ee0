/**
 * What stalled the server's process during a measurement: its event-loop delay (a request that
 * arrives while the loop is busy waits that long before any of our code runs), its GC pauses, and
 * the machine's load (on a shared VM, other processes take the cores the server needs). The
 * benches run the server in their own process, so these are the server's figures. They explain
 * a latency tail; they are not goals.
 */
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { loadavg } from 'node:os';

export interface ServerStalls {
  loopDelayP50Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  gcPauses: number;
  gcTotalMs: number;
  gcMaxMs: number;
  /** Major (mark-compact) collections among the pauses. */
  gcMajor: number;
  loadAverage1m: number;
}

/** Starts watching; the returned function stops and reports. */
export function watchServerStalls(): () => ServerStalls {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const gc = { pauses: 0, totalMs: 0, maxMs: 0, major: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.pauses += 1;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      const { detail } = entry as { detail?: { kind?: number } };
      const kind = detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major += 1;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  loop.enable();
  return () => {
    loop.disable();
    observer.disconnect();
    return {
      loopDelayP50Ms: loop.percentile(50) / 1e6,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
      gcPauses: gc.pauses,
      gcTotalMs: gc.totalMs,
      gcMaxMs: gc.maxMs,
      gcMajor: gc.major,
      loadAverage1m: loadavg()[0] ?? Number.NaN,
    };
  };
}

export function formatServerStalls(label: string, stalls: ServerStalls): string {
  return (
    `${label}: event-loop delay p50 ${stalls.loopDelayP50Ms.toFixed(1)} ms, ` +
    `p99 ${stalls.loopDelayP99Ms.toFixed(1)} ms, max ${stalls.loopDelayMaxMs.toFixed(1)} ms; ` +
    `GC ${stalls.gcPauses} pauses (${stalls.gcMajor} major), ${stalls.gcTotalMs.toFixed(0)} ms in all, ` +
    `longest ${stalls.gcMaxMs.toFixed(1)} ms; machine load ${stalls.loadAverage1m.toFixed(2)}`
  );
}
