/**
 * The Tryton client against real trytond servers of each series (6.0 and 7.0; 8.0 through
 * `npm run test:tryton8`): the RPC paths, sessions, single-flight re-login, errors, timeouts,
 * secrets kept out of logs and errors, exact special values.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrytonConfig } from '../../src/config/config.js';
import { createTrytonClient, type TrytonClient } from '../../src/clients/tryton/tryton-client.js';
import {
  TrytonDate,
  TrytonDateTime,
  TrytonDecimal,
} from '../../src/clients/tryton/tryton-codec.js';
import {
  TrytonAuthError,
  TrytonRPCError,
  TrytonTimeoutError,
} from '../../src/clients/tryton/tryton-errors.js';
import {
  startTrytond,
  TRYTOND_SERIES,
  TRYTOND_START_TIMEOUT_MS,
  missingRecordsMessage,
  seriesVersion,
  trytonConfigFor,
  type Trytond,
} from '../helpers/trytond.js';
import { createCapturedLogger } from './capture-logger.js';
import { createRecordingDispatcher } from './recording-dispatcher.js';
import { modelOf } from '../helpers/tryton-model.js';

/**
 * A call among 100 at once waits for the 99 others on a single trytond: on a loaded machine (two
 * cores kept busy) that took past the suite's 10 s, and a call that times out is retried with a
 * login of its own. These tests wait only for answers that will come: generous bounds (the
 * session tests' describe has the test's).
 */
const CONCURRENT_CALL_TIMEOUT_MS = 120_000;
const CONCURRENT_TEST_TIMEOUT_MS = 300_000;

