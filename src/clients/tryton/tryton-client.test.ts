/**
 * The client's wire discipline and failure policy against a scripted local HTTP server: the
 * cases a healthy trytond will not produce on demand (stalls on a call, 503s, refused
 * connections, wrong ids, 429). The real-server behaviour is tested in test/tryton/.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrytonConfig } from '../../config/config.js';
import { createLogger } from '../../lib/logger.js';
import { createTrytonClient, type TrytonClient } from './tryton-client.js';
import {
  TrytonAbortedError,
  TrytonAuthError,
  TrytonNetworkError,
  TrytonProtocolError,
  TrytonResponseTooLargeError,
  TrytonRpcPathError,
  TrytonTimeoutError,
} from './tryton-errors.js';

interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  body: { id: unknown; method: string; params: unknown[] } & Record<string, unknown>;
}

type Reply =
  { status?: number; json?: unknown; text?: string; headers?: Record<string, string> } | 'stall';

interface ScriptedServer {
  url: string;
  received: Received[];
  methods(): string[];
  close(): Promise<void>;
}

const silent = createLogger({ level: 'silent', pretty: false });
const toClose: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const resource of toClose.splice(0).reverse()) await resource.close();
});

/** Answers each request with `script(request, countOfThisMethodSoFar)`. */
async function scriptedServer(
  script: (request: Received, nth: number) => Reply,
): Promise<ScriptedServer> {
  const received: Received[] = [];
  const stalled = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received['body'];
      const request = { url: req.url ?? '', headers: req.headers, body };
      received.push(request);
      const nth = received.filter((r) => r.body.method === body.method).length;
      const reply = script(request, nth);
      if (reply === 'stall') {
        stalled.add(res);
        return;
      }
      const text = reply.text ?? JSON.stringify(reply.json);
      res.writeHead(reply.status ?? 200, {
        'content-type': reply.text === undefined ? 'application/json' : 'text/html',
        connection: 'close',
        ...reply.headers,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scripted: ScriptedServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    methods: () => received.map((r) => r.body.method),
    close: async () => {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  toClose.push(scripted);
  return scripted;
}

/** A well-behaved trytond for login and device cookies; `call` scripts the rest. */
function tryton(call: (request: Received, nth: number) => Reply) {
  return (request: Received, nth: number): Reply => {
    const ok = (result: unknown): Reply => ({ json: { id: request.body.id, result } });
    if (request.body.method === 'common.db.login') return ok([7, 'a'.repeat(64), 'bus-url']);
    if (request.body.method === 'model.res.user.device.renew') return ok(`cookie-${nth}`);
    return call(request, nth);
  };
}

function newClient(
  url: string,
  overrides: Partial<TrytonConfig> = {},
  logger = silent,
): TrytonClient {
  const client = createTrytonClient(
    {
      rpcUrl: url,
      database: 'db',
      user: 'svc',
      password: 'secret-password',
      // Out of reach of a loaded machine's pauses: a test of a timeout sets a short one on a
      // server that never answers.
      timeoutMs: 10_000,
      loginTimeoutMs: 10_000,
      retries: 2,
      sessionTtlSeconds: 3_600,
      models: [],
      allowedMethods: [],
      maxSearchLimit: 1_000,
      maxResponseBytes: 1_048_576,
      cacheTtlSeconds: 0,
      cacheMaxBytes: 262_144,
      cacheMaxTtlSeconds: 3_600,
      cacheMaxEntries: 10_000,
      cacheMaxTotalBytes: 67_108_864,
      cacheAllowNoEviction: false,
      ...overrides,
    },
    { logger, retryBaseDelayMs: 5 },
  );
  toClose.push(client);
  return client;
}

describe('tryton client wire format', () => {
  it('sends exactly {id, method, params}, increasing ids, a Content-Length, no Origin', async () => {
    const server = await scriptedServer(tryton((r) => ({ json: { id: r.body.id, result: 3 } })));
    const client = newClient(server.url);
    await client.call('model.party.party.search_count', [[], {}]);
    await client.call('model.party.party.search_count', [[], {}]);
    for (const request of server.received) {
      expect(Object.keys(request.body).sort()).toEqual(['id', 'method', 'params']);
      expect(request.headers['content-length']).toBeDefined();
      expect(request.headers['transfer-encoding']).toBeUndefined();
      expect(request.headers.origin).toBeUndefined();
      expect(request.url).toBe('/db/');
    }
    const ids = server.received.map((r) => r.body.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(server.received[0]?.body.params).toEqual(['svc', { password: 'secret-password' }, 'en']);
    const call = server.received.find((r) => r.body.method === 'model.party.party.search_count');
    expect(call?.headers.authorization).toBe(
      `Session ${Buffer.from(`svc:7:${'a'.repeat(64)}`).toString('base64')}`,
    );
    expect(call?.body.params).toEqual([[], {}]);
  });

  it('sends the device cookie on the next login', async () => {
    const server = await scriptedServer(
      tryton((r, nth) =>
        r.body.method === 'model.x.read' && nth === 1
          ? { status: 401, text: '' }
          : { json: { id: r.body.id, result: [] } },
      ),
    );
    const client = newClient(server.url);
    await client.call('model.x.read', [[1], ['name'], {}]);
    const logins = server.received.filter((r) => r.body.method === 'common.db.login');
    expect(logins.map((r) => r.body.params[1])).toEqual([
      { password: 'secret-password' },
      { password: 'secret-password', device_cookie: 'cookie-1' },
    ]);
  });

  it('rejects an answer whose id does not match the request', async () => {
    const server = await scriptedServer(tryton(() => ({ json: { id: 999_999, result: 1 } })));
    await expect(
      newClient(server.url).call('model.x.search_count', [[], {}]),
    ).rejects.toBeInstanceOf(TrytonProtocolError);
  });

  it('turns an HTML 500 into a TrytonProtocolError, not retried', async () => {
    const server = await scriptedServer(
      tryton(() => ({
        status: 500,
        text: '<title>500</title><p>Value after * must be an iterable, not NoneType</p>',
      })),
    );
    const error = await newClient(server.url)
      .call('model.x.read', [[1], [], {}])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrytonProtocolError);
    expect(error).toMatchObject({
      httpStatus: 500,
      message: expect.stringContaining('must be an iterable') as string,
    });
    expect(server.methods().filter((m) => m === 'model.x.read')).toHaveLength(1);
  });
});

describe('tryton client retries', () => {
  it('replays a read that timed out once at most: trytond still runs the first', async () => {
    const server = await scriptedServer(
      tryton((r, nth) => (nth <= 1 ? 'stall' : { json: { id: r.body.id, result: [1, 2] } })),
    );
    // Long enough for the second try's answer, whatever the machine's load; the first stalls.
    const client = newClient(server.url, { timeoutMs: 2_000 });
    expect(await client.call('model.party.party.search', [[], 0, null, null, {}])).toEqual([1, 2]);
    expect(server.methods().filter((m) => m === 'model.party.party.search')).toHaveLength(2);
    expect(client.stats()).toMatchObject({ retries: 1, logins: 1, calls: { ok: 1 } });

    const stalling = await scriptedServer(tryton(() => 'stall'));
    const patient = newClient(stalling.url, { retries: 5, timeoutMs: 200 });
    await expect(
      patient.call('model.party.party.search', [[], 0, null, null, {}]),
    ).rejects.toMatchObject({
      code: 'TRYTON_TIMEOUT',
    });
    expect(stalling.methods().filter((m) => m === 'model.party.party.search')).toHaveLength(2);
  });

  it('cuts an answer over maxResponseBytes while it streams, with a typed error', async () => {
    let sentBytes = 0;
    let finished = false;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (sentBytes < 50 * 1024 * 1024) {
            sentBytes += chunk.byteLength;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          finished = true;
          res.end();
        };
        res.on('close', () => res.removeAllListeners('drain'));
        pump();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    toClose.push({
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    });
    const client = newClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
      maxResponseBytes: 256 * 1024,
    });
    const error = await client.ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrytonResponseTooLargeError);
    expect(error).toMatchObject({ code: 'TRYTON_RESPONSE_TOO_LARGE', retryable: false });
    expect(finished).toBe(false);
  });

  it('never replays a write after a timeout: it may have committed', async () => {
    const server = await scriptedServer(tryton(() => 'stall'));
    const client = newClient(server.url, { timeoutMs: 200 });
    const error = await client
      .call('model.party.party.create', [[{ name: 'x' }], {}])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrytonTimeoutError);
    expect(server.methods().filter((m) => m === 'model.party.party.create')).toHaveLength(1);
    expect(client.stats().calls).toEqual({ TRYTON_TIMEOUT: 1 });
  });

  it('gives up after `retries` on a read that keeps timing out', async () => {
    const server = await scriptedServer(tryton(() => 'stall'));
    const client = newClient(server.url, { retries: 1, timeoutMs: 200 });
    await expect(client.call('model.party.party.search_count', [[], {}])).rejects.toMatchObject({
      code: 'TRYTON_TIMEOUT',
    });
    expect(server.methods().filter((m) => m === 'model.party.party.search_count')).toHaveLength(2);
  });

  it('retries a 503 from a proxy for reads', async () => {
    const server = await scriptedServer(
      tryton((r, nth) =>
        nth === 1 ? { status: 503, text: 'busy' } : { json: { id: r.body.id, result: 5 } },
      ),
    );
    expect(await newClient(server.url).call('model.x.search_count', [[], {}])).toBe(5);
  });

  it('retries a refused connection (never sent) even for a write, then fails typed', async () => {
    const server = await scriptedServer(() => ({ json: null }));
    const url = server.url;
    await server.close();
    const client = newClient(url, { retries: 2 });
    const error = await client.call('model.x.create', [[{}], {}]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrytonNetworkError);
    expect(error).toMatchObject({
      code: 'TRYTON_NETWORK',
      requestSent: false,
      method: 'common.db.login',
    });
    // One login attempt per try: 1 + 2 retries, all refused.
    expect(client.stats()).toMatchObject({ logins: 3, retries: 2 });
  });

  it('stops at once when the caller aborts', async () => {
    const server = await scriptedServer(tryton(() => 'stall'));
    // A timeout no test reaches: only the abort can end the call.
    const client = newClient(server.url, { timeoutMs: 3_600_000 });
    const controller = new AbortController();
    const pending = client.call('model.x.search_count', [[], {}], { signal: controller.signal });
    await new Promise<void>((resolve) => {
      const check = () =>
        server.methods().includes('model.x.search_count') ? resolve() : setImmediate(check);
      check();
    });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(TrytonAbortedError);
  });
});

