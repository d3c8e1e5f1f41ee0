/**
 * A deployment whose Odoo databases are all named in its sources file, and none by ODOO_*
 * (docs/sources.md): `migrate` and the worker start without ODOO_*, the worker copies each source
 * into its schema, and the API — which holds no Odoo secret — serves those sources' records and no
 * default source's.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { syncLog } from '../../src/db/schema/index.js';
import { BC_MODEL, bcsFamily } from '../../src/families/bcs/family.js';
import { familyInSource } from '../../src/families/source-family.js';
import type { App } from '../../src/http/app.js';
import { createApi } from '../../src/create-api.js';
import { createShutdown, type Shutdown } from '../../src/lib/shutdown.js';
import { diffCopyWithSandbox } from '../helpers/copy-diff.js';
import { commandFile } from '../helpers/commands.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { startWorkerProcess, workerEnv, type WorkerProcess } from '../helpers/worker-process.js';

const FAMILIES = ['acme.bcs', 'beta.bcs'];

describe('a deployment of sources alone, no ODOO_*', () => {
  let odoo: OdooSandbox;
  let db: TestDb;
  let dir: string;
  let worker: WorkerProcess | undefined;
  let app: App;
  let shutdown: Shutdown;
  const prefix = `only-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    odoo = createOdooSandbox({
      databases: {
        acme_db: { orders: 12, linesPerOrder: 2, seed: 21 },
        beta_db: { orders: 8, linesPerOrder: 3, seed: 22 },
      },
    });
    await odoo.start();
    db = await createTestDb();
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-sources-only-'));
    const file = join(dir, 'sources.yaml');
    writeFileSync(
      file,
      [
        'sources:',
        ...['acme', 'beta'].map(
          (name) =>
            `  - { name: ${name}, odoo: { url: "${odoo.url}", database: ${name}_db, username: ${odoo.username}, password: { env: ODOO_SECRET } } }`,
        ),
        '',
      ].join('\n'),
    );
    // A worker's environment without any ODOO_* key.
    const env = Object.fromEntries(
      Object.entries(
        workerEnv(
          { databaseUrl: db.url, prefix, odoo },
          { SYNC_SOURCES_FILE: file, ODOO_SECRET: odoo.password },
        ),
      ).filter(([name]) => !name.startsWith('ODOO_')),
    );
    expect(Object.keys(env).filter((name) => name.startsWith('ODOO_'))).toEqual([]);
    const migrate = spawn(process.execPath, [commandFile('src/cli/migrate.ts')], {
      env: { ...env, ODOO_SECRET: odoo.password },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const [code] = (await once(migrate, 'exit')) as [number | null];
    expect(code).toBe(0);
    // Every schedule fires at the worker's start: each source's first copy.
    worker = await startWorkerProcess({ ...env, ODOO_SECRET: odoo.password });
    const { logger } = memoryLogger('warn');
    shutdown = createShutdown(logger, 10_000);
    app = await createApi({
      config: testConfig({ SYNC_SOURCES_FILE: file, QUEUE_PREFIX: prefix }),
      logger,
      db,
      shutdown,
    });
  }, 120_000);
  afterAll(async () => {
    const child = worker?.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await shutdown?.run('test');
    await db?.dispose();
    await odoo?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('copies each source, and the API serves theirs and no default source', async () => {
    expect(worker!.started).toMatchObject({ families: FAMILIES });
    expect(worker!.started).not.toHaveProperty('odoo');
    // Until each family's first run succeeded.
    for (;;) {
      const done = await db.db
        .select({ family: syncLog.family })
        .from(syncLog)
        .where(eq(syncLog.status, 'succeeded'));
      if (FAMILIES.every((family) => done.some((row) => row.family === family))) break;
      await db.db.execute(sql`select pg_sleep(0.2)`);
    }
    for (const name of ['acme', 'beta'])
      expect(
        await diffCopyWithSandbox(
          db.db,
          odoo.db(`${name}_db`).control,
          familyInSource(bcsFamily, { name, schema: name }),
        ),
      ).toEqual([]);
    const list = await app.inject({
      url: `/api/sources/acme/models/${BC_MODEL}/records?limit=100`,
      headers: bearer('reader'),
    });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json<{ items: unknown[] }>().items).toHaveLength(12);
    // No default source: its routes are no one's.
    const none = await app.inject({
      url: `/api/models/${BC_MODEL}/records`,
      headers: bearer('reader'),
    });
    expect(none.statusCode).toBe(404);
  });
});
