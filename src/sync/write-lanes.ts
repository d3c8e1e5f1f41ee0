/**
 * The process's batch writes in flight (write-records.ts). A page always writes one batch at a
 * time; it writes a second beside it only while the process writes fewer than the bound. A page
 * written alone (a run's only page, its last; a reconcile's or a verify's) then takes about half
 * the time, and pages written side by side, as a first copy's are, crowd PostgreSQL with no more
 * transactions than one each (docs/performance.md, "Where the rerun's time goes").
 */
export interface WriteLanes {
  /**
   * Counts a batch in flight: a page's own always; a second one (`beside`) only while the
   * process writes fewer than the bound. False: none was counted.
   */
  take(beside: boolean): boolean;
  release(): void;
}

/** Batches in flight past which no page writes a second one beside its own. */
export const WRITE_BATCHES_IN_FLIGHT = 2;

export function createWriteLanes(bound = WRITE_BATCHES_IN_FLIGHT): WriteLanes {
  let inFlight = 0;
  return {
    take(beside) {
      if (beside && inFlight >= bound) return false;
      inFlight += 1;
      return true;
    },
    release() {
      inFlight -= 1;
    },
  };
}
