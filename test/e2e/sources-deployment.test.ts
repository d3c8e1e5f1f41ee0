/**
 * Three Odoo databases in one deployment, as an operator runs it (docs/sources.md): the default
 * source an Odoo 17 over JSON-RPC with a password (ODOO_*), and a sources file naming an Odoo 19
 * database over JSON-2 with an API key and another database of that Odoo whose partners have a
 * Studio field. `migrate` and the worker are the processes a deployment starts; each copies the
 * BC family and a families-file family of `res.partner` into the source's schema. After a storm
 * of edits, creations and archives in every database, one more run of each, and the copies equal
 * their Odoo; the feed's `source=` filter gives each source's changes exactly, in position order.
 * Each database's call budget holds, as its Odoo saw the calls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { asc, eq, like, not, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import type { SandboxControl } from '../../dev/sandbox/sandbox-control.js';
import { syncAudit, syncLog } from '../../src/db/schema/index.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { loadFamilies } from '../../src/families/load-families.js';
import type { Families } from '../../src/families/registry.js';
import { DEFAULT_SOURCE } from '../../src/sources/family-key.js';
import type { App } from '../../src/http/app.js';
import { diffCopyWithSandbox } from '../helpers/copy-diff.js';
import { feedCaughtUp } from '../helpers/feed-visible.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { bearer, createTestApp, testConfig } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import {
  createProducer,
  startWorkerProcess,
  workerEnv,
  type Producer,
} from '../helpers/worker-process.js';
import { commandFile } from '../helpers/commands.js';

const DAY_MS = 86_400_000;
const FAMILIES_FILE = `families:\n  - name: people\n    model: res.partner\n    table: x_people\n`;
/** Every family copied, by key. */
const FAMILIES = ['bcs', 'people', 'b19.bcs', 'b19.people', 'studio.bcs', 'studio.people'];

