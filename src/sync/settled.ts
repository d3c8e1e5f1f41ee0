/**
 * Settled stamps: which BCs of a run's scans the copy already holds for good, so the run need not
 * read them again. Without it a BC changed inside the overlap window is re-read by every run until
 * the watermark moves past it — forever, in a quiet Odoo.
 *
 * Equal stamps alone prove nothing: two commits in one second share a stamp, and the second may
 * commit after the copy read the first. But a transaction stamped S commits before S + overlap
 * (the assumption the overlap window already rests on). So once a run has read Odoo after
 * S + overlap by Odoo's clock, a copy row stamped S equal to Odoo's is the last version of S. The
 * run's first step notes Odoo's clock after its scans (the HTTP `Date` of its answers, minus the
 * overlap and a margin for the skew between Odoo's web and database servers); a run in which
 * every BC was written makes it `sync_state.settled_through`; the next runs skip the BCs whose
 * stamps, and their changed lines' stamps, are all at or before it and equal to the copy's, in
 * rows no one but that run wrote since it started (its own writes read Odoo after its clock
 * reading; their audit rows tell them apart). The proof runs in SQL as each scan page is staged
 * (run-plan.ts).
 *
 * Reads from a read replica that lags (docs/odoo.md, "Reads from a replica") may not show yet
 * what Odoo committed before its clock: the proof then also stops at what the reads have shown
 * (`shownThrough`).
 */

/** Allowed skew between the clock of Odoo's HTTP answers and the one that stamps `write_date`. */
export const CLOCK_SKEW_MARGIN_SECONDS = 60;

/** What a run reading Odoo from `serverTime` on will prove settled once it succeeds. */
export function settledBy(serverTime: Date | undefined, overlapSeconds: number): Date | null {
  if (!serverTime) return null;
  return new Date(serverTime.getTime() - (overlapSeconds + CLOCK_SKEW_MARGIN_SECONDS) * 1_000);
}

/**
 * With reads that may lag, the latest stamp whose every transaction the reads surely show. A
 * replica replays the primary's commits in their order: one that showed a record stamped S has
 * replayed the commit that wrote it, made at S or later, and every commit before it; and a
 * transaction stamped T commits before T + overlap. So every transaction stamped at or before
 * S − overlap is visible. `latestSeen`: the latest stamp the reads have shown (never one from a
 * clock ahead of Odoo's).
 */
export function shownThrough(
  latestSeen: Date | null | undefined,
  overlapSeconds: number,
): Date | null {
  return latestSeen ? new Date(latestSeen.getTime() - overlapSeconds * 1_000) : null;
}

/** The latest stamp a committed record can carry by Odoo's clock: later ones came from a clock ahead. */
export function clockBound(odooNow: Date | undefined): Date | undefined {
  return odooNow && new Date(odooNow.getTime() + CLOCK_SKEW_MARGIN_SECONDS * 1_000);
}
