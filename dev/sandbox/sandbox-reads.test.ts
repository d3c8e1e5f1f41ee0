import { describe, expect, it } from 'vitest';
import { generateSandboxData } from './sandbox-data.js';
import { readContextOf, SandboxStore } from './sandbox-store.js';
import { marshalResponse } from './xmlrpc-marshaller.js';

describe('sandbox reads of every model', () => {
  const store = new SandboxStore();
  generateSandboxData(store, {
    orders: 30,
    linesPerOrder: 2,
    partners: 60,
    moves: 20,
    linesPerMove: 3,
    cylinders: 50,
    seed: 8,
    nowMicros: Date.parse('2025-05-01T00:00:00Z') * 1000,
    username: 'sync',
  });

  it('marshals record lists from the rows exactly as it would marshal the read records', () => {
    for (const model of store.models()) {
      const ids = [...(store.table(model)?.ids ?? [])];
      for (const context of [{}, { lang: 'fr_FR' }, { bin_size: true }]) {
        for (const load of ['_classic_read', '']) {
          const list = store.readList(model, ids, [], load, readContextOf(context));
          const plain = list.toJSON();
          expect(marshalResponse(list), `${model} ${load} ${JSON.stringify(context)}`).toBe(
            marshalResponse(plain),
          );
        }
      }
    }
  });

  it('reads every generated record of every model without a value XML-RPC cannot carry', () => {
    for (const model of store.models()) {
      const ids = [...(store.table(model)?.ids ?? [])];
      expect(() => marshalResponse(store.readList(model, ids, []))).not.toThrow();
    }
  });

  it("leaves a child a record rule hides out of its root's one2many, as Odoo's search as the user does", () => {
    const [bc] = store.readList('dimagaz.bc', [1], ['line_ids'], '', readContextOf({})).toJSON();
    const [hidden, shown] = bc!.line_ids as number[];
    store.hide('dimagaz.bc.line', [hidden!], true);
    try {
      const asUser = store.readList('dimagaz.bc', [1], ['line_ids'], '', readContextOf({}));
      expect(asUser.toJSON()[0]!.line_ids).toEqual([shown]);
      // The sandbox's own read (its control's) still lists it.
      const own = store.read('dimagaz.bc', [1], ['line_ids'], '', { ignoreRules: true });
      expect(own[0]!.line_ids).toEqual([hidden, shown]);
    } finally {
      store.hide('dimagaz.bc.line', [hidden!], false);
    }
    expect(
      store.readList('dimagaz.bc', [1], ['line_ids'], '', readContextOf({})).toJSON()[0]!.line_ids,
    ).toEqual([hidden, shown]);
  });
});
