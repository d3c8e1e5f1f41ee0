/**
 * A families file of the test's own (`SYNC_FAMILIES_FILE`), the configuration that reads it, and
 * the harness's loader that migrates its families first, as an operator runs `migrate` before the
 * workers start.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OdooClient } from '../../src/clients/odoo/index.js';
import type { Config } from '../../src/config/config.js';
import type { Db } from '../../src/db/create-db.js';
import { applyLayouts, type AppliedLayout } from '../../src/families/configured/apply-layouts.js';
import { loadFamilies } from '../../src/families/load-families.js';
import type { Families } from '../../src/families/registry.js';
import { testConfig } from './test-app.js';
import type { TestDb } from './test-db.js';

export interface FamiliesFile {
  readonly config: Config;
  /** `migrate` of the file's families. */
  migrate(db: Db, odoo: OdooClient): Promise<AppliedLayout[]>;
  /** For `createSyncHarness`: the file's families migrated, then loaded as a worker loads them. */
  loadFamilies(db: TestDb, odoo: OdooClient): Promise<Families>;
  /** What the last `loadFamilies` migrated. */
  readonly applied: readonly AppliedLayout[];
  /** Removes the file. */
  remove(): void;
}

/** Writes `text` as the families file; `env` adds keys (SYNC_FAMILIES …) to its configuration. */
export function writeFamiliesFile(text: string, env: Record<string, string> = {}): FamiliesFile {
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-families-'));
  const path = join(dir, 'families.yaml');
  writeFileSync(path, text);
  const config = testConfig({ SYNC_FAMILIES_FILE: path, ...env });
  const migrate = (db: Db, odoo: OdooClient) =>
    applyLayouts(db, odoo, config.sync.families.configured);
  let applied: AppliedLayout[] = [];
  return {
    config,
    migrate,
    async loadFamilies(db, odoo) {
      applied = await migrate(db.db, odoo);
      return loadFamilies(db.db, config.sync.families);
    },
    get applied() {
      return applied;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
