/**
 * `migrate`'s lock on a family's layout: Odoo's schema is read before the lock is taken, never
 * while a transaction waits on Odoo; a migrator that finds a layout applied by another since its
 * reading began reads Odoo again before it plans (two migrators never plan one family from two
 * readings over each other's tables); and the wait for the lock, and the migrations' own, ends at
 * a deadline with a retryable LOCK_TIMEOUT.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OdooFieldDescription } from '../../src/clients/odoo/odoo-types.js';
import { runMigrations } from '../../src/db/migrate.js';
import { applyLayouts } from '../../src/families/configured/apply-layouts.js';
import { planLayout } from '../../src/families/configured/layout.js';
import { testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const LAYOUT_LOCK_KEY = 4_242_001_338;
const MIGRATION_LOCK_KEY = 4_242_001_337;
const FIELDS: Record<string, OdooFieldDescription> = {
  id: { type: 'integer', store: true },
  write_date: { type: 'datetime', store: true },
  x_name: { type: 'char', store: true },
};

/** Resolves once PostgreSQL shows `count` sessions waiting for an advisory lock. */
async function waitingForLock(sql: postgres.Sql, count: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const [row] = await sql<[{ waiting: number }]>`
        select count(*)::int as waiting from pg_locks
        where locktype = 'advisory' and not granted`;
      expect(row.waiting).toBe(count);
    },
    { timeout: 10_000, interval: 20 },
  );
}

describe("migrate's locks", () => {
  let db: TestDb;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDb();
    dir = mkdtempSync(join(tmpdir(), `erp-bridge-lock-${randomBytes(3).toString('hex')}-`));
    writeFileSync(
      join(dir, 'families.yaml'),
      'families:\n  - name: gadgets\n    model: x_gadget\n',
    );
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.dispose();
  });

  const configured = () =>
    testConfig({ SYNC_FAMILIES_FILE: join(dir, 'families.yaml') }).sync.families.configured;

  it('are taken after Odoo is read; a layout another applied meanwhile makes it read Odoo again', async () => {
    const other = postgres(db.url, { max: 2, onnotice: () => undefined });
    try {
      // Another migrator holds the lock.
      const holder = await other.reserve();
      await holder`select pg_advisory_lock(${LAYOUT_LOCK_KEY})`;
      let asked = 0;
      const migrating = applyLayouts(
        db.db,
        {
          fieldsGet: () => {
            asked += 1;
            return Promise.resolve(FIELDS);
          },
          canRead: () => Promise.resolve(true),
        },
        configured(),
      );
      // Odoo read, no transaction open meanwhile; then the migrator waits on the lock.
      await waitingForLock(other, 1);
      expect(asked).toBe(1);
      // The other migrator applies the family's layout before it lets go.
      const [spec] = configured();
      const { layout } = planLayout(
        spec!,
        new Map([['x_gadget', { fields: FIELDS, readable: true }]]),
        undefined,
        new Map(),
      );
      await holder`
        insert into sync_family_layout (family, spec_hash, version, layout)
        values (${'gadgets'}, ${layout.specHash}, ${layout.version}, ${JSON.stringify(layout)}::jsonb)`;
      await holder`select pg_advisory_unlock(${LAYOUT_LOCK_KEY})`;
      holder.release();
      const [applied] = await migrating;
      expect(applied).toMatchObject({ family: 'gadgets', version: 1 });
      // Read again: the plan is made from a reading newer than the layout it builds on.
      expect(asked).toBe(2);
    } finally {
      await other.end();
    }
  });

  it('of a layout is waited for at most lockWaitMs, then LOCK_TIMEOUT (retryable)', async () => {
    const other = postgres(db.url, { max: 1, onnotice: () => undefined });
    try {
      const holder = await other.reserve();
      await holder`select pg_advisory_lock(${LAYOUT_LOCK_KEY})`;
      const failure = await applyLayouts(
        db.db,
        { fieldsGet: () => Promise.resolve(FIELDS), canRead: () => Promise.resolve(true) },
        configured(),
        { lockWaitMs: 300 },
      ).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: 'LOCK_TIMEOUT', retryable: true });
      await holder`select pg_advisory_unlock(${LAYOUT_LOCK_KEY})`;
      holder.release();
    } finally {
      await other.end();
    }
  });

  it('of the migrations is waited for at most lockWaitMs, then LOCK_TIMEOUT (retryable)', async () => {
    const blank = await createTestDb({ migrated: false });
    const other = postgres(blank.url, { max: 1, onnotice: () => undefined });
    try {
      const holder = await other.reserve();
      await holder`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
      const failure = await runMigrations(blank, undefined, { lockWaitMs: 300 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: 'LOCK_TIMEOUT', retryable: true });
      const [row] = await holder<[{ tables: number }]>`
        select count(*)::int as tables from information_schema.tables
        where table_schema = 'public'`;
      expect(row.tables).toBe(0);
      holder.release();
    } finally {
      await other.end();
      await blank.dispose();
    }
  });
});
