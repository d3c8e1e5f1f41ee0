import { describe, expect, it } from 'vitest';
import { generateSandboxData } from './sandbox-data.js';
import { SandboxStore } from './sandbox-store.js';
import { marshalResponse } from './xmlrpc-marshaller.js';

describe('sandbox store reads', () => {
  const store = new SandboxStore();
  generateSandboxData(store, {
    orders: 60,
    linesPerOrder: 4,
    seed: 5,
    nowMicros: Date.parse('2025-05-01T00:00:00Z') * 1000,
    username: 'sync',
  });
  store.write(
    'dimagaz.bc.line',
    [3],
    { sequence: 2 ** 32, name: 'x & <y> \u0002' },
    { uid: 2, nowMicros: Date.parse('2025-05-01T00:00:00Z') * 1000 },
  );

  it('marshals record lists from the rows exactly as it would marshal the read records', () => {
    for (const model of ['dimagaz.bc', 'dimagaz.bc.line', 'res.partner']) {
      const ids = [...(store.table(model)?.ids ?? [])];
      for (const fields of [[], ['name', 'id', 'write_date', 'display_name']]) {
        for (const load of ['_classic_read', '']) {
          const list = store.readList(model, ids, fields, load);
          const plain = store.read(model, ids, fields, load);
          expect(marshalResponse(list)).toBe(marshalResponse(plain));
          expect(JSON.stringify(list)).toBe(JSON.stringify(plain));
        }
      }
    }
  });

  it('keeps the order of the ids asked for and drops missing ones', () => {
    expect(store.readList('dimagaz.bc', [5, 999, 2], ['name']).ids).toEqual([5, 2]);
  });
});
