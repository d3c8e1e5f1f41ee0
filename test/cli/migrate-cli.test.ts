/**
 * `migrate` as an operator runs it with a declaration file: two at once on a blank database (every
 * instance may run it at start) both succeed and create the families' tables once, their Odoo
 * calls within the fleet's call budget; run again it changes nothing; with an API key (JSON-2 on
 * Odoo 19, the key read from the link's store on its one connection) it finishes all the same; a
 * queue Redis that does not answer, or a field whose type changed, is refused: the process exits
 * 1 naming it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { commandBaseEnv, commandFile } from '../helpers/commands.js';
import { startRelay } from '../helpers/tcp-relay.js';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

const API_KEY = 'c0ffee'.repeat(6) + 'c0de';
/** Longer than a migrate takes here; one that waits without end is killed and fails its test. */
const MIGRATE_DEADLINE_MS = 45_000;

describe('migrate with a declaration file', () => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDb({ migrated: false });
    sandbox = createOdooSandbox({
      cylinders: 5,
      loginCooldown: false,
      apiKeys: [{ key: API_KEY, expiresAt: new Date(Date.now() + 30 * 86_400_000) }],
    });
    await sandbox.start();
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-migrate-'));
    writeFileSync(
      join(dir, 'families.yaml'),
      'families:\n  - name: cylinders\n    model: x_cylinder\n    children: [{ model: x_cylinder_valve, link: x_cylinder_id }]\n',
    );
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await sandbox.stop();
    await db.dispose();
  });

  // One queue Redis and prefix for every migrator of the file: one call budget.
  const queuePrefix = `migrate-${randomBytes(4).toString('hex')}`;

  async function migrate(
    extra: Record<string, string> = {},
  ): Promise<{ code: number | null; lines: LogLine[] }> {
    const child = spawn(process.execPath, [commandFile('src/cli/migrate.ts')], {
      env: {
        ...commandBaseEnv(),
        DATABASE_URL: db.url,
        ODOO_URL: sandbox.url,
        ODOO_DATABASE: sandbox.database,
        ODOO_USERNAME: sandbox.username,
        ODOO_PASSWORD: sandbox.password,
        SYNC_FAMILIES_FILE: join(dir, 'families.yaml'),
        REDIS_URL: inject('redisUrl'),
        QUEUE_PREFIX: queuePrefix,
        ODOO_MAX_CONCURRENT_CALLS: '1',
        LOG_PRETTY: 'false',
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (output += chunk));
    const deadline = setTimeout(() => child.kill('SIGKILL'), MIGRATE_DEADLINE_MS);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(deadline);
    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
    return { code, lines };
  }
  const said = (lines: LogLine[]) => lines.map((line) => line.msg);

  it('creates the tables once when two run at once, one Odoo call at a time, then changes nothing', async () => {
    // Each call takes a while at Odoo: two migrators unbounded would overlap.
    const slow = sandbox.control.injectFault({ kind: 'latency', latencyMs: 50, times: Infinity });
    const [first, second] = await Promise.all([migrate(), migrate()]);
    slow.remove();
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(sandbox.control.mostRequestsInFlight()).toBe(1);
    const messages = [...said(first.lines), ...said(second.lines)];
    expect(messages).toContain(
      'family cylinders: tables at layout 1; the next reconcile fills what it added',
    );
    expect(messages).toContain('family cylinders: tables up to date (layout 1)');
    const tables = await db.sql!<{ table_name: string }[]>`
      select table_name from information_schema.tables
      where table_name like 'scrap_x_cylinder%' order by 1`;
    expect(tables.map((row) => row.table_name)).toEqual([
      'scrap_x_cylinder',
      'scrap_x_cylinder__x_tag_ids',
      'scrap_x_cylinder_valve',
    ]);

    const again = await migrate();
    expect(again.code).toBe(0);
    expect(said(again.lines)).toContain('family cylinders: tables up to date (layout 1)');
  }, 60_000);

  it('finishes with ODOO_API_KEY set: JSON-2, on its one connection, asking has_access', async () => {
    sandbox.control.resetCalls();
    const keyed = await migrate({ ODOO_API_KEY: API_KEY });
    expect(keyed.code).toBe(0);
    expect(said(keyed.lines)).toContain('family cylinders: tables up to date (layout 1)');
    expect(sandbox.control.countCalls({ protocol: 'json2', method: 'fields_get' })).toBeGreaterThan(
      0,
    );
    expect(sandbox.control.countCalls({ method: 'has_access' })).toBeGreaterThan(0);
    expect(sandbox.control.countCalls({ method: 'check_access_rights' })).toBe(0);
    expect(sandbox.control.warnings()).toEqual([]);
  }, 60_000);

  it('exits 1 at once when the queue Redis of the call budget does not answer, calling no Odoo', async () => {
    sandbox.control.resetCalls();
    const away = await migrate({ REDIS_URL: 'redis://127.0.0.1:1' });
    expect(away.code).toBe(1);
    const error = away.lines.find((line) => line.level === 50)!;
    expect(error.msg).toBe('migration failed');
    expect(error.err).toMatchObject({ code: 'REDIS_UNAVAILABLE' });
    expect(JSON.stringify(error.err)).toContain('ECONNREFUSED');
    expect(sandbox.control.countCalls()).toBe(0);
  }, 60_000);

  it('exits 1 naming the call budget when its Redis goes away under it, instead of waiting for it for ever', async () => {
    // migrate reaches the budget's Redis through a relay that goes away while Odoo answers a
    // call: the budget's next turn fails, and the connection, which fails fast, must still end.
    const relay = await startRelay(new URL(inject('redisUrl')));
    const fault = sandbox.control.injectFault({
      kind: 'latency',
      latencyMs: 300,
      method: 'fields_get',
    });
    // The first of its two models' fields_get: the second needs the budget again.
    const asked = sandbox.control.waitForCall({ method: 'fields_get' });
    // A budget of its own: the slot it could not give back stays held until its lease ends.
    const run = migrate({ REDIS_URL: relay.url, QUEUE_PREFIX: `${queuePrefix}-away` });
    try {
      await asked;
      await relay.close();
      const away = await run;
      expect(away.code).toBe(1);
      const error = away.lines.find((line) => line.level === 50)!;
      expect(error.msg).toBe('migration failed');
      expect(error.err).toMatchObject({ code: 'ODOO_BUDGET' });
    } finally {
      fault.remove();
      await run;
    }
  }, 60_000);

  it('refuses a field whose type changed, exits 1 and names it', async () => {
    sandbox.control.removeField('x_cylinder', 'x_capacity');
    sandbox.control.addField('x_cylinder', {
      name: 'x_capacity',
      type: 'char',
      string: 'Capacity',
      store: true,
      manual: true,
    });
    const refused = await migrate();
    expect(refused.code).toBe(1);
    const error = refused.lines.find((line) => line.level === 50)!;
    expect(error.msg).toBe('migration failed');
    expect(JSON.stringify(error.err)).toContain(
      'cylinders: x_cylinder: x_capacity is now char (text), but column scrap_x_cylinder.x_capacity is numeric',
    );
  }, 60_000);
});
