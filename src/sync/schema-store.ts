/**
 * Where the schema cache keeps what it read for other processes: one row of
 * `sync_odoo_schema` per configured context.
 */
import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { OdooContext } from '../clients/odoo/odoo-types.js';
import type { Db } from '../db/create-db.js';
import { syncOdooSchema } from '../db/schema/index.js';
import type { SchemaStore, SyncSchema } from './odoo-reads.js';

export function createDbSchemaStore(db: Db, configured: OdooContext = {}): SchemaStore {
  const key = `dimagaz.bc:${createHash('sha256').update(JSON.stringify(configured)).digest('hex').slice(0, 16)}`;
  return {
    async load() {
      const [row] = await db.select().from(syncOdooSchema).where(eq(syncOdooSchema.key, key));
      return row
        ? { schema: row.schema as SyncSchema, savedAtMs: row.savedAt.getTime() }
        : undefined;
    },
    async save(schema) {
      await db
        .insert(syncOdooSchema)
        .values({ key, schema, savedAt: sql`now()` })
        .onConflictDoUpdate({
          target: syncOdooSchema.key,
          set: { schema, savedAt: sql`now()` },
        });
    },
  };
}
