/**
 * Whether the sync user may read a model, asked as each series answers it: Odoo 17 has only
 * `check_access_rights`; 18 and 19 add `has_access` and log a DeprecationWarning at each call of
 * `check_access_rights` (seen on a real 19.0.0: "deprecated since 18.0"). The client asks
 * `has_access` from 18 on, on every transport, whether it chose the transport from the server's
 * version or was told it, so Odoo's log stays clean — and Odoo 20, which removed
 * `check_access_rights`, answers it; the sandbox plays each series so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OdooProtocol } from '../../src/clients/odoo/odoo-types.js';
import type { SandboxSeries } from '../../dev/sandbox/sandbox-rpc-services.js';
import { startSandbox, type SandboxHarness } from './sandbox-harness.js';

const DEPRECATED = /check_access_rights\(\) is deprecated since 18\.0/;
let harness: SandboxHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function sandboxOf(series: SandboxSeries): Promise<SandboxHarness> {
  harness = await startSandbox({ serverVersion: series, apiKeys: [{ key: 'a'.repeat(40) }] });
  harness.sandbox.control.denyRead({ model: 'res.partner' });
  return harness;
}

describe('the access check', () => {
  const cases: [SandboxSeries, OdooProtocol | 'auto', string][] = [
    ['17.0', 'auto', 'check_access_rights'],
    ['17.0', 'xmlrpc', 'check_access_rights'],
    ['18.0', 'auto', 'has_access'],
    ['18.0', 'xmlrpc', 'has_access'],
    ['19.0', 'auto', 'has_access'],
    ['19.0', 'jsonrpc', 'has_access'],
    ['19.0', 'json2', 'has_access'],
    ['20.0', 'auto', 'has_access'],
    ['20.0', 'jsonrpc', 'has_access'],
    ['20.0', 'json2', 'has_access'],
  ];
  it.each(cases)(
    'on Odoo %s over %s asks %s, and Odoo logs no warning',
    async (series, protocol, method) => {
      const { sandbox } = await sandboxOf(series);
      const odoo = harness!.client('jsonrpc', {
        protocol,
        ...(Number.parseFloat(series) >= 19 ? { apiKey: 'a'.repeat(40) } : {}),
      });
      expect(await odoo.canRead('dimagaz.bc')).toBe(true);
      expect(await odoo.canRead('res.partner')).toBe(false);
      expect(sandbox.control.countCalls({ method })).toBe(2);
      expect(sandbox.control.warnings()).toEqual([]);
      // The series is read once, whether to choose the transport or for this check alone.
      expect(
        sandbox.control.countCalls({ service: 'web', method: 'version' }) +
          sandbox.control.countCalls({ service: 'web', method: 'version_info' }),
      ).toBe(1);
    },
  );

  it('is answered by the sandbox as each series does: 17 has no has_access, 18 and 19 warn on the old one, 20 has no old one', async () => {
    for (const series of ['17.0', '18.0', '19.0', '20.0'] as const) {
      const { sandbox } = await sandboxOf(series);
      const odoo = harness!.client('jsonrpc');
      const hasAccess = odoo.executeKw('res.partner', 'has_access', [[], 'read']);
      if (series === '17.0')
        await expect(hasAccess).rejects.toMatchObject({
          message: expect.stringContaining("The method 'res.partner.has_access' does not exist"),
        });
      else expect(await hasAccess).toBe(false);
      const checkAccessRights = odoo.executeKw('res.partner', 'check_access_rights', ['read'], {
        raise_exception: false,
      });
      if (series === '20.0')
        await expect(checkAccessRights).rejects.toMatchObject({
          message: expect.stringContaining(
            "The method 'res.partner.check_access_rights' does not exist",
          ),
        });
      else expect(await checkAccessRights).toBe(false);
      expect(sandbox.control.warnings().filter((line) => DEPRECATED.test(line))).toHaveLength(
        series === '17.0' || series === '20.0' ? 0 : 1,
      );
      await harness!.close();
      harness = undefined;
    }
  });
});