describe('tryton client logins', () => {
  it('a 429 is a TrytonAuthError and further logins fail fast without a request', async () => {
    const server = await scriptedServer((r) =>
      r.body.method === 'common.db.login'
        ? { status: 429, text: '<title>429 Too Many Requests</title>' }
        : { json: { id: r.body.id, result: 0 } },
    );
    const client = newClient(server.url);
    const first = await client.call('model.x.search_count', [[], {}]).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(TrytonAuthError);
    expect(first).toMatchObject({ code: 'TRYTON_AUTH_RATE_LIMITED', retryable: false });
    await expect(client.call('model.x.search_count', [[], {}])).rejects.toMatchObject({
      code: 'TRYTON_AUTH_RATE_LIMITED',
    });
    expect(server.methods()).toEqual(['common.db.login']);
  });

  it('a LoginException asking for another parameter is a TrytonAuthError naming it', async () => {
    const server = await scriptedServer((r) => ({
      json: { id: r.body.id, error: ['LoginException', ['sms_code', 'SMS code', 'char']] },
    }));
    await expect(
      newClient(server.url).call('model.x.search_count', [[], {}]),
    ).rejects.toMatchObject({
      name: 'TrytonAuthError',
      code: 'TRYTON_AUTH_PARAMETER_REQUIRED',
      message: expect.stringContaining('sms_code') as string,
    });
  });

  it('a database trytond cannot open is TRYTON_UNKNOWN_DATABASE, whichever way the series says it', async () => {
    // 6.0 on PostgreSQL (test/tryton/ meets the SQLite and 7.0 answers on real servers).
    const server = await scriptedServer(() => ({
      status: 404,
      text: '<title>404 Not Found</title><p>The requested URL was not found on the server.</p>',
    }));
    await expect(
      newClient(server.url).call('model.x.search_count', [[], {}]),
    ).rejects.toMatchObject({
      name: 'TrytonAuthError',
      code: 'TRYTON_UNKNOWN_DATABASE',
      retryable: false,
      message: expect.stringContaining('"db" (TRYTON_DATABASE)') as string,
    });
    expect(server.methods()).toEqual(['common.db.login']);
  });

  it('still 401 right after a fresh login is TRYTON_SESSION_REJECTED, without a loop', async () => {
    const server = await scriptedServer(tryton(() => ({ status: 401, text: '' })));
    const client = newClient(server.url);
    await expect(client.call('model.x.search_count', [[], {}])).rejects.toMatchObject({
      code: 'TRYTON_SESSION_REJECTED',
    });
    expect(server.methods().filter((m) => m === 'common.db.login')).toHaveLength(2);
  });
});

