/**
 * The sync CLI in a deployment with two sources (docs/sources.md): it loads every source's
 * families as the workers do, takes `--source` wherever it takes `--family`, runs another source's
 * family from that source's Odoo, and prints its status source by source.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { placeCodeTables } from '../../src/families/source-tables.js';
import { ACME_SANDBOX, acmeSourceEnv } from '../helpers/acme-source.js';
import { runSyncCli, syncCliEnv } from '../helpers/sync-cli.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe('the sync CLI with another source', () => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-cli-sources-'));
  beforeAll(async () => {
    db = await createTestDb();
    // What migrate makes of acme's schema.
    await placeCodeTables(db.db, 'acme', [bcsFamily]);
    sandbox = createOdooSandbox(ACME_SANDBOX);
    await sandbox.start();
    env = { ...syncCliEnv(db.url, sandbox), ...acmeSourceEnv(dir, sandbox) };
  });
  afterAll(async () => {
    await sandbox?.stop();
    await db?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runSyncCli(args, env);
  const acme = () => sandbox.db('acme_db').control;

  it("run --source acme copies acme's families alone, from acme's Odoo", async () => {
    sandbox.control.resetCalls();
    const result = await cli('run', '--source', 'acme');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^run acme\.bcs: succeeded/m);
    expect(result.stdout).not.toMatch(/^run bcs:/m);
    expect(result.stdout).toContain(`"created": ${acme().ids(BC_MODEL).length}`);
    // The default source's Odoo was not read.
    expect(sandbox.control.countCalls({ model: BC_MODEL })).toBe(0);
  }, 90_000);

  it('names a family by its key or by its name with --source; without either, every source', async () => {
    const reconcile = await cli('reconcile', '--source', 'acme', '--family', 'bcs', '--json');
    expect(reconcile.code, reconcile.stderr).toBe(0);
    expect(JSON.parse(reconcile.stdout)).toEqual([
      { family: 'acme.bcs', result: expect.objectContaining({ status: 'succeeded' }) as unknown },
    ]);
    const run = await cli('run');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^run bcs: succeeded/m);
    expect(run.stdout).toMatch(/^run acme\.bcs: succeeded/m);
  }, 90_000);

  it("status shows each source's Odoo, then its families, the default source first", async () => {
    const paused = await cli('pause', '--family', 'acme.bcs');
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/^schedule of acme\.bcs paused/m);
    const status = await cli('status');
    expect(status.code, status.stderr).toBe(0);
    const text = status.stdout;
    const at = (pattern: RegExp) => {
      const found = pattern.exec(text);
      expect(found, String(pattern)).not.toBeNull();
      return found!.index;
    };
    const defaultHeading = at(
      /^=== source default: Odoo http:\/\/127\.0\.0\.1:\d+, database main_db; schema public ===$/m,
    );
    const bcs = at(/^bcs \(dimagaz\.bc, dimagaz\.bc\.line\)\n {2}schedule: +active$/m);
    const acmeHeading = at(
      /^=== source acme: Odoo http:\/\/127\.0\.0\.1:\d+, database acme_db; schema acme ===\nodoo\n/m,
    );
    const acmeBcs = at(
      /^acme\.bcs \(dimagaz\.bc, dimagaz\.bc\.line\)\n {2}schedule: +paused since .* by cli$/m,
    );
    expect([defaultHeading, bcs, acmeHeading, acmeBcs]).toEqual(
      [defaultHeading, bcs, acmeHeading, acmeBcs].sort((a, b) => a - b),
    );
    expect(text).toMatch(/^Odoo calls: not paused$/m);

    const json = await cli('status', '--source', 'acme', '--json');
    expect(json.code, json.stderr).toBe(0);
    const data = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(data).toMatchObject({
      odoo: null,
      sources: [{ source: 'acme', schema: 'acme', odoo: expect.any(Object) as unknown }],
      families: [{ family: 'acme.bcs', source: 'acme', name: 'bcs', available: true }],
    });
  }, 90_000);

  it('refuses a source not copied here, or a family key of another source, as usage errors', async () => {
    const unknown = await cli('status', '--source', 'globex');
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(
      /--source: "globex" is not copied here \(copied: default, acme\)/,
    );
    const mismatch = await cli('pause', '--source', 'default', '--family', 'acme.bcs');
    expect(mismatch.code).toBe(64);
    expect(mismatch.stderr).toMatch(/--family: "acme\.bcs" is a family of acme, not of default/);
    const help = await cli('--help');
    expect(help.stdout).toMatch(/^ {2}--source S /m);
  }, 90_000);
});
