/**
 * A login shared with later processes (src/clients/odoo/login-memo.ts): a fresh client that finds
 * a remembered uid calls Odoo without logging in; a remembered uid Odoo refuses costs one real
 * login, shared by every call that met it, never a lockout; a wrong password is still refused.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it, inject } from 'vitest';
import {
  createOdooClient,
  createRedisLoginMemo,
  type OdooClient,
  type OdooProtocol,
} from '../../src/clients/odoo/index.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import {
  expectOdooError,
  loginCalls,
  rejectionOf,
  silentLogger,
  useSandbox,
  type SandboxHarness,
} from './sandbox-harness.js';

let harness: SandboxHarness;
useSandbox(
  { orders: 20, linesPerOrder: 2, seed: 5 },
  (started) => (harness = started),
  ({ sandbox }) => {
    sandbox.control.clearFaults();
    sandbox.control.resetCalls();
    sandbox.control.resetLoginFailures();
  },
);

let redis: Redis;
let prefix: string;
const clients: OdooClient[] = [];
beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
beforeEach(() => {
  prefix = `memo-${randomBytes(4).toString('hex')}`;
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await redis.quit();
});

/** A client as a new process builds it: nothing in memory, the memo in Redis. */
function freshClient(protocol: OdooProtocol, password = harness.sandbox.password): OdooClient {
  const { sandbox } = harness;
  const login = { url: sandbox.url, database: sandbox.database, username: sandbox.username };
  const client = createOdooClient(
    { ...login, password, protocol, timeoutMs: 10_000, retries: 0 },
    { logger: silentLogger, loginMemo: createRedisLoginMemo(redis, prefix, login) },
  );
  clients.push(client);
  return client;
}

const countBcs = (client: OdooClient) =>
  client.search(BC_MODEL, [], { context: { active_test: false } });

describe.each(['xmlrpc', 'jsonrpc'] as const)('the login memo over %s', (protocol) => {
  it('a second process calls Odoo with the first one’s uid, without logging in', async () => {
    const { sandbox } = harness;
    expect(await countBcs(freshClient(protocol))).toHaveLength(20);
    expect(loginCalls(sandbox, protocol)).toBe(1);
    expect(await redis.keys(`${prefix}:odoo-uid:*`)).toHaveLength(1);

    sandbox.control.resetCalls();
    expect(await countBcs(freshClient(protocol))).toHaveLength(20);
    expect(loginCalls(sandbox, protocol)).toBe(0);
    expect(sandbox.control.countCalls({ protocol })).toBe(1);
  });

  it('a remembered uid Odoo refuses: 20 concurrent calls share one real login, then succeed', async () => {
    const { sandbox } = harness;
    await countBcs(freshClient(protocol));
    const [key] = await redis.keys(`${prefix}:odoo-uid:*`);
    await redis.set(key!, '999');
    sandbox.control.resetCalls();

    const client = freshClient(protocol);
    const answers = await Promise.all(Array.from({ length: 20 }, () => countBcs(client)));
    expect(answers.every((ids) => ids.length === 20)).toBe(true);
    expect(loginCalls(sandbox, protocol)).toBe(1);
    expect(await redis.get(key!)).not.toBe('999');
  });

  it('a wrong password is refused even with a remembered uid, after one login attempt', async () => {
    const { sandbox } = harness;
    await countBcs(freshClient(protocol));
    sandbox.control.resetCalls();

    const error = await rejectionOf(countBcs(freshClient(protocol, 'not-the-password')));
    expectOdooError(error, 'ODOO_AUTH', false);
    expect(loginCalls(sandbox, protocol)).toBe(1);
  });
});
