/**
 * `sync_large_value`: the values a read took alone from Odoo (docs/sync.md, "Large values"),
 * staged in pieces as they were read, so that a worker holds one of them at a time and never a
 * record's whole: the write that copies the record puts them back in their columns and `data`.
 *
 * Rows are keyed by the stage of one read (a page, a record job, a webhook's read, a verify's
 * slice), which deletes them once its writes are done; rows of a stage whose process died are
 * deleted a day later by the next stage. Unlogged (drizzle/0040_large_values.sql): staged for
 * minutes, worth nothing after a crash, and each value written once more into the copy's WAL.
 */
import { integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const syncLargeValue = pgTable(
  'sync_large_value',
  {
    /** The stage (a random id) of the read that staged it. */
    stage: text('stage').notNull(),
    /** The value within its stage, from 1. */
    value: integer('value').notNull(),
    /** The piece within its value, from 0: the value is its pieces in order. */
    part: integer('part').notNull(),
    /** About a million characters of the text. */
    piece: text('piece').notNull(),
    stagedAt: timestamp('staged_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.stage, t.value, t.part] })],
);
