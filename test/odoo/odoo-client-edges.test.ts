/**
 * The Odoo client against odd Odoos (the sandbox over real HTTP): one without the deprecated RPC
 * endpoints, and a record that breaks whoever touches it.
 */
import { describe, expect, it } from 'vitest';
import {
  expectOdooError,
  rejectionOf,
  startSandbox,
  useSandbox,
  type SandboxHarness,
} from './sandbox-harness.js';

const PASSWORD = 'pw-Tr3s-Secret-4711';

let harness: SandboxHarness;

useSandbox(
  { orders: 120, linesPerOrder: 3, seed: 42, password: PASSWORD },
  (started) => (harness = started),
  ({ sandbox }) => {
    sandbox.control.clearFaults();
    sandbox.control.resetCalls();
    sandbox.control.setPassword(PASSWORD);
  },
);

describe('an Odoo without the deprecated RPC endpoints', () => {
  it('fails fast on XML-RPC and JSON-RPC with a 404, while JSON-2 works', async () => {
    const modern = await startSandbox({ orders: 5, deprecatedRpc: false });
    try {
      const xmlError = expectOdooError(
        await rejectionOf(modern.client('xmlrpc', { retries: 3 }).authenticate()),
        'ODOO_HTTP',
        false,
      );
      expect(xmlError.httpStatus).toBe(404);
      expect(xmlError.message).toContain('HTML page (HTTP 404)');
      const jsonError = expectOdooError(
        await rejectionOf(modern.client('jsonrpc', { retries: 3 }).authenticate()),
        'ODOO_HTTP',
        false,
      );
      expect(jsonError.httpStatus).toBe(404);
      expect(modern.sandbox.control.countCalls({ protocol: 'jsonrpc' })).toBe(1);
      expect(
        await modern
          .client('json2')
          .searchCount('dimagaz.bc', [], { context: { active_test: false } }),
      ).toBe(5);
    } finally {
      await modern.close();
    }
  });
});

describe('a record that breaks whoever touches it', () => {
  it('fails the calls that read or return that BC (and, if asked, its lines), and only those', async () => {
    const { sandbox } = harness;
    sandbox.control.clearFaults();
    const client = harness.client('xmlrpc', { retries: 0 });
    const context = { active_test: false };
    const rule = sandbox.control.injectFault({
      kind: 'fault',
      faultCode: 2,
      message: 'BC 42 is corrupt',
      recordId: 42,
      includeLines: true,
      times: Infinity,
    });
    try {
      const page = client.searchRead('dimagaz.bc', [['id', '>', 30]], {
        fields: ['name'],
        order: 'id',
        limit: 20,
        context,
      });
      expectOdooError(await rejectionOf(page), 'ODOO_USER_ERROR', false);
      expectOdooError(
        await rejectionOf(client.read('dimagaz.bc', [42], ['name'])),
        'ODOO_USER_ERROR',
        false,
      );
      expectOdooError(
        await rejectionOf(client.search('dimagaz.bc', [['id', '=', 42]], { context })),
        'ODOO_USER_ERROR',
        false,
      );
      const lines = client.searchRead('dimagaz.bc.line', [['bc_id', 'in', [41, 42]]], {
        fields: ['bc_id'],
        order: 'id',
        load: '',
      });
      expectOdooError(await rejectionOf(lines), 'ODOO_USER_ERROR', false);
      expect(
        await client.searchRead('dimagaz.bc', [['id', '>', 42]], {
          fields: ['name'],
          order: 'id',
          limit: 5,
          context,
        }),
      ).toHaveLength(5);
      expect(await client.read('dimagaz.bc', [41, 43], ['name'])).toHaveLength(2);
      expect(
        (
          await client.searchRead('dimagaz.bc.line', [['bc_id', '=', 41]], {
            fields: ['bc_id'],
            order: 'id',
          })
        ).length,
      ).toBeGreaterThan(0);
      expect(rule.triggered).toBe(4);
    } finally {
      rule.remove();
    }
    expect(await client.read('dimagaz.bc', [42], ['name'])).toHaveLength(1);
  });
});
