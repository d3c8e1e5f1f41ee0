/**
 * `sync_value_piece`: the copy's large values (a text past a megabyte in a record's field), a
 * piece of about a million characters per row (docs/sync.md, "Large values"). A record's `data`
 * holds such a value's reference (its SHA-256 and size, src/families/large-values.ts), and its
 * typed column, when it has one, the value whole; the pieces are what the read API streams and
 * puts back in a body, a slice at a time, without reading the record's other values.
 *
 * Rows are keyed by the copy table, the record and the field, then the value's SHA-256: a write
 * adds the pieces of the values it references and deletes that record's pieces no longer
 * referenced; a child deleted takes its pieces with it; pieces a value left when it became small
 * are deleted by the family's next reconcile. `sync_restored_data(copy_table, odoo_id, data)`
 * (drizzle/0041_value_pieces.sql) gives a record's `data` with its values in place, for whoever
 * reads the copy in SQL.
 */
import { integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

export const syncValuePiece = pgTable(
  'sync_value_piece',
  {
    /** The copy table, as `schema.table` for a source with a schema of its own. */
    copyTable: text('copy_table').notNull(),
    odooId: integer('odoo_id').notNull(),
    /** The field, as Odoo names it (its key in `data`). */
    field: text('field').notNull(),
    /** The value's SHA-256 (hex), as its reference in `data` names it. */
    sha256: text('sha256').notNull(),
    /** The piece within its value, from 0: the value is its pieces in order. */
    part: integer('part').notNull(),
    piece: text('piece').notNull(),
  },
  (t) => [primaryKey({ columns: [t.copyTable, t.odooId, t.field, t.sha256, t.part] })],
);
