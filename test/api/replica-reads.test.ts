/**
 * The API on a streaming replica (DATABASE_READ_URL): the read API and the change feed read from
 * it while every write goes to the primary; how far behind it is shows in
 * `erp_bridge_replica_lag_seconds`; the feed pulled from it is the primary's, in commit order and
 * nothing skipped, while writers commit out of order; a reader waiting on it is woken once the
 * replica has the change. A primary and its hot standby of PostgreSQL's own, started on loopback
 * for this file (replay paused and resumed to make it lag).
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/create-db.js';
import { runMigrations } from '../../src/db/migrate.js';
import { hasReplayed, primaryWalPosition, readReplicaLagSeconds } from '../../src/db/replica.js';
import type { ChangeBody } from '../../src/feed/change-body.js';
import { replicaFeedListen } from '../../src/feed/feed-signal.js';
import { decodePosition, encodePosition } from '../../src/feed/position.js';
import { NO_FILTER, readChanges, readHead } from '../../src/feed/read-changes.js';
import { buildApp, type App } from '../../src/http/app.js';
import { feedCaughtUp, openWriter } from '../helpers/feed-visible.js';
import {
  startLocalPostgres,
  startLocalReplica,
  type LocalService,
} from '../helpers/local-services.js';
import { fakeBc, fakeLine, mapBc, writeBcs } from '../helpers/seed-bcs.js';
import { bearer, memoryLogger, testConfig } from '../helpers/test-app.js';

interface ChangesPage {
  changes: ChangeBody[];
  next: string;
  heldBack: boolean;
}

const context = { runId: null, lease: null, trigger: 'test' };
const bc = (id: number) => mapBc({ bc: fakeBc(id), lines: [fakeLine(id, 1), fakeLine(id, 2)] });

describe('the API on a streaming replica', () => {
  let primaryServer: LocalService;
  let replicaServer: LocalService;
  let primary: DbHandle;
  let replica: DbHandle;
  let app: App;
  const { logger } = memoryLogger('warn');

  /** Resolves once the replica has replayed everything the primary committed so far. */
  const replayed = async () => {
    const lsn = await primaryWalPosition(primary.sql!);
    await vi.waitFor(async () => expect(await hasReplayed(replica.sql!, lsn)).toBe(true), {
      timeout: 30_000,
      interval: 20,
    });
  };
  const pauseReplay = async () => {
    await replica.sql!`select pg_wal_replay_pause()`;
    await vi.waitFor(
      async () => {
        const [row] = await replica.sql!<
          { state: string }[]
        >`select pg_get_wal_replay_pause_state() as state`;
        expect(row?.state).toBe('paused');
      },
      { timeout: 30_000, interval: 20 },
    );
  };
  /** Resolves once the replica has received (not necessarily replayed) the primary's WAL so far. */
  const received = async () => {
    const lsn = await primaryWalPosition(primary.sql!);
    await vi.waitFor(
      async () => {
        const [row] = await replica.sql!<
          { received: boolean }[]
        >`select pg_last_wal_receive_lsn() >= ${lsn}::pg_lsn as received`;
        expect(row?.received).toBe(true);
      },
      { timeout: 30_000, interval: 20 },
    );
  };
  const listedBcs = async () => {
    const response = await app.inject({ url: '/api/bcs?limit=100', headers: bearer('reader') });
    expect(response.statusCode).toBe(200);
    return (response.json<{ items: { odooId: number }[] }>().items ?? [])
      .map((item) => item.odooId)
      .sort((a, b) => a - b);
  };

  beforeAll(async () => {
    primaryServer = await startLocalPostgres();
    const admin = postgres(primaryServer.url, { max: 1, onnotice: () => undefined });
    await admin.unsafe('create database erp_bridge');
    await admin.end();
    const primaryUrl = new URL(primaryServer.url);
    primaryUrl.pathname = '/erp_bridge';
    primary = await createDb({ url: primaryUrl.toString(), poolMax: 8 });
    await runMigrations(primary);
    replicaServer = await startLocalReplica(primaryUrl.toString());
    replica = await createDb({ url: replicaServer.url, poolMax: 5 });
    await replayed();
    app = await buildApp({ config: testConfig(), logger, db: primary, replica });
    await app.ready();
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    if (replica?.sql) await replica.sql`select pg_wal_replay_resume()`.catch(() => undefined);
    await replica?.close();
    await primary?.close();
    await replicaServer?.stop();
    await primaryServer?.stop();
  });

  it('serves the read API from the replica, and shows how far behind it is', async () => {
    await writeBcs(primary.db, [bc(1), bc(2), bc(3)], context);
    await replayed();
    expect(await listedBcs()).toEqual([1, 2, 3]);

    await pauseReplay();
    await writeBcs(primary.db, [bc(4)], context);
    await received();
    // The primary has BC 4; the replica received it and has not replayed it.
    expect(await listedBcs()).toEqual([1, 2, 3]);
    // A position the primary gave, past the lagging replica's head, is waited on, never refused.
    const primaryHead = encodePosition(await readHead(primary.db));
    for (const url of [`/api/changes?after=${primaryHead}`, `/api/changes/head`]) {
      const response = await app.inject({ url, headers: bearer('reader') });
      expect(response.statusCode, url).toBe(200);
      if (url.endsWith('/head'))
        expect(response.json<{ position: string }>().position < primaryHead).toBe(true);
      else expect(response.json()).toMatchObject({ changes: [], next: primaryHead });
    }
    const metrics = await app.inject({ url: '/metrics', headers: bearer('operator') });
    const lag = /^erp_bridge_replica_lag_seconds (\S+)$/m.exec(metrics.body)?.[1];
    expect(Number(lag)).toBeGreaterThan(0);
    const ready = await app.inject({ url: '/health/ready', headers: bearer('operator') });
    expect(ready.json()).toMatchObject({ parts: { 'postgres-replica': { status: 'up' } } });

    await replica.sql!`select pg_wal_replay_resume()`;
    await vi.waitFor(async () => expect(await listedBcs()).toEqual([1, 2, 3, 4]), {
      timeout: 30_000,
      interval: 20,
    });
    await replayed();
    expect(await readReplicaLagSeconds(replica.sql!)).toBe(0);
  });

  it('wakes a reader of the replica once the replica has the change, not when the primary commits', async () => {
    const { logger: quiet } = memoryLogger('error');
    let wokenWith: number[] | undefined;
    let woken!: () => void;
    const wake = new Promise<void>((resolve) => (woken = resolve));
    const unlisten = await replicaFeedListen(
      primary.sql!,
      replica.sql!,
      quiet,
    )(() => {
      // What a woken reader of the replica finds there, read at once.
      void listedBcs().then((ids) => {
        wokenWith ??= ids;
        woken();
      });
    });
    try {
      await pauseReplay();
      await writeBcs(primary.db, [bc(5)], context);
      await received();
      expect(wokenWith).toBeUndefined();
      await replica.sql!`select pg_wal_replay_resume()`;
      await wake;
      expect(wokenWith).toContain(5);
    } finally {
      await replica.sql!`select pg_wal_replay_resume()`;
      await unlisten();
    }
  });

  it("pulls the primary's feed from the replica, in commit order, while writers commit out of order", async () => {
    await feedCaughtUp(primary.db);
    await replayed();
    const head = await app.inject({ url: '/api/changes/head', headers: bearer('reader') });
    const start = head.json<{ position: string }>().position;

    // An older transaction holds its BC uncommitted while later ones commit.
    const older = openWriter(primary.db, (tx) => writeBcs(tx, [bc(50)], context));
    await older.written;
    const ids = Array.from({ length: 12 }, (_, i) => 51 + i);
    const writers = Promise.all(
      [0, 1, 2].map(async (writer) => {
        for (const id of ids.filter((_, i) => i % 3 === writer))
          await writeBcs(primary.db, [bc(id)], context);
      }),
    );

    // 13 BCs of 3 records each: the reader pulls small pages from the replica as they come.
    const expected = 13 * 3;
    const pulled: ChangeBody[] = [];
    let after = start;
    const reading = (async () => {
      for (let pull = 0; pull < 500 && pulled.length < expected; pull += 1) {
        const response = await app.inject({
          url: `/api/changes?after=${encodeURIComponent(after)}&limit=4&wait=5`,
          headers: bearer('reader'),
        });
        expect(response.statusCode).toBe(200);
        const page = response.json<ChangesPage>();
        pulled.push(...page.changes);
        after = page.next;
      }
    })();
    await writers;
    await older.commit();
    await reading;

    await feedCaughtUp(primary.db);
    const { changes } = await readChanges(primary.db, decodePosition(start), NO_FILTER, 1_000);
    expect(pulled.map((change) => change.position)).toEqual(
      changes.map((change) => encodePosition(change.position)),
    );
    expect(new Set(pulled.map((change) => change.id)).size).toBe(expected);
    expect(new Set(pulled.map((change) => change.odooId))).toContain(50);
  });

  it('writes the subscriptions to the primary', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/changes/subscriptions',
      headers: bearer('admin'),
      payload: { name: 'portal', url: 'http://127.0.0.1:9/hooks' },
    });
    expect(created.statusCode).toBe(201);
    const [row] = await primary.sql!<
      { n: number }[]
    >`select count(*)::int as n from sync_feed_subscription where name = 'portal'`;
    expect(row?.n).toBe(1);
  });
});
