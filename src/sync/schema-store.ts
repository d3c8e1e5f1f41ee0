/**
 * Where the schema cache keeps what it read for other processes: one row of `sync_odoo_schema`
 * per family (and layout) and configured context; and where a run keeps the schema its pages
 * read with.
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
const SCHEMA_SHAPE = 3;

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

/**
 * A run's schema is kept once, under its digest: every page of the run reads with it, and a
 * page job carries the digest, not the field lists (kilobytes for a wide model, times thousands
 * of pages in Redis). Runs with the same schema share one row; rows no run has kept for
 * `RUN_SCHEMA_KEPT_DAYS` go. Their keys start with `#`, a family's with a letter.
 */
const RUN_SCHEMA_PREFIX = '#run:';
const RUN_SCHEMA_KEPT_DAYS = 30;

/** Keeps a run's schema; returns its key (64 hex digits), for the run's page jobs. */
export async function keepRunSchema(db: Db, schema: FamilySchema): Promise<string> {
  const digest = createHash('sha256').update(JSON.stringify(schema)).digest('hex');
  const key = `${RUN_SCHEMA_PREFIX}${digest}`;
  await db
    .insert(syncOdooSchema)
    .values({ key, schema, savedAt: sql`now()` })
    .onConflictDoUpdate({ target: syncOdooSchema.key, set: { savedAt: sql`now()` } });
  await db.execute(sql`
    delete from sync_odoo_schema
    where starts_with(key, ${RUN_SCHEMA_PREFIX})
      and saved_at < now() - make_interval(days => ${RUN_SCHEMA_KEPT_DAYS})`);
  return digest;
}

/** A run's schema by the key `keepRunSchema` gave; undefined when it is no longer kept. */
export async function readRunSchema(db: Db, digest: string): Promise<FamilySchema | undefined> {
  const [row] = await db
    .select({ schema: syncOdooSchema.schema })
    .from(syncOdooSchema)
    .where(eq(syncOdooSchema.key, `${RUN_SCHEMA_PREFIX}${digest}`));
  return row?.schema as FamilySchema | undefined;
}