describe('three Odoo databases in one deployment', () => {
  let odoo17: OdooSandbox;
  let odoo19: OdooSandbox;
  let db: TestDb;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let worker: ChildProcess;
  let producer: Producer;
  let families: Families;
  let app: App;
  const prefix = `sources-${randomBytes(4).toString('hex')}`;

  /** Each source's Odoo database, by source. */
  const controls = (): Record<string, SandboxControl> => ({
    [DEFAULT_SOURCE]: odoo17.control,
    b19: odoo19.db('odoo19').control,
    studio: odoo19.db('studio').control,
  });

  beforeAll(async () => {
    odoo17 = createOdooSandbox({
      serverVersion: '17.0',
      database: 'odoo17',
      orders: 30,
      linesPerOrder: 2,
      partners: 20,
      seed: 11,
    });
    odoo19 = createOdooSandbox({
      serverVersion: '19.0',
      databases: {
        odoo19: { orders: 25, linesPerOrder: 3, partners: 15, seed: 12 },
        studio: { orders: 20, linesPerOrder: 2, partners: 12, seed: 13 },
      },
    });
    await Promise.all([odoo17.start(), odoo19.start()]);
    odoo19.db('studio').control.addField('res.partner', {
      name: 'x_studio_tier',
      type: 'char',
      string: 'Tier',
      store: true,
    });
    const key = odoo19.db('odoo19').keys.add({ expiresAt: new Date(Date.now() + 90 * DAY_MS) });
    db = await createTestDb();
    dir = mkdtempSync(join(tmpdir(), 'erp-bridge-sources-'));
    writeFileSync(join(dir, 'families.yaml'), FAMILIES_FILE);
    writeFileSync(
      join(dir, 'sources.yaml'),
      [
        'sources:',
        `  - name: b19`,
        `    odoo: { url: "${odoo19.url}", database: odoo19, username: ${odoo19.username}, apiKey: { env: B19_API_KEY }, protocol: json2 }`,
        `  - name: studio`,
        `    odoo: { url: "${odoo19.url}", database: studio, username: ${odoo19.username}, password: { env: STUDIO_PASSWORD } }`,
        // A call budget of its own: one call in flight to its database, whatever the others do.
        `    budget: { maxConcurrentCalls: 1 }`,
        '',
      ].join('\n'),
    );
    env = workerEnv(
      { databaseUrl: db.url, prefix, odoo: odoo17 },
      {
        SYNC_FAMILIES: 'bcs,people',
        SYNC_FAMILIES_FILE: join(dir, 'families.yaml'),
        SYNC_SOURCES_FILE: join(dir, 'sources.yaml'),
        B19_API_KEY: key,
        STUDIO_PASSWORD: odoo19.password,
        LOG_LEVEL: 'warn',
      },
    );
    const migrate = spawn(process.execPath, [commandFile('src/cli/migrate.ts')], {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const [code] = (await once(migrate, 'exit')) as [number | null];
    expect(code).toBe(0);
    producer = await createProducer(prefix, 'sync');
    // Every schedule fires at the worker's start: each family's first copy.
    worker = (await startWorkerProcess({ ...env, LOG_LEVEL: 'info' })).child;
    // The API as a deployment configures it, with the tests' keys.
    const config = testConfig({
      ...(Object.fromEntries(
        Object.entries(env).filter(([name]) => /^(ODOO_|SYNC_|B19_|STUDIO_)/.test(name)),
      ) as Record<string, string>),
    });
    families = await loadFamilies(db.db, config.sync.families, undefined, {
      withDefault: true,
      others: config.sources.filter((source) => source.name !== DEFAULT_SOURCE),
    });
    app = await createTestApp(db, { config, families });
  }, 120_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await once(worker, 'exit');
    }
    await app?.close();
    await producer?.close();
    await db?.dispose();
    await Promise.all([odoo17?.stop(), odoo19?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Resolves once each family has as many succeeded runs as `runs`. */
  const runsSucceeded = async (runs: number) => {
    for (;;) {
      const rows = await db.db
        .select({ family: syncLog.family, n: sql<number>`count(*)::int` })
        .from(syncLog)
        .where(eq(syncLog.status, 'succeeded'))
        .groupBy(syncLog.family);
      const done = new Map(rows.map((row) => [row.family, row.n]));
      if (FAMILIES.every((family) => (done.get(family) ?? 0) >= runs)) return;
      await new Promise((resolve) => setImmediate(resolve));
      await db.db.execute(sql`select pg_sleep(0.2)`);
    }
  };

  const diffs = async () => {
    const found: Record<string, string[]> = {};
    for (const key of FAMILIES) {
      const source = key.includes('.') ? key.split('.')[0]! : DEFAULT_SOURCE;
      found[key] = await diffCopyWithSandbox(db.db, controls()[source]!, families.require(key));
    }
    return found;
  };
  const none = Object.fromEntries(FAMILIES.map((key) => [key, []]));

  it('copies each database into its schema, over its own transport, and heals a storm in each', async () => {
    await runsSucceeded(1);
    expect(await diffs()).toEqual(none);
    // The Studio field is a column of the studio source's partners only.
    const tierColumns = rowsOf<{ schema: string }>(
      await db.db.execute(sql`
        select table_schema as schema from information_schema.columns
        where table_name = 'x_people' and column_name = 'x_studio_tier'`),
    );
    expect(tierColumns).toEqual([{ schema: 'studio' }]);
    // Each Odoo 19 database was read over its own transport.
    expect(odoo19.db('odoo19').control.countCalls({ protocol: 'json2' })).toBeGreaterThan(0);
    expect(odoo19.db('studio').control.countCalls({ protocol: 'json2' })).toBe(0);
    // Each database's call budget held, as its sandbox saw the calls (one server, two budgets).
    expect(odoo19.db('studio').control.mostRequestsInFlight()).toBe(1);
    expect(odoo19.db('odoo19').control.mostRequestsInFlight()).toBeLessThanOrEqual(4);
    expect(odoo17.control.mostRequestsInFlight()).toBeLessThanOrEqual(4);

    // The storm: in each database, edits, a creation and an archive.
    for (const control of Object.values(controls())) {
      const ids = control.ids(BC_MODEL);
      for (const id of ids.slice(0, 8)) control.write(BC_MODEL, id, { origin: `storm ${id}` });
      control.archive(BC_MODEL, ids[9]!);
      const partners = control.ids('res.partner');
      // Not their names: a BC's copy of its partner's name follows by the verify, not by a run.
      for (const id of partners.slice(0, 4))
        control.write('res.partner', id, { email: `storm-${id}@example.com` });
    }
    for (const family of FAMILIES)
      await producer.queues.add('sync-run', { family, trigger: 'test' });
    await runsSucceeded(2);
    expect(await diffs()).toEqual(none);
  });

  it("gives each source's changes exactly under source=, in position order", async () => {
    await feedCaughtUp(db.db);
    for (const source of [DEFAULT_SOURCE, 'b19', 'studio']) {
      const expected = (
        await db.db
          .select({ id: syncAudit.id })
          .from(syncAudit)
          .where(
            source === DEFAULT_SOURCE
              ? not(like(syncAudit.family, '%.%'))
              : like(syncAudit.family, `${source}.%`),
          )
          .orderBy(asc(syncAudit.id))
      ).map((row) => `chg_${row.id}`);
      const seen: { id: string; source: string; position: string }[] = [];
      let after = '';
      for (;;) {
        const response = await app.inject({
          url: `/api/changes?source=${source}&limit=1000${after ? `&after=${after}` : ''}`,
          headers: bearer('reader'),
        });
        expect(response.statusCode, response.body).toBe(200);
        const page = response.json<{
          changes: { id: string; source: string; position: string }[];
          next: string;
        }>();
        seen.push(...page.changes);
        if (page.changes.length === 0) break;
        after = page.next;
      }
      expect(new Set(seen.map((change) => change.source))).toEqual(new Set([source]));
      expect(seen.map((change) => change.id).sort()).toEqual([...expected].sort());
      const positions = seen.map((change) => change.position);
      expect(positions).toEqual([...positions].sort());
    }
  });
});
