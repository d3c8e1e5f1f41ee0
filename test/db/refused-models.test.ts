/**
 * Declarations `migrate` must refuse, each alone, naming why, while it applies the others:
 *
 * - a model Odoo does not have (a typo, a module not installed): Odoo answers `fields_get` with
 *   fault 2 `Object x doesn't exist` (XML-RPC, JSON-RPC) or a 404 (JSON-2), as a real Odoo 17
 *   does; `migrate` used to stop at that answer and apply nothing;
 * - a model Odoo keeps no stamps of (`mail.followers`, `_log_access` off): `migrate` used to
 *   create its tables, and every run of the family then failed on its scan by `write_date`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayoutRefusedError } from '../../src/families/configured/apply-layouts.js';
import { PROTOCOLS, startSandbox, type SandboxHarness } from '../odoo/sandbox-harness.js';
import { writeFamiliesFile, type FamiliesFile } from '../helpers/families-file.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const FILE = `
families:
  - name: typo
    model: x_cylindre
  - name: followers
    model: mail.followers
  - name: cylinders
    model: x_cylinder
`;

describe('migrate of families Odoo cannot give a copy of', () => {
  let sandbox: SandboxHarness;
  let files: FamiliesFile;
  beforeAll(async () => {
    sandbox = await startSandbox({
      cylinders: 3,
      realSchemas: { models: ['mail.followers'], records: {}, linesPerMove: 0 },
    });
    files = writeFamiliesFile(FILE);
  });
  afterAll(async () => {
    files.remove();
    await sandbox.close();
  });

  it.each(PROTOCOLS)('over %s refuses each alone, naming why', async (protocol) => {
    const db: TestDb = await createTestDb();
    try {
      const refused = await files
        .migrate(db.db, sandbox.client(protocol, { retries: 0 }))
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(LayoutRefusedError);
      const { problems, applied } = refused as LayoutRefusedError;
      expect(problems).toEqual([
        'typo: x_cylindre: Odoo has no such model, or the sync user cannot read it',
        'followers: mail.followers: has no write_date (Odoo keeps no stamps of it: _log_access is off), so no run could see its changes',
      ]);
      expect(applied.map((layout) => layout.family)).toEqual(['cylinders']);
    } finally {
      await db.dispose();
    }
  });
});