describe.each(TRYTOND_SERIES)('the Tryton client against trytond %s', (series) => {
  let trytond: Trytond;
  const opened: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    trytond = await startTrytond({ series });
  }, TRYTOND_START_TIMEOUT_MS);

  afterAll(async () => {
    for (const resource of opened.reverse()) await resource.close();
    await trytond?.stop();
  });

  function configFor(server: Trytond, overrides: Partial<TrytonConfig> = {}): TrytonConfig {
    return trytonConfigFor(server, { retries: 2, ...overrides });
  }

  function newClient(overrides: Partial<TrytonConfig> = {}, now?: () => number) {
    const recorder = createRecordingDispatcher();
    const log = createCapturedLogger();
    const client = createTrytonClient(configFor(trytond, overrides), {
      logger: log.logger,
      dispatcher: recorder.dispatcher,
      ...(now ? { now } : {}),
    });
    opened.push(recorder, client);
    return { client, recorder, log };
  }

  /** The session key inside a `Session base64(login:uid:key)` header. */
  function sessionKeyOf(authorization: string): string {
    const decoded = Buffer.from(authorization.replace(/^Session /, ''), 'base64').toString('utf8');
    return decoded.split(':')[2] ?? '';
  }

  function everythingAbout(error: unknown): string {
    const parts: string[] = [];
    let current: unknown = error;
    for (let depth = 0; current && depth < 10; depth++) {
      const e = current as Error & Record<string, unknown>;
      parts.push(
        String(e.message),
        String(e.stack),
        JSON.stringify(e, Object.getOwnPropertyNames(e)),
      );
      current = e.cause;
    }
    return parts.join('\n');
  }

  async function logoutOnServer(authorization: string): Promise<void> {
    const body = JSON.stringify({ id: 1, method: 'common.db.logout', params: [] });
    const response = await request(trytond.databaseRpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body,
    });
    expect(await response.body.json()).toEqual({ id: 1, result: null });
  }

  describe('session', { timeout: CONCURRENT_TEST_TIMEOUT_MS }, () => {
    it('logs in once, reads the seeded parties, and reuses the session for 20 calls', async () => {
      const { client, recorder } = newClient();
      const parties = await modelOf(client, 'party.party').searchRead([], ['name', 'code'], {
        order: [['id', 'ASC']],
      });
      expect(parties).toEqual(trytond.parties.map(({ id, name, code }) => ({ id, name, code })));

      for (let i = 0; i < 19; i++) {
        expect(await modelOf(client, 'party.party').searchCount([['code', '=', 'ACME']])).toBe(1);
      }
      expect(recorder.count('common.db.login')).toBe(1);
      expect(recorder.count('model.party.party.search_count')).toBe(19);
      expect(client.stats()).toMatchObject({
        logins: 1,
        loginFailures: 0,
        sessionRejections: 0,
        calls: { ok: 20 },
      });
      const authorization = recorder.lastAuthorization() ?? '';
      expect(authorization).toMatch(/^Session /);
      expect(Buffer.from(authorization.slice(8), 'base64').toString()).toMatch(
        /^admin:1:[0-9a-f]{64}$/,
      );
      // 8.0 refuses 7.0's paths (405) once, before anything runs; then every call goes to its own.
      const refused = recorder.requests.filter((request) => request.status === 405);
      expect(refused.map((request) => `${request.method} ${request.path}`)).toEqual(
        series === '8.0'
          ? [`common.db.login /${trytond.database}/`, 'common.server.version /']
          : [],
      );
      const paths = [trytond.serverRpcUrl, trytond.databaseRpcUrl].map(
        (url) => new URL(url).pathname,
      );
      const taken = recorder.requests.filter((request) => request.status !== 405);
      expect(new Set(taken.map((request) => request.path))).toEqual(
        new Set(series === '8.0' ? paths : paths.slice(1)),
      );
    });

    it('answers common.server.version through ping and call, without a session', async () => {
      const { client, recorder } = newClient();
      const ping = await client.ping();
      expect(ping.version).toMatch(seriesVersion(series));
      expect(ping.latencyMs).toBeGreaterThanOrEqual(0);
      expect(await client.call('common.server.version')).toBe(ping.version);
      expect(recorder.count('common.db.login')).toBe(0);
    });

    it('after the server dropped the session, 100 concurrent calls all succeed with exactly 1 login', async () => {
      const { client, recorder } = newClient({ timeoutMs: CONCURRENT_CALL_TIMEOUT_MS });
      const party = modelOf(client, 'party.party');
      expect(await party.searchCount([])).toBe(trytond.parties.length);
      await logoutOnServer(recorder.lastAuthorization() ?? '');
      const loginsBefore = recorder.count('common.db.login');

      const counts = await Promise.all(Array.from({ length: 100 }, () => party.searchCount([])));
      expect(counts).toEqual(Array.from({ length: 100 }, () => trytond.parties.length));
      expect(recorder.count('common.db.login') - loginsBefore).toBe(1);
      expect(client.stats().logins).toBe(loginsBefore + 1);
      expect(client.stats().sessionRejections).toBeGreaterThanOrEqual(1);
    });

    it('100 concurrent calls meeting a session past its TTL share exactly 1 login', async () => {
      let offsetMs = 0;
      // Only the client's clock moves: the server and its sessions are real.
      const { client, recorder } = newClient(
        { sessionTtlSeconds: 60, timeoutMs: CONCURRENT_CALL_TIMEOUT_MS },
        () => Date.now() + offsetMs,
      );
      const party = modelOf(client, 'party.party');
      expect(await party.searchCount([])).toBe(trytond.parties.length);
      offsetMs = 61_000;

      const counts = await Promise.all(Array.from({ length: 100 }, () => party.searchCount([])));
      expect(counts).toEqual(Array.from({ length: 100 }, () => trytond.parties.length));
      expect(recorder.count('common.db.login')).toBe(2);
      expect(client.stats()).toMatchObject({ logins: 2, sessionRejections: 0 });
    });

    it('renews the session proactively once it is older than the TTL', async () => {
      let offsetMs = 0;
      // Only the client's clock moves: the server and its sessions are real.
      const { client, recorder } = newClient(
        { sessionTtlSeconds: 60 },
        () => Date.now() + offsetMs,
      );
      await modelOf(client, 'party.party').searchCount([]);
      offsetMs = 59_000;
      await modelOf(client, 'party.party').searchCount([]);
      expect(recorder.count('common.db.login')).toBe(1);
      offsetMs = 61_000;
      await modelOf(client, 'party.party').searchCount([]);
      expect(recorder.count('common.db.login')).toBe(2);
      expect(client.stats().sessionRejections).toBe(0);
    });
  });

  describe('errors', () => {
    let client: TrytonClient;
    beforeAll(() => {
      client = newClient().client;
    });

    it("turns a UserError into a TrytonRPCError with Tryton's message", async () => {
      const duplicate = client.call('model.party.party.create', [
        [{ name: 'Acme again', code: 'ACME' }],
        {},
      ]);
      await expect(duplicate).rejects.toBeInstanceOf(TrytonRPCError);
      await expect(duplicate).rejects.toMatchObject({
        code: 'TRYTON_USER_ERROR',
        errorName: 'UserError',
        retryable: false,
        message: 'The code on party must be unique.',
      });
      await expect(modelOf(client, 'party.party').read([9999], ['name'])).rejects.toMatchObject({
        code: 'TRYTON_USER_ERROR',
        message: missingRecordsMessage(series, '9999', 'Party'),
      });
    });

    it('types a method Tryton refuses over RPC (403) and an unknown model', async () => {
      await expect(
        client.call('model.party.party.get_rec_name', [[1], 'x', {}]),
      ).rejects.toMatchObject({
        name: 'TrytonRPCError',
        code: 'TRYTON_FORBIDDEN_METHOD',
        httpStatus: 403,
      });
      await expect(
        client.call('model.no.such.model.search', [[], 0, null, null, {}]),
      ).rejects.toMatchObject({
        code: 'TRYTON_SERVER_ERROR',
        message: "'no.such.model'",
      });
      await expect(client.call('common.db.logout', [])).rejects.toMatchObject({
        code: 'TRYTON_FORBIDDEN_METHOD',
      });
    });

    it('names a database the server does not have: TRYTON_UNKNOWN_DATABASE after one login, on every series', async () => {
      // 6.0 answers 404 (PostgreSQL) or a missing-file error (SQLite); 7.0 an error about
      // put_connection, whatever the backend; 8.0 a 404 on SQLite.
      const { client: wrong, recorder } = newClient({ database: 'no_such_database' });
      const failure = wrong.call('model.party.party.search_count', [[], {}]);
      await expect(failure).rejects.toBeInstanceOf(TrytonAuthError);
      await expect(failure).rejects.toMatchObject({
        code: 'TRYTON_UNKNOWN_DATABASE',
        retryable: false,
        message: expect.stringMatching(/database "no_such_database".*TRYTON_DATABASE/),
      });
      expect(recorder.count('common.db.login')).toBe(1);
    });

    describe('a stalled server (accepts, never answers)', () => {
      let stalled: Server;
      let url: string;
      let connections = 0;
      const sockets = new Set<Socket>();

      beforeAll(async () => {
        stalled = createServer((socket) => {
          connections += 1;
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.resume();
        });
        await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
        const address = stalled.address();
        url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      });

      afterAll(async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => stalled.close(() => resolve()));
      });

      it('fails with TrytonTimeoutError in about the timeout, and never replays a login', async () => {
        connections = 0;
        const { client: stalledClient } = newClient({
          rpcUrl: url,
          timeoutMs: 300,
          loginTimeoutMs: 400,
        });
        const startedAt = performance.now();
        const error = await modelOf(stalledClient, 'party.party')
          .searchCount([])
          .catch((e: unknown) => e);
        const elapsedMs = performance.now() - startedAt;
        expect(error).toBeInstanceOf(TrytonTimeoutError);
        expect(error).toMatchObject({
          code: 'TRYTON_TIMEOUT',
          timeoutMs: 400,
          method: 'common.db.login',
        });
        // Not before its timeout; after it, however late a loaded machine runs the timer (a
        // client that never timed out would leave the test to its own timeout).
        expect(elapsedMs).toBeGreaterThanOrEqual(350);
        expect(connections).toBe(1);
      });

      it('times out a ping too', async () => {
        const { client: stalledClient } = newClient({ rpcUrl: url, timeoutMs: 300 });
        await expect(stalledClient.ping()).rejects.toBeInstanceOf(TrytonTimeoutError);
      });
    });
  });

  describe('special values round-trip exactly', () => {
    let client: TrytonClient;
    beforeAll(() => {
      client = newClient().client;
    });

    it('Decimal: the exact text reaches the server (1.0850 is not 1.085)', async () => {
      // No Numeric field exists in party/country/ir/res, so the proof is a domain: SQLite compares
      // the Decimal's text with a Char field, which only matches if no digit was lost or added.
      const ids = await client.call<number[]>('model.party.party.create', [
        [{ name: '1.0850' }, { name: '1.085' }],
        {},
      ]);
      const party = modelOf(client, 'party.party');
      expect(
        await party.searchRead([['name', '=', new TrytonDecimal('1.0850')]], ['name']),
      ).toEqual([{ id: ids[0], name: '1.0850' }]);
      expect(await party.searchRead([['name', '=', new TrytonDecimal('1.085')]], ['name'])).toEqual(
        [{ id: ids[1], name: '1.085' }],
      );
    });

    it('datetime: create_date keeps its microseconds, and finds its record again', async () => {
      const party = modelOf(client, 'party.party');
      const [record] = await party.read([trytond.parties[0]?.id ?? 1], ['create_date']);
      const createDate = record?.create_date;
      expect(createDate).toBeInstanceOf(TrytonDateTime);
      const exact = createDate as TrytonDateTime;
      expect(await party.search([['create_date', '=', exact]])).toContain(record?.id);
      const offByOne = new TrytonDateTime({
        ...exact,
        microsecond: (exact.microsecond + 1) % 1_000_000,
      });
      expect(await party.search([['create_date', '=', offByOne]])).not.toContain(record?.id);
    });

    it('datetime written and read back (ir.cron next_call, a second-precision field)', async () => {
      const at = new TrytonDateTime({
        year: 2031,
        month: 12,
        day: 31,
        hour: 23,
        minute: 59,
        second: 58,
      });
      const [cron] = await modelOf(client, 'ir.cron').search([], { limit: 1 });
      await client.call('model.ir.cron.write', [[cron], { next_call: at }, {}]);
      const [read] = await modelOf(client, 'ir.cron').read([cron ?? 0], ['next_call']);
      expect(read?.next_call).toEqual(at);
    });

    it('date: ir.date.today decodes, and a date in a domain arrives exactly', async () => {
      const today = await client.call('model.ir.date.today', [{}]);
      expect(today).toBeInstanceOf(TrytonDate);
      expect((today as TrytonDate).toISOString()).toBe(new Date().toISOString().slice(0, 10));
      const [id] = await client.call<number[]>('model.party.party.create', [
        [{ name: '2024-01-31' }],
        {},
      ]);
      const found = await modelOf(client, 'party.party').search([
        ['name', '=', new TrytonDate({ year: 2024, month: 1, day: 31 })],
      ]);
      expect(found).toEqual([id]);
    });

    it('bytes: every byte value survives an ir.attachment write and read', async () => {
      const data = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const [id] = await client.call<number[]>('model.ir.attachment.create', [
        [
          {
            name: 'all-bytes.bin',
            resource: `party.party,${trytond.parties[0]?.id ?? 1}`,
            type: 'data',
            data,
          },
        ],
        {},
      ]);
      const [read] = await modelOf(client, 'ir.attachment').read([id ?? 0], ['data', 'data_size']);
      expect(read?.data_size).toBe(256);
      expect(Buffer.isBuffer(read?.data)).toBe(true);
      expect(Buffer.compare(read?.data as Buffer, data)).toBe(0);
    });
  });

  // Last in the file, wrong password last: failed logins count against (login, device cookie) for
  // `[session] timeout` and make trytond delay the next logins of that bucket.
  describe('credentials', () => {
    it('a working session: neither the password nor the session key reach a log line or an error', async () => {
      const { client, recorder, log } = newClient();
      await modelOf(client, 'party.party').searchCount([]);
      const firstHeader = recorder.lastAuthorization() ?? '';
      await logoutOnServer(firstHeader);
      await modelOf(client, 'party.party').searchCount([]);
      const secondHeader = recorder.lastAuthorization() ?? '';
      const errors = [
        await client
          .call('model.party.party.create', [[{ name: 'x', code: 'ACME' }], {}])
          .catch((e: unknown) => e),
        await client
          .call('model.party.party.get_rec_name', [[1], 'x', {}])
          .catch((e: unknown) => e),
      ];
      const secrets = [
        trytond.password,
        sessionKeyOf(firstHeader),
        sessionKeyOf(secondHeader),
        firstHeader.slice(8),
        secondHeader.slice(8),
      ];
      expect(secrets.every((secret) => secret.length > 10)).toBe(true);
      expect(log.lines.length).toBeGreaterThan(0);
      for (const secret of secrets) {
        expect(log.text()).not.toContain(secret);
        for (const error of errors) expect(everythingAbout(error)).not.toContain(secret);
      }
      expect(JSON.stringify(client.stats())).not.toContain(trytond.password);
    });

    it('wrong password: TrytonAuthError after exactly one attempt per call, nothing secret anywhere', async () => {
      const wrongPassword = 'Wr0ng-Pa55word-Zx9';
      const { client, recorder, log } = newClient({ password: wrongPassword });
      const first = await modelOf(client, 'party.party')
        .searchCount([])
        .catch((e: unknown) => e);
      expect(first).toBeInstanceOf(TrytonAuthError);
      expect(first).toMatchObject({
        code: 'TRYTON_AUTH_FAILED',
        retryable: false,
        httpStatus: 401,
      });
      expect(recorder.count('common.db.login')).toBe(1);
      const second = await modelOf(client, 'party.party')
        .searchCount([])
        .catch((e: unknown) => e);
      expect(second).toMatchObject({ code: 'TRYTON_AUTH_FAILED' });
      expect(recorder.count('common.db.login')).toBe(2);
      expect(client.stats()).toMatchObject({ logins: 2, loginFailures: 2 });

      for (const error of [first, second])
        expect(everythingAbout(error)).not.toContain(wrongPassword);
      expect(log.text()).not.toContain(wrongPassword);
    });
  });
});
