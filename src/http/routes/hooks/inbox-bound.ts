/**
 * Each source's share of the webhook inbox, bounded (ODOO_WEBHOOK_INBOX_MAX_EVENTS): events that
 * come faster than reads settle them (a mass edit in Odoo, a token used to flood) fill the
 * inbox, and with it PostgreSQL, no further than the bound; past it an event is refused, and the
 * source's next polling run reads the change. One source full never refuses another's.
 *
 * Counting a source's events costs a scan of its index entries, up to the bound
 * (src/sync/webhook-inbox.ts): so the bound counts a source's events once a minute
 * ({@link RECOUNT_EVERY_MS}), and adds in between the events it kept itself; when that reaches the
 * bound, it counts again, at most every {@link RECOUNT_FULL_EVERY_MS}, to see the inbox drain.
 * Several API processes each count what they kept: the bound holds within what the others accept
 * in a minute (each source's rate limit, ODOO_WEBHOOK_RATE_LIMIT_PER_MINUTE).
 */

/** How often a source's events are counted while below the bound. */
const RECOUNT_EVERY_MS = 60_000;
/** How often they are counted at most while the bound is reached. */
const RECOUNT_FULL_EVERY_MS = 5_000;

export interface InboxBoundOptions {
  readonly maxEvents: number;
  /** A source's events kept, counted up to `cap`. */
  readonly count: (source: string, cap: number) => Promise<number>;
  /** Epoch milliseconds (tests pass their own clock). */
  readonly now?: () => number;
}

export interface InboxBound {
  /** Whether a source's next event may be kept: the events it has kept, when it may not. */
  admit(source: string): Promise<{ readonly admitted: boolean; readonly events: number }>;
  /** An event of `source` was kept. */
  kept(source: string): void;
}

interface Tally {
  events: number;
  countedAtMs: number;
  counting?: Promise<void>;
}

export function createInboxBound(options: InboxBoundOptions): InboxBound {
  const now = options.now ?? Date.now;
  const tallies = new Map<string, Tally>();
  const recount = (source: string, tally: Tally): Promise<void> =>
    (tally.counting ??= options
      .count(source, options.maxEvents)
      .then((events) => {
        tally.events = events;
        tally.countedAtMs = now();
      })
      .finally(() => (tally.counting = undefined)));
  return {
    async admit(source) {
      let tally = tallies.get(source);
      if (!tally) {
        tally = { events: 0, countedAtMs: Number.NEGATIVE_INFINITY };
        tallies.set(source, tally);
      }
      const sinceMs = now() - tally.countedAtMs;
      if (
        sinceMs >= RECOUNT_EVERY_MS ||
        (tally.events >= options.maxEvents && sinceMs >= RECOUNT_FULL_EVERY_MS)
      )
        await recount(source, tally);
      return { admitted: tally.events < options.maxEvents, events: tally.events };
    },
    kept(source) {
      const tally = tallies.get(source);
      if (tally) tally.events += 1;
    },
  };
}
