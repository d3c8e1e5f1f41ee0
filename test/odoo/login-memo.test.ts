/**
 * A login shared with later processes (src/clients/odoo/login-memo.ts), in each store of the
 * fleet's shared state: a fresh client that finds a remembered uid calls Odoo without logging in;
 * a remembered uid Odoo refuses costs one real login, shared by every call that met it, never a
 * lockout; a wrong password is still refused.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLoginMemo,
  type OdooClient,
  type OdooProtocol,
  createOdooClient,
} from '../../src/clients/odoo/index.js';
import { BC_MODEL } from '../../src/families/bcs/family.js';
import { createSharedValues, type SharedValues } from '../../src/stores/shared-values.js';
import {
  createSharedStateFixture,
  SHARED_STATE_KINDS,
  type SharedStateFixture,
} from '../helpers/shared-state.js';
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

const clients: OdooClient[] = [];
let fixture: SharedStateFixture;
let values: SharedValues;
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
});

/** A client as a new process builds it: nothing in memory, the memo in the shared state. */
function freshClient(protocol: OdooProtocol, password = harness.sandbox.password): OdooClient {
  const { sandbox } = harness;
  const login = { url: sandbox.url, database: sandbox.database, username: sandbox.username };
  const client = createOdooClient(
    { ...login, password, protocol, timeoutMs: 10_000, retries: 0 },
    { logger: silentLogger, loginMemo: createLoginMemo(values, login) },
  );
  clients.push(client);
  return client;
}

/** The memo's keys in the store. */
async function memoKeys(): Promise<string[]> {
  return (await fixture.contents())
    .map((line) => /odoo-uid:\w+$/.exec(line)?.[0])
    .filter((key) => key !== undefined);
}

const countBcs = (client: OdooClient) =>
  client.search(BC_MODEL, [], { context: { active_test: false } });

describe.each(
  SHARED_STATE_KINDS.flatMap((kind) =>
    (['xmlrpc', 'jsonrpc'] as const).map((protocol) => ({ kind, protocol })),
  ),
)('the login memo in $kind over $protocol', ({ kind, protocol }) => {
  beforeEach(async () => {
    fixture = await createSharedStateFixture(kind);
    values = createSharedValues((await fixture.connect()).shared);
  });
  afterEach(() => fixture.dispose());

  it('a second process calls Odoo with the first one’s uid, without logging in', async () => {
    const { sandbox } = harness;
    expect(await countBcs(freshClient(protocol))).toHaveLength(20);
    expect(loginCalls(sandbox, protocol)).toBe(1);
    expect(await memoKeys()).toHaveLength(1);

    sandbox.control.resetCalls();
    expect(await countBcs(freshClient(protocol))).toHaveLength(20);
    expect(loginCalls(sandbox, protocol)).toBe(0);
    expect(sandbox.control.countCalls({ protocol })).toBe(1);
  });

  it('a remembered uid Odoo refuses: 20 concurrent calls share one real login, then succeed', async () => {
    const { sandbox } = harness;
    await countBcs(freshClient(protocol));
    const [key] = await memoKeys();
    await values.set(key!, '999', 60_000);
    sandbox.control.resetCalls();

    const client = freshClient(protocol);
    const answers = await Promise.all(Array.from({ length: 20 }, () => countBcs(client)));
    expect(answers.every((ids) => ids.length === 20)).toBe(true);
    expect(loginCalls(sandbox, protocol)).toBe(1);
    expect(await values.get(key!)).toMatch(/^[1-9]\d*$/);
    expect(await values.get(key!)).not.toBe('999');
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