describe('tryton client RPC paths', () => {
  type Layout = 'root' | 'rpc';
  const KEY = 'b'.repeat(64);
  /**
   * trytond of the series that serves `layout()` (docs/tryton.md §1): 8.0 answers 405 on 7.0's
   * paths; 7.0 answers 405 on `/<db>/rpc/` and 401 on `/rpc/` (a database named "rpc").
   */
  function servedAt(layout: () => Layout, login: unknown[] = [7, KEY, null]) {
    return (request: Received, nth: number): Reply => {
      const rpc = request.url.endsWith('/rpc/');
      if (rpc !== (layout() === 'rpc')) {
        return request.url === '/rpc/'
          ? { status: 401, text: '' }
          : { status: 405, text: '<title>405 Method Not Allowed</title>' };
      }
      const ok = (result: unknown): Reply => ({ json: { id: request.body.id, result } });
      if (request.body.method === 'common.db.login') return ok(login);
      if (request.body.method === 'model.res.user.device.renew') return ok(`cookie-${nth}`);
      if (request.body.method === 'common.server.version') return ok(rpc ? '8.0' : '7.0.30');
      return ok(3);
    };
  }
  const sent = (server: ScriptedServer) => server.received.map((r) => `${r.body.method} ${r.url}`);

  it("finds 8.0's paths from one 405, remembers them, and logs in once", async () => {
    const server = await scriptedServer(servedAt(() => 'rpc'));
    const client = newClient(server.url);
    expect(await client.call('model.party.party.search_count', [[], {}])).toBe(3);
    expect(await client.call('model.party.party.search_count', [[], {}])).toBe(3);
    expect(await client.ping()).toMatchObject({ version: '8.0' });
    expect(sent(server)).toEqual([
      'common.db.login /db/',
      'common.server.version /',
      'common.server.version /rpc/',
      'common.db.login /db/rpc/',
      'model.res.user.device.renew /db/rpc/',
      'model.party.party.search_count /db/rpc/',
      'model.party.party.search_count /db/rpc/',
      'common.server.version /rpc/',
    ]);
    expect(client.stats()).toMatchObject({ logins: 1, loginFailures: 0, calls: { ok: 2 } });
  });

  it('100 concurrent first calls share one lookup and one login', async () => {
    const server = await scriptedServer(servedAt(() => 'rpc'));
    const client = newClient(server.url);
    const counts = await Promise.all(
      Array.from({ length: 100 }, () => client.call('model.party.party.search_count', [[], {}])),
    );
    expect(counts).toEqual(Array.from({ length: 100 }, () => 3));
    expect(server.methods().filter((m) => m === 'common.server.version')).toHaveLength(2);
    expect(sent(server).filter((m) => m.startsWith('common.db.login'))).toEqual([
      'common.db.login /db/',
      'common.db.login /db/rpc/',
    ]);
    expect(sent(server).filter((m) => m.endsWith(' /db/'))).toHaveLength(1);
  });

  it('follows an upgrade under a running client (and a downgrade back), with a warning', async () => {
    let layout: Layout = 'root';
    const server = await scriptedServer(servedAt(() => layout));
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', pretty: false }, { write: (l) => lines.push(l) });
    const client = newClient(server.url, {}, logger);
    expect(await client.call('model.x.search_count', [[], {}])).toBe(3);
    expect(sent(server).filter((m) => m.includes('version'))).toEqual([]);
    layout = 'rpc';
    expect(await client.call('model.x.search_count', [[], {}])).toBe(3);
    expect(await client.call('common.server.version')).toBe('8.0');
    layout = 'root';
    expect(await client.ping()).toMatchObject({ version: '7.0.30' });
    expect(await client.call('model.x.search_count', [[], {}])).toBe(3);
    expect(sent(server).slice(3)).toEqual([
      'model.x.search_count /db/',
      'common.server.version /',
      'common.server.version /rpc/',
      'model.x.search_count /db/rpc/',
      'common.server.version /rpc/',
      'common.server.version /rpc/',
      'common.server.version /',
      'common.server.version /',
      'model.x.search_count /db/',
    ]);
    // The session outlived the move: one login, never a second.
    expect(client.stats()).toMatchObject({ logins: 1, sessionRejections: 0 });
    const moves = lines.filter((line) => line.includes('moved its JSON-RPC paths'));
    expect(moves.map((line) => (JSON.parse(line) as { paths: string[] }).paths)).toEqual([
      ['/rpc/', '/db/rpc/'],
      ['/', '/db/'],
    ]);
    expect(lines.join('')).not.toContain(KEY);
    expect(lines.join('')).not.toContain('secret-password');
  });

  it('405 on every path fails typed after one lookup, never a loop', async () => {
    const server = await scriptedServer(() => ({ status: 405, text: '<title>405</title>' }));
    const client = newClient(server.url, { retries: 3 });
    const error = await client.call('model.x.search_count', [[], {}]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrytonRpcPathError);
    expect(error).toMatchObject({
      code: 'TRYTON_RPC_PATH',
      retryable: false,
      httpStatus: 405,
      paths: ['/', '/rpc/'],
    });
    expect(sent(server)).toEqual([
      'common.db.login /db/',
      'common.server.version /',
      'common.server.version /rpc/',
    ]);
  });

  it('405 where the lookup finds the paths just used fails typed, without a replay', async () => {
    const server = await scriptedServer((request) =>
      request.url === '/'
        ? { json: { id: request.body.id, result: '7.0.30' } }
        : { status: 405, text: '<title>405</title>' },
    );
    const error = await newClient(server.url)
      .call('common.db.list', [])
      .then(() => newClient(server.url).call('model.x.search_count', [[], {}]))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRYTON_RPC_PATH', paths: ['/db/'] });
    expect(sent(server)).toEqual([
      'common.db.list /',
      'common.db.login /db/',
      'common.server.version /',
    ]);
  });

  it.each([
    ['[user id, key] (6.0)', [7, KEY]],
    ['[user id, key, null] (8.0)', [7, KEY, null]],
    ['[user id, key, bus URL] (7.0)', [7, KEY, 'http://bus']],
  ])('reads a login answered %s', async (_shape, login) => {
    const server = await scriptedServer(servedAt(() => 'root', login));
    const client = newClient(server.url);
    expect(await client.call('model.x.search_count', [[], {}])).toBe(3);
    const call = server.received.find((r) => r.body.method === 'model.x.search_count');
    expect(call?.headers.authorization).toBe(
      `Session ${Buffer.from(`svc:7:${KEY}`).toString('base64')}`,
    );
  });
});
