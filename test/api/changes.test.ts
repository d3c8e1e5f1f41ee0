/**
 * The change feed through the API: a consumer that pulls page by page, or follows the stream and
 * reconnects with Last-Event-ID, sees each change once, in position order; a long poll is woken
 * by the commit; a position behind the retention is a 410 naming where to go on; the admin's
 * subscriptions. The app listens on a real port (a stream is read as it comes).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import type { ChangeBody } from '../../src/feed/change-body.js';
import { pruneFeed } from '../../src/feed/prune.js';
import { applyDeclaredSubscriptions } from '../../src/feed/subscriptions.js';
import type { App } from '../../src/http/app.js';
import { fakeBc, fakeLine, mapBc, writeBcs } from '../helpers/seed-bcs.js';
import { bearer, createTestApp } from '../helpers/test-app.js';
import { feedCaughtUp } from '../helpers/feed-visible.js';
import { TEST_FEED_SECRETS } from '../helpers/sync-harness.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { DEFAULT_SOURCE } from '../../src/sources/family-key.js';

interface ChangesPage {
  changes: ChangeBody[];
  next: string;
  heldBack: boolean;
}

let nextBc = 100;
/** Writes `count` new BCs with two lines each: 3 changes per BC. */
async function writeNewBcs(db: TestDb, count: number): Promise<void> {
  const items = Array.from({ length: count }, () => {
    nextBc += 1;
    return mapBc({ bc: fakeBc(nextBc), lines: [fakeLine(nextBc, 1), fakeLine(nextBc, 2)] });
  });
  await writeBcs(db.db, items, { runId: null, lease: null, trigger: 'test' });
  await feedCaughtUp(db.db);
}

/** The ids of the audit rows written after `afterId`: every change the feed must give. */
async function auditIdsAfter(db: TestDb, afterId: number): Promise<string[]> {
  const rows = rowsOf<{ audit_id: string }>(
    await db.db.execute(
      sql`select id::text as audit_id from sync_audit where id > ${afterId} order by sync_audit.id`,
    ),
  );
  return rows.map((row) => `chg_${row.audit_id}`);
}

async function lastAuditId(db: TestDb): Promise<number> {
  const [row] = rowsOf<{ id: number }>(
    await db.db.execute(sql`select coalesce(max(id), 0)::int as id from sync_audit`),
  );
  return row!.id;
}

/** Server-sent events of a fetch's body, as they come. */
async function* events(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ id?: string; event?: string; data?: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: { id?: string; event?: string; data?: string } = {};
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const field = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id' || field === 'event' || field === 'data') event[field] = value;
      }
      yield event;
    }
  }
}

