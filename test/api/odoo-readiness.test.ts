/**
 * The API never calls Odoo: its readiness says Odoo is down when a family's last run failed on
 * Odoo itself (a network failure, a timeout, refused credentials), read from the failure's code
 * as `sync_state` keeps it (`last_error_code`), never from its text.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApi } from '../../src/create-api.js';
import { createShutdown } from '../../src/lib/shutdown.js';
import { recordFailureWithoutLease } from '../../src/sync/sync-state.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

interface Ready {
  parts: Record<string, { status: string; error?: string }>;
}

describe("the API's readiness about Odoo", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.dispose();
  });

  /** The odoo part of /health/ready once the last run of `bcs` failed so. */
  const odooPartAfter = async (error: { code: string; message: string }) => {
    await db.sql!`insert into sync_state (key) values ('bcs') on conflict do nothing`;
    await recordFailureWithoutLease(db.db, 'bcs', error);
    const { logger } = memoryLogger('warn');
    const shutdown = createShutdown(logger, 10_000);
    try {
      const app = await createApi({
        config: testConfig({ REDIS_URL: inject('redisUrl') }),
        logger,
        db,
        shutdown,
      });
      const response = await app.inject({ url: '/health/ready', headers: bearer('operator') });
      return response.json<Ready>().parts.odoo;
    } finally {
      await shutdown.run('test');
    }
  };

  it('is down when the last run could not reach Odoo, by its code', async () => {
    const part = await odooPartAfter({ code: 'ODOO_NETWORK', message: 'connection refused' });
    expect(part).toMatchObject({
      status: 'down',
      error: 'last bcs sync run could not reach Odoo: ODOO_NETWORK: connection refused',
    });
  });

  it('is up when the last run failed for another reason, whatever its message says', async () => {
    const part = await odooPartAfter({
      code: 'SYNC_LEASE_LOST',
      message: 'ODOO_TIMEOUT: a message that names an Odoo code is no Odoo failure',
    });
    expect(part).toMatchObject({ status: 'up' });
  });
});
