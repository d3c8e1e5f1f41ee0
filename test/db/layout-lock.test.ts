/**
 * `migrate` reads Odoo's schema of a family under its advisory lock, not before: two migrators
 * never plan one family from two readings of Odoo (the second would lay out what the first read,
 * over what the first created).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OdooFieldDescription } from '../../src/clients/odoo/odoo-types.js';
import { applyLayouts } from '../../src/families/configured/apply-layouts.js';
import { testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const LAYOUT_LOCK_KEY = 4_242_001_338;
const FIELDS: Record<string, OdooFieldDescription> = {
  id: { type: 'integer', store: true },
  write_date: { type: 'datetime', store: true },
  x_name: { type: 'char', store: true },
};

describe("migrate's lock", () => {
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

  it('is held before Odoo is asked for the schema', async () => {
    const { configured } = testConfig({ SYNC_FAMILIES_FILE: join(dir, 'families.yaml') }).sync
      .families;
    const other = postgres(db.url, { max: 2, onnotice: () => undefined });
    try {
      // Another migrator holds the lock.
      const holder = await other.reserve();
      await holder`select pg_advisory_lock(${LAYOUT_LOCK_KEY})`;
      let asked = 0;
      let askedWhileHeld = false;
      let held = true;
      const migrating = applyLayouts(
        db.db,
        {
          fieldsGet: () => {
            asked += 1;
            askedWhileHeld ||= held;
            return Promise.resolve(FIELDS);
          },
          canRead: () => Promise.resolve(true),
        },
        configured,
      );
      // The migrator waits on the lock, as PostgreSQL shows.
      await vi.waitFor(
        async () => {
          const [row] = await other<[{ waiting: number }]>`
            select count(*)::int as waiting from pg_locks
            where locktype = 'advisory' and not granted`;
          expect(row.waiting).toBe(1);
        },
        { timeout: 10_000, interval: 20 },
      );
      expect(asked).toBe(0);
      held = false;
      await holder`select pg_advisory_unlock(${LAYOUT_LOCK_KEY})`;
      holder.release();
      const [applied] = await migrating;
      expect(applied).toMatchObject({ family: 'gadgets', version: 1 });
      expect(asked).toBe(1);
      expect(askedWhileHeld).toBe(false);
    } finally {
      await other.end();
    }
  });
});
