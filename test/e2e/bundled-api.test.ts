/**
 * The API as the image starts it, from its bundle: the pages whose files their packages serve from
 * their own directories — the API's documentation and bull-board — load with those files, and
 * bull-board reads the queues. build.ts leaves those packages out of the bundle; a package bundled
 * by mistake would serve no file, or fail to see the worker's queues, and only here would it show.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApiProcess, type ApiProcess } from '../helpers/api-process.js';
import { KEYS } from '../helpers/test-app.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const adminLogin = {
  authorization: `Basic ${Buffer.from(`admin:${KEYS.admin.key}`).toString('base64')}`,
};

/** The scripts and style sheets a page loads, against its `<base>` as a browser reads them. */
function filesOf(html: string, page: URL): URL[] {
  const baseHref = /<base\b[^>]*?\bhref="([^"]+)"/.exec(html)?.[1];
  const base = baseHref === undefined ? page : new URL(baseHref, page);
  return [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+\.(?:js|css))"/g)].map(
    (match) => new URL(match[1]!, base),
  );
}

async function get(url: URL): Promise<{ status: number; type: string; body: string }> {
  const response = await fetch(url, { headers: adminLogin });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: await response.text(),
  };
}

describe('the API started from its bundle', () => {
  let db: TestDb;
  let api: ApiProcess | undefined;
  let base: URL;

  beforeAll(async () => {
    db = await createTestDb();
    api = await startApiProcess({
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: `bundled-${randomBytes(4).toString('hex')}`,
      API_KEYS: KEYS.admin.entry,
    });
    base = new URL(api.address);
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    await db?.dispose();
  });

  it.each([
    ['the API documentation', '/docs/'],
    ['bull-board', '/admin/queues'],
  ])('serves %s with the files its page loads', async (_name, path) => {
    const pageUrl = new URL(path, base);
    const page = await get(pageUrl);
    expect(page.status, page.body).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    const files = filesOf(page.body, pageUrl);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const served = await get(file);
      expect(served.status, file.href).toBe(200);
      expect(served.type, file.href).toMatch(/javascript|css/);
      expect(served.body.length, file.href).toBeGreaterThan(0);
    }
  });

  it("bull-board lists the deployment's queues", async () => {
    const answer = await get(new URL('/admin/queues/api/queues', base));
    expect(answer.status, answer.body).toBe(200);
    const { queues } = JSON.parse(answer.body) as { queues: { name: string }[] };
    expect(queues.map((queue) => queue.name)).toEqual(
      expect.arrayContaining(['sync', 'sync-record']),
    );
  });
});
