/**
 * Where the schema cache keeps what it read for other processes: one row of `sync_odoo_schema`
 * per family (and layout) and configured context.
 */
import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { OdooContext } from '../clients/odoo/odoo-types.js';
import type { Db } from '../db/create-db.js';
import { syncOdooSchema } from '../db/schema/index.js';
import type { FamilySchema, SchemaStore } from './odoo-reads.js';

/**
 * Grows when what a schema holds or how its fields are chosen changes: rows saved by an earlier
 * version are then never read (they expire on their own TTL, and are written over).
 */
const SCHEMA_SHAPE = 2;

export function createDbSchemaStore(db: Db, configured: OdooContext = {}): SchemaStore {
  const context = createHash('sha256')
    .update(JSON.stringify(configured))
    .digest('hex')
    .slice(0, 16);
  const keyOf = (key: string) => `${key}:${context}:v${SCHEMA_SHAPE}`;
  return {
    async load(key) {
      const [row] = await db
        .select()
        .from(syncOdooSchema)
        .where(eq(syncOdooSchema.key, keyOf(key)));
      return row
        ? { schema: row.schema as FamilySchema, savedAtMs: row.savedAt.getTime() }
        : undefined;
    },
    async save(key, schema) {
      await db
        .insert(syncOdooSchema)
        .values({ key: keyOf(key), schema, savedAt: sql`now()` })
        .onConflictDoUpdate({
          target: syncOdooSchema.key,
          set: { schema, savedAt: sql`now()` },
        });
    },
  };
}
