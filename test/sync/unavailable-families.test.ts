/**
 * A family whose declaration changed since `migrate` stops no other: the others load and run;
 * it is known but unavailable — its jobs fail at once, not retried, naming it and saying what to
 * run; the API shows it with its reason; a warning at boot names it — and once `migrate` has run
 * it is copied, with no restart.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { applyLayouts } from '../../src/families/configured/apply-layouts.js';
import { loadFamilies } from '../../src/families/load-families.js';
import { buildApp, type App } from '../../src/http/app.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';

const declared = (contactsFilter: string) => `
families:
  - name: cylinders
    model: x_cylinder
    children:
      - { model: x_cylinder_valve, link: x_cylinder_id }
  - name: contacts
    model: res.partner
    table: contact
    api: { filter: [${contactsFilter}] }
`;

const REASON = 'family contacts was declared differently when migrate last ran: run migrate';

describe('a family whose declaration changed since migrate', () => {
  let dir: string;
  let migrated: Config;
  let changed: Config;
  let h: SyncHarness;
  let app: App;
  const boot = memoryLogger('warn');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-unavailable-'));
    writeFileSync(join(dir, 'migrated.yaml'), declared('is_company'));
    writeFileSync(join(dir, 'changed.yaml'), declared('is_company, parent_id'));
    migrated = testConfig({ SYNC_FAMILIES_FILE: join(dir, 'migrated.yaml') });
    changed = testConfig({ SYNC_FAMILIES_FILE: join(dir, 'changed.yaml') });
    h = await createSyncHarness({
      sandbox: { orders: 0, cylinders: 20, partners: 20 },
      jobAttempts: 3,
      loadFamilies: async (db, odoo) => {
        await applyLayouts(db.db, odoo, migrated.sync.families.configured);
        // The workers start with the changed file, before migrate has run with it.
        return loadFamilies(db.db, changed.sync.families, boot.logger);
      },
    });
    app = await buildApp({
      config: changed,
      logger: memoryLogger('warn').logger,
      db: h.db,
      queues: h.runtime.queues,
      families: h.runtime.sync.families,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const state = async () =>
    (await app.inject({ url: '/api/sync/state', headers: bearer('reader') })).json<{
      families: { family: string; available: boolean; unavailableReason: string | null }[];
    }>().families;

  it('lets the others load and run, and names it in a warning at boot', async () => {
    expect(h.runtime.sync.families.all.map((family) => family.name)).toEqual(['cylinders']);
    const warning = boot.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(warning).toEqual([
      expect.objectContaining({
        level: 40,
        family: 'contacts',
        code: 'FAMILY_NOT_MIGRATED',
        msg: expect.stringContaining(REASON),
      }),
    ]);
    await expect(
      h.run('sync-run', { family: 'cylinders', trigger: 'test' }),
    ).resolves.toMatchObject({ status: 'succeeded', counts: { created: 20 } });
  });

  it('fails its jobs at once, not retried, saying what to run', async () => {
    await expect(h.run('sync-run', { family: 'contacts', trigger: 'test' })).rejects.toThrow(
      `FAMILY_NOT_MIGRATED: ${REASON}`,
    );
    const resync = await h.add('resync-record', { family: 'contacts', odooId: 1, trigger: 'test' });
    await expect(h.wait(resync)).rejects.toThrow(`FAMILY_NOT_MIGRATED: ${REASON}`);
    const failed = (await h.runtime.queues.byName.sync.getJob(resync.id!))!;
    expect(failed.attemptsMade).toBe(1);
    expect(failed.opts.attempts).toBe(3);
  });

  it('shows it in the API with its reason, and refuses a run of it with 409', async () => {
    expect(await state()).toEqual([
      expect.objectContaining({ family: 'cylinders', available: true, unavailableReason: null }),
      expect.objectContaining({ family: 'contacts', available: false, unavailableReason: REASON }),
    ]);
    const run = await app.inject({
      method: 'POST',
      url: '/api/sync/run?family=contacts',
      headers: bearer('operator'),
    });
    expect(run.statusCode).toBe(409);
    expect(run.json()).toMatchObject({ error: 'FAMILY_NOT_MIGRATED', message: REASON });
  });

  it('is copied once migrate has run, without a restart', async () => {
    await applyLayouts(h.db.db, h.odoo, changed.sync.families.configured);
    await expect(h.run('sync-run', { family: 'contacts', trigger: 'test' })).resolves.toMatchObject(
      { status: 'succeeded' },
    );
    expect(h.runtime.sync.families.all.map((family) => family.name)).toEqual([
      'cylinders',
      'contacts',
    ]);
    expect(await state()).toEqual([
      expect.objectContaining({ family: 'cylinders', available: true }),
      expect.objectContaining({ family: 'contacts', available: true, unavailableReason: null }),
    ]);
    for (const family of h.runtime.sync.families.all)
      expect(await h.diffWithSandbox(family)).toEqual([]);
  });
});
