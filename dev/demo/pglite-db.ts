/**
 * The demo's embedded database: PGlite (PostgreSQL in this process) behind the same handle as
 * `createDb`, so the demo runs the product's code unchanged. One process, one connection, no lock
 * on its data directory: fine for the demo, never for production or for the tests.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import type { Db, DbHandle } from '../../src/db/create-db.js';
import { FEED_CHANNEL, type FeedListen } from '../../src/feed/feed-signal.js';
import { findMigrationsFolder } from '../../src/db/migrate.js';
import * as schema from '../../src/db/schema/index.js';

export interface PgliteDbHandle extends DbHandle {
  /** Applies the committed migrations; no lock needed, nothing else can reach this database. */
  migrate(): Promise<void>;
  /** The change feed's notifications: PGlite delivers them in this process after each commit. */
  readonly feedListen: FeedListen;
}

export async function createPgliteDb(dir: string): Promise<PgliteDbHandle> {
  mkdirSync(dir, { recursive: true });
  // The migrations create pg_trgm (the list's text search); PGlite ships it as a contrib module.
  const client = await PGlite.create(dir, { extensions: { pg_trgm } });
  const db = drizzle(client, { schema });
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    async ping() {
      await client.query('select 1');
    },
    async close() {
      await client.close();
    },
    async migrate() {
      await migrate(db, { migrationsFolder: findMigrationsFolder() });
    },
    async feedListen(onNotify) {
      const unlisten = await client.listen(FEED_CHANNEL, () => onNotify());
      return () => unlisten();
    },
  };
}
