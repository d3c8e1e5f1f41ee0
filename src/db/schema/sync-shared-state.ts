/**
 * The fleet's shared state when there is no Redis (src/shared-state): what the queue Redis keeps
 * for every process otherwise, here with the same lifetimes. The tables are unlogged
 * (drizzle/0034_shared_state.sql): like Redis's keys, their rows are worth nothing after a crash
 * (a slot's lease, a pause, a remembered uid, a nudge), and every call would otherwise write WAL.
 *
 * `sync_shared_value`: a value under a key until `expires_at` (the Odoo login memo, the feed's
 * nudge flags); a row past it is as good as gone, and the next write deletes it.
 *
 * `sync_call_budget`: one Odoo call budget (src/odoo-budget), all its state in one row, as the
 * Redis store keeps it in four keys: the attempts in flight until their lease ends, the ends of
 * the windows of the attempts released (each counts against the rate until a window after its
 * release), the fleet-wide pause and the backoff level of the pauses that followed one another.
 * Written only by the functions `sync_call_budget_acquire` and `sync_call_budget_release`, which
 * lock the row first and drop what has expired. One row updated in place, its key unchanged: its
 * old versions are pruned from its page without VACUUM, where a row per attempt leaves a dead
 * index entry behind it that every later count steps over until VACUUM comes (docs/performance.md,
 * "The call budget's store").
 */
import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const syncSharedValue = pgTable(
  'sync_shared_value',
  {
    key: text('key').primaryKey(),
    value: text('value').notNull(),
    expiresAt: utc('expires_at').notNull(),
  },
  (t) => [index('sync_shared_value_expires_idx').on(t.expiresAt)],
);

export const syncCallBudget = pgTable('sync_call_budget', {
  /** A digest of the Odoo URL and database. */
  budget: text('budget').primaryKey(),
  /** The attempts in flight, and the end of each one's lease (the same order). */
  inFlight: text('in_flight')
    .array()
    .notNull()
    .default(sql`'{}'`),
  inFlightUntil: utc('in_flight_until')
    .array()
    .notNull()
    .default(sql`'{}'`),
  /** The end of the window of each released attempt, oldest first. */
  recentUntil: utc('recent_until')
    .array()
    .notNull()
    .default(sql`'{}'`),
  /** The HTTP status that paused the fleet (429 or 503), until `paused_until`. */
  pauseStatus: integer('pause_status'),
  pausedUntil: utc('paused_until'),
  /** How many pauses followed one another; counts while `pause_level_until` is ahead. */
  pauseLevel: integer('pause_level').notNull().default(0),
  pauseLevelUntil: utc('pause_level_until'),
});
