/**
 * A second source for the tests of the operator's surfaces (the sync CLI, the API's sync
 * controls): `acme`, a database of the Odoo sandbox copied into schema `acme` beside the default
 * source's, as a deployment declares it in SYNC_SOURCES_FILE (docs/sources.md).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OdooSandbox, OdooSandboxOptions } from '../../dev/sandbox/odoo-sandbox.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { createFamilies } from '../../src/families/registry.js';
import { familyInSource } from '../../src/families/source-family.js';
import { placeCodeTables } from '../../src/families/source-tables.js';
import type { SyncHarnessOptions } from './sync-harness.js';

/** The BC family as source acme copies it: `acme.bcs`, its tables in schema `acme`. */
export const acmeBcs = familyInSource(bcsFamily, { name: 'acme', schema: 'acme' });

/**
 * A harness's acme beside the default source: acme's database of the sandbox (`acme_db`) and the
 * BC family of each, acme's tables placed as `migrate` places them.
 */
export const WITH_ACME = {
  sources: [{ name: 'acme', database: 'acme_db' }],
  loadFamilies: async (db) => {
    await placeCodeTables(db.db, 'acme', [bcsFamily]);
    return createFamilies([bcsFamily, acmeBcs]);
  },
} satisfies SyncHarnessOptions;

/** The sandbox's databases: the default source's (main_db), and acme's with fewer BCs. */
export const ACME_SANDBOX: OdooSandboxOptions = {
  databases: {
    main_db: { orders: 12, linesPerOrder: 2, seed: 5 },
    acme_db: { orders: 8, linesPerOrder: 2, seed: 6 },
  },
  loginCooldown: false,
};

/**
 * Writes, in `dir`, the SYNC_SOURCES_FILE that declares acme on `sandbox`'s acme_db; its password
 * is read from ACME_ODOO_PASSWORD (the sandbox's), which the returned environment sets.
 */
export function acmeSourceEnv(dir: string, sandbox: OdooSandbox): Record<string, string> {
  const file = join(dir, 'sources.yaml');
  writeFileSync(
    file,
    [
      'sources:',
      '  - name: acme',
      `    odoo: { url: "${sandbox.url}", database: acme_db, username: ${sandbox.username}, password: { env: ACME_ODOO_PASSWORD } }`,
      '',
    ].join('\n'),
  );
  return { SYNC_SOURCES_FILE: file, ACME_ODOO_PASSWORD: sandbox.password };
}
