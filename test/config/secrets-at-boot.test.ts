/**
 * A URL's credentials never reach the worker's start line: it names the Odoo it syncs from, and
 * ODOO_URL may carry a user and password (`http://sync:secret@odoo:8069`).
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { placeCodeTables } from '../../src/families/source-tables.js';
import { setPaused } from '../../src/sync/sync-state.js';
import { commandBaseEnv } from '../helpers/commands.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import {
  createProducer,
  startWorkerProcess,
  type WorkerProcess,
} from '../helpers/worker-process.js';

describe('secrets at boot', () => {
  let db: TestDb;
  const prefix = `boot-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-boot-'));
  // A second Odoo declared beside ODOO_*'s, its password by reference.
  const sources = join(dir, 'sources.yaml');
  writeFileSync(
    sources,
    `sources:\n  - name: acme\n    odoo: { url: "http://odoo.invalid:8069", database: acme, username: sync, password: { env: ACME_ODOO_PASSWORD } }\n`,
  );
  beforeAll(async () => {
    db = await createTestDb();
    // The scheduler fires at start; paused, no run calls this Odoo, which does not exist.
    await setPaused(db.db, bcsFamily.name, 'test');
  });
  afterAll(async () => {
    const producer = await createProducer(prefix, 'sync');
    await producer.close();
    await db.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A worker of this file's database and queues, with acme declared and `env` besides. */
  const startWorker = (env: Record<string, string>) =>
    startWorkerProcess({
      ...commandBaseEnv(),
      DATABASE_URL: db.url,
      DATABASE_POOL_MAX: '2',
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: prefix,
      ODOO_DATABASE: 'prod',
      ODOO_USERNAME: 'sync',
      SYNC_SOURCES_FILE: sources,
      ACME_ODOO_PASSWORD: 'acme-s3cret-pw',
      SYNC_EVERY: '1h',
      WORKER_HTTP_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      ...env,
    });
  const stop = async (worker: WorkerProcess) => {
    const exited = once(worker.child, 'exit');
    worker.child.kill('SIGTERM');
    await exited;
  };

  it("the worker's start line names ODOO_URL and a declared source's Odoo without their passwords", async () => {
    const worker = await startWorker({
      ODOO_URL: 'http://sync:url-s3cret-pw@odoo.invalid:8069',
      ODOO_PASSWORD: 'odoo-s3cret-pw',
    });
    try {
      expect(worker.started).toMatchObject({
        odoo: 'http://[redacted]@odoo.invalid:8069',
        sources: { acme: 'http://odoo.invalid:8069' },
      });
      expect(worker.output.join('\n')).not.toMatch(/s3cret/);
    } finally {
      await stop(worker);
    }
    expect(worker.output.join('\n')).not.toMatch(/s3cret/);
    // acme's tables were never made: its family waits for migrate, said at start.
    expect(worker.output.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({
        family: 'acme.bcs',
        code: 'FAMILY_NOT_MIGRATED',
        msg: expect.stringMatching(
          /^acme\.bcs: schema acme has no table "acme"\."scrap_dimagaz_bc"/,
        ),
      }),
    );
  });

  it("starts a worker of one source with that source's credentials alone: no ODOO_PASSWORD, no other's", async () => {
    // Acme's tables made, its schedule paused: its Odoo, which does not exist, is never called.
    await placeCodeTables(db.db, 'acme', [bcsFamily]);
    await setPaused(db.db, 'acme.bcs', 'test');
    const worker = await startWorker({
      ODOO_URL: 'http://odoo.invalid:8069',
      SYNC_SOURCES: 'acme',
    });
    try {
      expect(worker.started).toMatchObject({
        families: ['acme.bcs'],
        sources: { acme: 'http://odoo.invalid:8069' },
      });
      // It names no default Odoo, and asked it nothing (no transport chosen, no key checked).
      expect(worker.started).not.toHaveProperty('odoo');
      expect(worker.started).not.toHaveProperty('odooTransport');
      expect(worker.output.join('\n')).not.toMatch(/s3cret/);
    } finally {
      await stop(worker);
    }
  });
});
