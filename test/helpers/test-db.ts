/**
 * A database of this test file's own, cloned from the migrated template, dropped on dispose.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/create-db.js';

export interface TestDb extends DbHandle {
  readonly url: string;
  readonly name: string;
  dispose(): Promise<void>;
}

export function databaseUrl(name: string): string {
  const url = new URL(inject('postgresAdminUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(inject('postgresAdminUrl'), { max: 1, onnotice: () => undefined });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

/** Creates an empty database (`migrated: false`) or a migrated clone of the template. */
export async function createTestDb(
  options: { migrated?: boolean; poolMax?: number } = {},
): Promise<TestDb> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const template = options.migrated === false ? 'template0' : inject('templateDatabase');
  await admin((sql) => sql.unsafe(`create database ${name} template ${template}`));
  const url = databaseUrl(name);
  const handle = await createDb({ url, poolMax: options.poolMax ?? 5 });
  // Once: two harnesses of one test may share the database, and each disposes it.
  let disposed: Promise<void> | undefined;
  return {
    ...handle,
    url,
    name,
    dispose() {
      disposed ??= (async () => {
        await handle.close();
        await admin((sql) => sql.unsafe(`drop database if exists ${name} with (force)`));
      })();
      return disposed;
    },
  };
}
