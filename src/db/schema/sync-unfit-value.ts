/**
 * `sync_unfit_value`: the fields whose values Odoo sends no longer fit their column (a field
 * recreated as another type in Odoo: char → integer, selection → many2one). Such a value leaves its
 * column as it is, and the record is copied all the same, `data` exact (src/sync/unfit-values.ts):
 * this table tells operators which fields, how often, since when, and an example record, for
 * `status`, the worker's metrics and `migrate`'s advice.
 */
import { bigint, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const utc = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const syncUnfitValue = pgTable(
  'sync_unfit_value',
  {
    family: text('family').notNull(),
    model: text('model').notNull(),
    field: text('field').notNull(),
    /** The column kind the value did not fit (columns.ts), when it was seen. */
    kind: text('kind').notNull(),
    /** Writes of a record whose value was left out of its column. */
    writes: bigint('writes', { mode: 'number' }).notNull(),
    firstSeenAt: utc('first_seen_at').notNull().defaultNow(),
    lastSeenAt: utc('last_seen_at').notNull().defaultNow(),
    /** The last record seen holding such a value. */
    lastOdooId: integer('last_odoo_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.family, t.model, t.field] })],
);
