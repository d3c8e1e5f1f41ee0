/**
 * `ODOO_PROTOCOL=auto` (the default) against the sandbox playing each Odoo series: the client
 * reads the version once without credentials, by the route that series has, and chooses JSON-RPC
 * below 19, JSON-2 on 19 with an API key (no `/xmlrpc` nor `/jsonrpc` call at all), and JSON-RPC
 * with one deprecation warning on 19 with a password only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createOdooClient, type OdooClient } from '../../src/clients/odoo/index.js';
import { loadConfig } from '../../src/config/config.js';
import type { OdooSandboxOptions } from '../../dev/sandbox/odoo-sandbox.js';
import { memoryLogger } from '../helpers/test-app.js';
import { startSandbox, type SandboxHarness } from './sandbox-harness.js';
import { CODE_FAMILIES } from '../../src/families/registry.js';

const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

let harness: SandboxHarness | undefined;
let client: OdooClient | undefined;

afterEach(async () => {
  await client?.close();
  await harness?.close();
  client = undefined;
  harness = undefined;
});

/** A client built the way the worker builds it: from the environment, ODOO_PROTOCOL unset. */
async function clientFor(
  sandboxOptions: OdooSandboxOptions,
  env: Record<string, string>,
): Promise<{ odoo: OdooClient; harness: SandboxHarness; lines: string[] }> {
  harness = await startSandbox({ orders: 7, ...sandboxOptions });
  const { sandbox } = harness;
  const config = loadConfig(
    {
      DATABASE_URL: 'postgres://unused@127.0.0.1/unused',
      REDIS_URL: 'redis://127.0.0.1:1',
      ODOO_URL: sandbox.url,
      ODOO_DATABASE: sandbox.database,
      ODOO_USERNAME: sandbox.username,
      ...env,
    },
    { mode: 'production', role: 'worker', codeFamilies: CODE_FAMILIES },
  );
  const { lines, logger } = memoryLogger('info');
  client = createOdooClient(config.odoo!, { logger });
  return { odoo: client, harness, lines };
}

const countBcs = (odoo: OdooClient) =>
  odoo.searchCount('dimagaz.bc', [], { context: { active_test: false } });

describe('ODOO_PROTOCOL unset (auto)', () => {
  it('reads an Odoo 17.0 over JSON-RPC, its version from /web/webclient/version_info', async () => {
    const { odoo, harness: h } = await clientFor(
      { serverVersion: '17.0' },
      { ODOO_PASSWORD: 'sandbox-secret' },
    );
    expect(await countBcs(odoo)).toBe(7);
    expect(odoo.chosenTransport()).toMatchObject({
      protocol: 'jsonrpc',
      requested: 'auto',
      serverVersion: '17.0',
      reason: expect.stringContaining('no JSON-2'),
    });
    const { control } = h.sandbox;
    expect(control.countCalls({ service: 'web', method: 'version_info' })).toBe(1);
    expect(control.countCalls({ protocol: 'xmlrpc' })).toBe(0);
    expect(control.countCalls({ protocol: 'json2' })).toBe(0);
  });

  it('reads an Odoo 18.0 over JSON-RPC, its version from /web/version', async () => {
    const { odoo, harness: h } = await clientFor(
      { serverVersion: '18.0', apiKeys: [{ key: KEY }] },
      { ODOO_API_KEY: KEY },
    );
    expect(await countBcs(odoo)).toBe(7);
    expect(odoo.chosenTransport()).toMatchObject({ protocol: 'jsonrpc', serverVersion: '18.0' });
    expect(h.sandbox.control.countCalls({ service: 'web', method: 'version' })).toBe(1);
    expect(h.sandbox.control.countCalls({ service: 'web', method: 'version_info' })).toBe(0);
    // The key stands in for the password on JSON-RPC.
    expect(h.sandbox.keys.info(KEY)?.uses).toBeGreaterThan(0);
  });

  it('reads an Odoo 19.0 with an API key over JSON-2 only: no call to /xmlrpc or /jsonrpc', async () => {
    const {
      odoo,
      harness: h,
      lines,
    } = await clientFor({ serverVersion: '19.0', apiKeys: [{ key: KEY }] }, { ODOO_API_KEY: KEY });
    // Concurrent first calls share one version read.
    expect(await Promise.all([countBcs(odoo), countBcs(odoo), countBcs(odoo)])).toEqual([7, 7, 7]);
    expect(await odoo.search('dimagaz.bc', [], { limit: 2, order: 'id' })).toHaveLength(2);
    expect(odoo.chosenTransport()).toMatchObject({ protocol: 'json2', serverVersion: '19.0' });
    const { control } = h.sandbox;
    expect(control.countCalls({ protocol: 'xmlrpc' })).toBe(0);
    expect(control.countCalls({ protocol: 'jsonrpc' })).toBe(0);
    expect(control.calls().every((call) => call.protocol === 'json2')).toBe(true);
    expect(control.countCalls({ service: 'web', method: 'version' })).toBe(1);
    expect(lines.join('')).not.toContain('deprecated');
    expect(lines.join('')).toContain('Odoo transport chosen');
  });

  it('on Odoo 19.0 with a password only: JSON-RPC, and one warning that says how to move to a key', async () => {
    const {
      odoo,
      harness: h,
      lines,
    } = await clientFor({ serverVersion: '19.0' }, { ODOO_PASSWORD: 'sandbox-secret' });
    await Promise.all([countBcs(odoo), countBcs(odoo)]);
    await countBcs(odoo);
    expect(odoo.chosenTransport()?.protocol).toBe('jsonrpc');
    expect(h.sandbox.control.countCalls({ protocol: 'xmlrpc' })).toBe(0);
    const warnings = lines.filter((line) => line.includes('"level":40'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('deprecated');
    expect(warnings[0]).toContain('ODOO_API_KEY');
    expect(warnings[0]).toContain('New API Key');
  });

  it('an explicit protocol is used as is, without reading the version', async () => {
    const { odoo, harness: h } = await clientFor(
      { serverVersion: '19.0' },
      { ODOO_PASSWORD: 'sandbox-secret', ODOO_PROTOCOL: 'xmlrpc' },
    );
    expect(await countBcs(odoo)).toBe(7);
    expect(odoo.chosenTransport()).toEqual({
      protocol: 'xmlrpc',
      requested: 'xmlrpc',
      reason: 'ODOO_PROTOCOL=xmlrpc',
    });
    expect(h.sandbox.control.countCalls({ service: 'web' })).toBe(0);
  });
});