describe('the change feed API', () => {
  let db: TestDb;
  let app: App;
  let base: string;
  const get = async (path: string, role: 'reader' | 'admin' = 'reader') =>
    fetch(`${base}${path}`, { headers: bearer(role) });

  beforeAll(async () => {
    db = await createTestDb();
    app = await createTestApp(db);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    await db.dispose();
  });

  /**
   * Every route that takes a position, given `position`: the pull and its long poll, the stream
   * by `after` and by Last-Event-ID, a new subscription's `from`.
   */
  const askedFrom = async (position: string) => [
    await get(`/api/changes?after=${position}`),
    await get(`/api/changes?after=${position}&wait=1`),
    await get(`/api/changes/stream?after=${position}`),
    await fetch(`${base}/api/changes/stream`, {
      headers: { ...bearer('reader'), 'last-event-id': position },
    }),
    await fetch(`${base}/api/changes/subscriptions`, {
      method: 'POST',
      headers: { ...bearer('admin'), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'crafted', url: 'https://example.com/', from: position }),
    }),
  ];
  const expectRefused = async (position: string, why: RegExp) => {
    for (const response of await askedFrom(position)) {
      expect(response.status, `${response.url} ${position}`).toBe(400);
      const body = (await response.json()) as { error: string; message: string };
      expect(body.error).toBe('BAD_REQUEST');
      expect(body.message).toMatch(/after|last-event-id|from/);
      expect(body.message).toMatch(why);
    }
  };

  it('a crafted position (past 2^63, junk) is a 400 naming it, on every route that takes one', async () => {
    const crafted = [
      `${'0'.repeat(15)}1${'f'.repeat(16)}`,
      `8${'0'.repeat(31)}`,
      'f'.repeat(32),
      'not-a-position',
    ];
    for (const position of crafted) await expectRefused(position, /./);
  });

  it('a position past the head is a 400 too, on every route that takes one: none was given', async () => {
    const { position: head } = (await (await get('/api/changes/head')).json()) as {
      position: string;
    };
    const ahead = (BigInt(`0x${head.slice(0, 16)}`) + 1_000_000_000n)
      .toString(16)
      .padStart(16, '0');
    for (const position of ['7fffffffffffffff0000000000000000', `${ahead}${'0'.repeat(16)}`])
      await expectRefused(position, /past the feed's head/);
    // The head itself is a position the feed gives.
    expect((await get(`/api/changes?after=${head}`)).status).toBe(200);
  });

  it('refuses a receiver URL with credentials in it, without echoing them', async () => {
    const response = await fetch(`${base}/api/changes/subscriptions`, {
      method: 'POST',
      headers: { ...bearer('admin'), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'creds', url: 'https://hook:s3cr3t@portal.example.com/in' }),
    });
    expect(response.status).toBe(400);
    const body = await response.text();
    expect(body).toMatch(/must not carry credentials/);
    expect(body).not.toContain('s3cr3t');
  });

  it('unfiltered, serves only the families this API serves', async () => {
    const { position } = (await (await get('/api/changes/head')).json()) as { position: string };
    // A family the feed holds and this API does not serve (no longer copied, say).
    await db.db.execute(sql`
      insert into sync_audit (family, model, odoo_id, root_odoo_id, action, trigger)
      values ('retired', 'x_retired', 1, 1, 'created', 'test')`);
    await writeNewBcs(db, 1);
    const page = (await (await get(`/api/changes?after=${position}`)).json()) as ChangesPage;
    expect(new Set(page.changes.map((change) => change.family))).toEqual(new Set(['bcs']));
    expect(page.changes).toHaveLength(3);
  });

  it('a consumer pulling page by page from its last position sees each change once, in order', async () => {
    const head = (await (await get('/api/changes/head')).json()) as { position: string };
    const fromId = await lastAuditId(db);
    await writeNewBcs(db, 5);
    const seen: ChangeBody[] = [];
    let after = head.position;
    // Pages of 4, more changes written between two pages: the consumer resumes where it was.
    for (let round = 0; round < 12; round += 1) {
      if (round === 2) await writeNewBcs(db, 3);
      const response = await get(`/api/changes?after=${after}&limit=4`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as ChangesPage;
      seen.push(...page.changes);
      after = page.next;
      if (page.changes.length === 0 && round > 2) break;
    }
    expect(seen.map((change) => change.id)).toEqual(await auditIdsAfter(db, fromId));
    expect(seen.map((change) => change.position)).toEqual(
      [...seen.map((change) => change.position)].sort(),
    );
    expect(seen[0]).toMatchObject({
      model: BC_MODEL,
      action: 'created',
      family: 'bcs',
      trigger: 'test',
    });
  });

  it('a long poll waits for the next commit and is woken by it', async () => {
    const { position } = (await (await get('/api/changes/head')).json()) as { position: string };
    const startedMs = Date.now();
    const waiting = get(`/api/changes?after=${position}&wait=25&family=bcs&model=${BC_MODEL}`);
    await writeNewBcs(db, 1);
    const page = (await (await waiting).json()) as ChangesPage;
    expect(page.changes.map((change) => [change.model, change.odooId])).toEqual([
      [BC_MODEL, nextBc],
    ]);
    // Woken by the commit, not by the end of its wait.
    expect(Date.now() - startedMs).toBeLessThan(20_000);
  });

  it('a stream consumer that reconnects with Last-Event-ID sees each change once, in order', async () => {
    const { position } = (await (await get('/api/changes/head')).json()) as { position: string };
    const fromId = await lastAuditId(db);
    const seen: ChangeBody[] = [];
    const readUntil = async (headers: Record<string, string>, query: string, count: number) => {
      const abort = new AbortController();
      const response = await fetch(`${base}/api/changes/stream${query}`, {
        headers: { ...bearer('reader'), ...headers },
        signal: abort.signal,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      let lastId = '';
      let got = 0;
      for await (const event of events(response.body!)) {
        if (event.event !== 'change') continue;
        seen.push(JSON.parse(event.data!) as ChangeBody);
        lastId = event.id!;
        got += 1;
        if (got === count) break;
      }
      abort.abort();
      return lastId;
    };

    const reading = readUntil({}, `?after=${position}`, 7);
    await writeNewBcs(db, 3);
    const lastId = await reading;
    // Disconnected: more changes are committed meanwhile.
    await writeNewBcs(db, 2);
    await writeNewBcs(db, 1);
    const total = (await auditIdsAfter(db, fromId)).length;
    await readUntil({ 'last-event-id': lastId }, '', total - seen.length);

    expect(seen.map((change) => change.id)).toEqual(await auditIdsAfter(db, fromId));
  });

  it('answers 410 with where to go on when the position is older than the changes kept', async () => {
    const { position } = (await (await get('/api/changes/head')).json()) as { position: string };
    await writeNewBcs(db, 1);
    await db.db.execute(sql`update sync_feed set created_at = now() - interval '30 days'`);
    await writeNewBcs(db, 1);
    await feedCaughtUp(db.db);
    await pruneFeed(db.db, 7);
    const response = await get(`/api/changes?after=${position}`);
    expect(response.status).toBe(410);
    const body = (await response.json()) as { error: string; oldest: string; head: string };
    expect(body).toMatchObject({ error: 'FEED_POSITION_GONE' });
    const kept = (await (await get(`/api/changes?after=${body.oldest}`)).json()) as ChangesPage;
    expect(kept.changes.map((change) => change.odooId)).toContain(nextBc);
    const stream = await get(`/api/changes/stream?after=${position}`);
    expect(stream.status).toBe(410);
  });

  it('refuses what it cannot answer with a 400 naming the parameter', async () => {
    expect((await get('/api/changes?after=nope')).status).toBe(400);
    const unknown = await get('/api/changes?family=cylinders');
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { message: string }).message).toMatch(/^family:/);
    expect((await get('/api/changes?model=res.partner&family=bcs')).status).toBe(400);
    expect((await get('/api/changes?wait=31')).status).toBe(400);
    expect((await fetch(`${base}/api/changes`)).status).toBe(401);
  });

  it("lets an admin subscribe a receiver, replay it and delete it; a subscription of the file is the file's", async () => {
    expect((await get('/api/changes/subscriptions')).status).toBe(403);
    const admin = (path: string, method: string, body?: unknown) =>
      fetch(`${base}${path}`, {
        method,
        headers: { ...bearer('admin'), ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    const created = await admin('/api/changes/subscriptions', 'POST', {
      name: 'portal',
      url: 'http://127.0.0.1:9/hooks',
      families: ['bcs'],
      models: [BC_MODEL],
    });
    expect(created.status).toBe(201);
    const { subscription, secret } = (await created.json()) as {
      subscription: { cursor: string; status: string; lagChanges: number };
      secret: string;
    };
    expect(secret).toMatch(/^whsec_/);
    expect(subscription).toMatchObject({ status: 'active', lagChanges: 0 });
    expect(
      JSON.stringify(await (await get('/api/changes/subscriptions', 'admin')).json()),
    ).not.toContain(secret);
    expect(
      (await admin('/api/changes/subscriptions', 'POST', { name: 'portal', url: 'http://x/' }))
        .status,
    ).toBe(409);

    await writeNewBcs(db, 2);
    const behind = (await (await get('/api/changes/subscriptions/portal', 'admin')).json()) as {
      lagChanges: number;
    };
    expect(behind.lagChanges).toBe(2);
    const replayed = await admin('/api/changes/subscriptions/portal/replay', 'POST', {
      from: 'now',
    });
    expect(replayed.status).toBe(200);
    expect(((await replayed.json()) as { lagChanges: number }).lagChanges).toBe(0);
    expect((await admin('/api/changes/subscriptions/portal', 'DELETE')).status).toBe(204);
    expect((await admin('/api/changes/subscriptions/portal', 'DELETE')).status).toBe(404);

    await applyDeclaredSubscriptions(
      db.db,
      {
        subscriptions: [
          {
            name: 'from-file',
            url: 'http://127.0.0.1:9/',
            secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
            families: [],
            models: [],
            start: 'now',
          },
        ],
        removed: [],
        unnamedSources: [DEFAULT_SOURCE],
      },
      TEST_FEED_SECRETS,
    );
    expect((await admin('/api/changes/subscriptions/from-file', 'DELETE')).status).toBe(409);
  });
});
