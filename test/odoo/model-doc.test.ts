/**
 * Schema refreshes for less on Odoo 19: over JSON-2, `storedFields` reads
 * `/doc-bearer/<model>.json` and revalidates it with `If-None-Match` (a 304 while nothing
 * changed) when the sync user may read the documentation, instead of `fields_get` each time; it
 * gives what `fields_get` gives, sees a field a module added, and falls back to `fields_get`
 * when the user may not (said once, asked once) or on another transport.
 */
import { describe, expect, it } from 'vitest';
import { PROTOCOLS, startSandbox, useSandbox, type SandboxHarness } from './sandbox-harness.js';

let harness: SandboxHarness;
useSandbox(
  { orders: 3, linesPerOrder: 1, docAccess: true },
  (started) => (harness = started),
  ({ sandbox }) => {
    sandbox.control.resetCalls();
    sandbox.setDocAccess(true);
  },
);

const docCalls = (filter: { model?: string } = {}) =>
  harness.sandbox.control.countCalls({ service: 'web', method: 'doc', ...filter });
const fieldsGetCalls = () => harness.sandbox.control.countCalls({ method: 'fields_get' });

describe('storedFields on JSON-2', () => {
  it('reads the documentation once, then revalidates it: the same fields, no fields_get', async () => {
    const client = harness.client('json2');
    const first = await client.storedFields('dimagaz.bc');
    expect(first.map((field) => field.name)).toContain('write_date');
    expect(first.find((field) => field.name === 'partner_id')).toEqual({
      name: 'partner_id',
      type: 'many2one',
      relation: 'res.partner',
    });
    const again = await client.storedFields('dimagaz.bc');
    expect(again).toEqual(first);
    expect(docCalls({ model: 'dimagaz.bc' })).toBe(2);
    // The second call carried the first answer's ETag: the sandbox answered 304.
    expect(
      harness.sandbox.control
        .calls()
        .filter((call) => call.method === 'doc' && call.modelMethod === 'if-none-match'),
    ).toEqual([expect.objectContaining({ count: 1 })]);
    expect(fieldsGetCalls()).toBe(0);
    // What fields_get says, field for field.
    expect(await harness.client('jsonrpc').storedFields('dimagaz.bc')).toEqual(first);
  });

  it('sees a field a module added (the ETag changed)', async () => {
    const client = harness.client('json2');
    const before = await client.storedFields('dimagaz.bc.line');
    harness.sandbox.control.addField('dimagaz.bc.line', {
      name: 'x_lot',
      type: 'char',
      string: 'Lot',
      store: true,
    });
    const after = await client.storedFields('dimagaz.bc.line');
    expect(after.map((field) => field.name)).toEqual(
      [...before.map((field) => field.name), 'x_lot'].sort(),
    );
  });

  it('falls back to fields_get when the user may not read the documentation, and asks it once', async () => {
    harness.sandbox.setDocAccess(false);
    const client = harness.client('json2');
    const fields = await client.storedFields('dimagaz.bc');
    await client.storedFields('dimagaz.bc');
    await client.storedFields('res.partner');
    expect(fields.map((field) => field.name)).toContain('write_date');
    expect(docCalls()).toBe(1);
    expect(fieldsGetCalls()).toBe(3);
  });

  it('an unknown model is still a user error, and the documentation stays in use', async () => {
    const client = harness.client('json2');
    await expect(client.storedFields('no.such.model')).rejects.toMatchObject({
      code: 'ODOO_USER_ERROR',
    });
    await client.storedFields('dimagaz.bc');
    expect(fieldsGetCalls()).toBe(1);
    expect(docCalls({ model: 'dimagaz.bc' })).toBe(1);
  });
});

describe.each(PROTOCOLS.filter((protocol) => protocol !== 'json2'))(
  'storedFields over %s',
  (protocol) => {
    it('asks fields_get: the documentation needs the bearer key', async () => {
      await harness.client(protocol).storedFields('dimagaz.bc');
      expect(docCalls()).toBe(0);
      expect(fieldsGetCalls()).toBe(1);
    });
  },
);

describe('an Odoo without the documentation route (18.0)', () => {
  it('answers from fields_get', async () => {
    const old = await startSandbox({ orders: 1, serverVersion: '18.0' });
    try {
      const fields = await old.client('jsonrpc').storedFields('dimagaz.bc');
      expect(fields.length).toBeGreaterThan(5);
      expect(old.sandbox.control.countCalls({ method: 'doc' })).toBe(0);
    } finally {
      await old.close();
    }
  });
});
