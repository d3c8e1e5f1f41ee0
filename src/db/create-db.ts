/**
 * Database factory: PostgreSQL through postgres.js in production and tests, PGlite (embedded
 * PostgreSQL in this process) only for the demo. Callers get one drizzle type either way.
 */
import { mkdirSync } from 'node:fs';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Logger } from '../lib/logger.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface DbHandle {
  readonly db: Db;
  readonly kind: 'postgres' | 'pglite';
  /** Runs `select 1`; rejects when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** postgres.js client for raw SQL; absent on PGlite. */
  readonly sql?: postgres.Sql;
  /** The connection string; absent on PGlite. */
  readonly url?: string;
}

export interface CreateDbOptions {
  url?: string;
  poolMax?: number;
  /** Directory for PGlite when there is no URL; `memory://` keeps it in memory. */
  pgliteDir?: string;
  /** Cancels any statement running longer (the API's bound on a query); none when unset. */
  statementTimeoutMs?: number;
  logger?: Logger;
}

export async function createDb(options: CreateDbOptions): Promise<DbHandle> {
  if (options.url) return createPostgresDb(options.url, options);
  if (options.pgliteDir) return createPgliteDb(options.pgliteDir);
  throw new Error('createDb needs a PostgreSQL URL or a PGlite directory');
}

function createPostgresDb(url: string, options: CreateDbOptions): DbHandle {
  const { logger, statementTimeoutMs } = options;
  const sql = postgres(url, {
    max: options.poolMax ?? 10,
    onnotice: (notice) => logger?.debug({ notice: notice.message }, 'postgres notice'),
    connection: {
      application_name: 'erp-bridge',
      ...(statementTimeoutMs === undefined ? {} : { statement_timeout: statementTimeoutMs }),
    },
  });
  const db = drizzlePostgres(sql, { schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    sql,
    url,
    async ping() {
      await sql`select 1`;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

async function createPgliteDb(dir: string): Promise<DbHandle> {
  // Imported lazily: production processes never load the embedded engine.
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
  ]);
  if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    async ping() {
      await client.query('select 1');
    },
    async close() {
      await client.close();
    },
  };
}
