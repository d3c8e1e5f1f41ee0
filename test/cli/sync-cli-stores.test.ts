/**
 * Every command of the sync CLI ends, with the status the README promises, whichever store holds
 * the queues: Redis, or PostgreSQL alone (QUEUE_BACKEND=postgres, no REDIS_URL). A cron or a script
 * waits on it: a command that prints its result and stays up (a connection left open) is a hang.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { Redis } from 'ioredis';
import { postgresQueues, redisQueues, runQueueMigrations } from '../../src/stores/queue-store.js';
import { runSyncCli, syncCliEnv } from '../helpers/sync-cli.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

describe.each(['redis', 'postgres'] as const)('the sync CLI with its queues on %s', (store) => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDb();
    sandbox = createOdooSandbox({ orders: 12, linesPerOrder: 2, loginCooldown: false });
    await sandbox.start();
    env = syncCliEnv(db.url, sandbox);
    if (store === 'postgres') {
      // As `migrate` leaves the database with QUEUE_BACKEND=postgres: BullMQ's tables too.
      await runQueueMigrations(db.url);
      const { REDIS_URL: _none, ...withoutRedis } = env;
      env = { ...withoutRedis, QUEUE_BACKEND: 'postgres' };
    }
  });
  afterAll(async () => {
    await sandbox.stop();
    await db.dispose();
  });

  /** The command's exit code, and its output when it is not the one expected. */
  const exits = async (args: string[], extra: Record<string, string> = {}) => {
    const result = await runSyncCli(args, { ...env, ...extra });
    return { code: result.code, output: `${result.stdout}\n${result.stderr}` };
  };

  it('run, resync, reconcile, verify, status, pause and resume exit 0', async () => {
    for (const args of [
      ['run'],
      ['resync', '3'],
      ['reconcile'],
      ['verify', '--all'],
      ['status'],
      ['pause'],
      ['resume'],
      ['run', '--full', '--json'],
    ]) {
      const { code, output } = await exits(args);
      expect({ args, code }, output).toEqual({ args, code: 0 });
    }
  }, 240_000);

  it("status names a queue an operator paused (bull-board's pause) until it is resumed", async () => {
    const backend =
      store === 'redis'
        ? redisQueues(new Redis(env.REDIS_URL!), env.QUEUE_PREFIX!)
        : postgresQueues({
            url: db.url,
            listeners: 0,
            applicationName: 'cli-test',
            onError: () => undefined,
          });
    const pages = backend.queue('sync-page');
    try {
      await pages.pause();
      const paused = await runSyncCli(['status', '--json'], env);
      expect(paused.code, paused.stderr).toBe(0);
      expect(JSON.parse(paused.stdout)).toMatchObject({
        sources: [{ source: 'default', pausedQueues: ['sync-page'] }],
      });
      expect((await runSyncCli(['status'], env)).stdout).toMatch(
        /^Queues paused: sync-page \(BullMQ's pause, bull-board's button: their jobs wait, and no worker takes one, until resumed\)$/m,
      );
      await pages.resume();
      const resumed = await runSyncCli(['status', '--json'], env);
      expect(JSON.parse(resumed.stdout)).toMatchObject({
        sources: [{ source: 'default', pausedQueues: [] }],
      });
    } finally {
      await pages.close();
      if (backend.kind === 'redis') await backend.connection.quit();
      await backend.close();
    }
  }, 120_000);

  it('a failed run exits 1, a run skipped for a lease held elsewhere 2', async () => {
    const failed = await exits(['run'], { ODOO_PASSWORD: 'wrong-password' });
    expect(failed.code, failed.output).toBe(1);
    await db.db.execute(
      sql`update sync_state set is_syncing = true, lease_owner = 'another-worker',
              lease_expires_at = now() + interval '1 hour' where key = 'bcs'`,
    );
    try {
      const skipped = await exits(['run']);
      expect(skipped.code, skipped.output).toBe(2);
    } finally {
      await db.db.execute(
        sql`update sync_state set is_syncing = false, lease_owner = null,
                lease_expires_at = null where key = 'bcs'`,
      );
    }
  }, 120_000);
});
