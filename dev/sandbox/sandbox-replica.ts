/**
 * The sandbox's read replica: what Odoo 18+ may serve JSON-2 methods marked read-only from
 * (`db_replica_host`). A replica replays the primary's commits in their order, each some time
 * after it committed; with a lag of L ms a read at time t sees every commit made at or before
 * t − L, and none after — never half of one.
 *
 * The primary keeps a copy of its tables at each commit while the lag is on; a read takes the
 * latest copy old enough and drops the older ones. Time is the sandbox clock's, so a test moves
 * the replica along by moving its clock. Meant for tests: each commit copies every table.
 */
import type { SandboxStore, StoreSnapshot } from './sandbox-store.js';

export interface SandboxReplica {
  lagMs(): number;
  /** 0 turns the replica off: reads see the primary again, every commit at once. */
  setLagMs(milliseconds: number): void;
  /** The store a read-only call reads: the primary with no lag, else the replica's state. */
  readStore(): SandboxStore;
}

interface Commit {
  readonly atMicros: number;
  readonly snapshot: StoreSnapshot;
}

export function createSandboxReplica(
  primary: SandboxStore,
  options: { nowMicros: () => number; lagMs?: number },
): SandboxReplica {
  let lagMicros = 0;
  /** Commits not yet visible, oldest first. */
  let pending: Commit[] = [];
  /** The latest visible commit, and the store built for it once a read needed it. */
  let visible: { snapshot: StoreSnapshot; store?: SandboxStore } | undefined;

  primary.onCommit = () => {
    if (lagMicros > 0)
      pending.push({ atMicros: options.nowMicros(), snapshot: primary.snapshot() });
  };

  const replica: SandboxReplica = {
    lagMs: () => lagMicros / 1_000,
    setLagMs(milliseconds) {
      if (!Number.isFinite(milliseconds) || milliseconds < 0)
        throw new Error(`a replica lag must be a number of milliseconds ≥ 0, not ${milliseconds}`);
      if (milliseconds === 0) {
        pending = [];
        visible = undefined;
      } else if (lagMicros === 0) {
        // Turned on: the replica has replayed everything so far.
        visible = { snapshot: primary.snapshot() };
      }
      lagMicros = Math.round(milliseconds * 1_000);
    },
    readStore() {
      if (lagMicros === 0 || visible === undefined) return primary;
      const horizon = options.nowMicros() - lagMicros;
      let next = 0;
      while (next < pending.length && (pending[next] as Commit).atMicros <= horizon) next += 1;
      if (next > 0) {
        visible = { snapshot: (pending[next - 1] as Commit).snapshot };
        pending = pending.slice(next);
      }
      visible.store ??= primary.replicaAt(visible.snapshot);
      return visible.store;
    },
  };
  if (options.lagMs !== undefined) replica.setLagMs(options.lagMs);
  return replica;
}
