import { describe, expect, it } from 'vitest';
import { chooseTransport } from './transport-choice.js';

const version = (info: Array<number | string>, text: string) => ({
  serverVersion: text,
  versionInfo: info,
});
const password = { hasApiKey: false, password: 'a password' };
const key = { hasApiKey: true, password: 'a password' };

describe('the transport ODOO_PROTOCOL=auto chooses', () => {
  it('JSON-RPC below 19, whatever the credentials', () => {
    expect(chooseTransport(version([17, 0, 0, 'final', 0], '17.0'), key).protocol).toBe('jsonrpc');
    expect(
      chooseTransport(version(['saas~18', 4, 0, 'final', 0, ''], 'saas~18.4'), key),
    ).toMatchObject({
      protocol: 'jsonrpc',
      serverVersion: 'saas~18.4',
    });
  });

  it('JSON-2 on 19 and later with an API key, silently', () => {
    const choice = chooseTransport(version([19, 0, 0, 'final', 0, ''], '19.0'), key);
    expect(choice).toMatchObject({ protocol: 'json2', requested: 'auto' });
    expect(choice.deprecationWarning).toBeUndefined();
    expect(
      chooseTransport(version(['saas~19', 2, 0, 'final', 0, ''], 'saas~19.2'), key).protocol,
    ).toBe('json2');
  });

  it('JSON-RPC on 19 with a password only, with the warning that says how to move to a key', () => {
    const choice = chooseTransport(version([19, 0, 0, 'final', 0, ''], '19.0'), password);
    expect(choice.protocol).toBe('jsonrpc');
    expect(choice.deprecationWarning).toMatch(/deprecated.*ODOO_API_KEY/s);
    expect(choice.deprecationWarning).not.toContain('looks like an API key');
    const keyAsPassword = { hasApiKey: false, password: 'ab'.repeat(20) };
    expect(chooseTransport(version([19, 0], '19.0'), keyAsPassword).deprecationWarning).toContain(
      'ODOO_PASSWORD looks like an API key',
    );
  });

  it('JSON-RPC for a version it cannot read', () => {
    expect(chooseTransport(version([], ''), key)).toMatchObject({
      protocol: 'jsonrpc',
      serverVersion: 'unknown',
    });
  });
});
