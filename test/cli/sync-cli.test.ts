/** `npm run sync -- …` as an operator runs it: a child process against real services. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { runSyncCli, syncCliEnv } from '../helpers/sync-cli.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe('the sync CLI', () => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDb();
    sandbox = createOdooSandbox({ orders: 40, linesPerOrder: 3, loginCooldown: false });
    await sandbox.start();
    env = syncCliEnv(db.url, sandbox);
  });
  afterAll(async () => {
    await sandbox.stop();
    await db.dispose();
  });

  const cli = (args: string[], extra: Record<string, string> = {}) =>
    runSyncCli(args, { ...env, ...extra });

  it('run: syncs, prints a summary and exits 0; status then shows the run', async () => {
    const result = await cli(['run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^run bcs: succeeded/m);
    expect(result.stdout).toMatch(/"created": 40/);
    const status = await cli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^bcs \(dimagaz\.bc, dimagaz\.bc\.line\)$/m);
    expect(status.stdout).toMatch(/watermark: +dimagaz\.bc \d{4}-\d{2}-\d{2}T/);
    expect(status.stdout).toMatch(/#1 sync succeeded \(cli\)/);
    expect(status.stdout).toMatch(/^Odoo calls: not paused$/m);
    // The default source alone: no source heading.
    expect(status.stdout).not.toContain('=== source');
  }, 90_000);

  it('resync <id> re-reads one BC; reconcile runs', async () => {
    sandbox.control.write('dimagaz.bc', 5, { origin: 'fixed by hand' });
    const resync = await cli(['resync', '5']);
    expect(resync.code, resync.stderr).toBe(0);
    expect(resync.stdout).toMatch(/^resync bcs: updated/m);
    const reconcile = await cli(['reconcile', '--family', 'bcs', '--json']);
    expect(reconcile.code, reconcile.stderr).toBe(0);
    expect(JSON.parse(reconcile.stdout)).toEqual([
      { family: 'bcs', result: expect.objectContaining({ status: 'succeeded', archived: 0 }) },
    ]);
  }, 90_000);

  it('pause and resume the schedule; run --full re-reads every BC', async () => {
    const paused = await cli(['pause']);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/^schedule of bcs paused/m);
    expect((await cli(['status'])).stdout).toMatch(/^ +schedule: +paused since .* by cli$/m);
    const full = await cli(['run', '--full', '--json']);
    expect(full.code, full.stderr).toBe(0);
    expect(JSON.parse(full.stdout)).toEqual([
      {
        family: 'bcs',
        result: expect.objectContaining({
          status: 'succeeded',
          counts: expect.objectContaining({ recordsSeen: 40, created: 0 }),
        }),
      },
    ]);
    expect((await cli(['resume'])).stdout).toMatch(/^schedule of bcs resumed/m);
    expect((await cli(['status'])).stdout).toMatch(/^ +schedule: +active$/m);
    expect((await cli(['pause', '--full'])).code).toBe(64);
  }, 90_000);

  it('exits 1 with the reason when the run fails, 64 on a usage error, 0 for --help', async () => {
    const failed = await cli(['run'], { ODOO_PASSWORD: 'wrong-password' });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/run bcs failed: .*ODOO_AUTH/);
    expect(failed.stderr + failed.stdout).not.toContain('wrong-password');
    expect((await cli(['explode'])).code).toBe(64);
    expect((await cli(['resync', 'abc'])).code).toBe(64);
    const unknown = await cli(['run', '--family', 'invoices']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/--family: "invoices" is not copied here \(copied: bcs\)/);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: npm run sync -- <command>/);
  }, 90_000);

  it('status shows a family waiting for migrate with why; a job asked for it exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-cli-'));
    try {
      writeFileSync(
        join(dir, 'families.yaml'),
        'families:\n  - name: tags\n    model: res.partner.category\n',
      );
      const waiting = { SYNC_FAMILIES: 'bcs,tags', SYNC_FAMILIES_FILE: join(dir, 'families.yaml') };
      const status = await cli(['status'], waiting);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/^bcs \(dimagaz\.bc, dimagaz\.bc\.line\)$/m);
      expect(status.stdout).toMatch(/^tags \(res\.partner\.category\)$/m);
      expect(status.stdout).toMatch(
        /^ +unavailable: +family tags has no tables yet: run migrate \(code FAMILY_NOT_MIGRATED\)/m,
      );
      const run = await cli(['run', '--family', 'tags'], waiting);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^family tags has no tables yet: run migrate/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
