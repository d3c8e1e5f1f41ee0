import { describe, expect, it } from 'vitest';
import { generateSandboxData } from './sandbox-data.js';
import { createSandboxReplica } from './sandbox-replica.js';
import { SandboxStore } from './sandbox-store.js';

const START_MICROS = Date.parse('2026-03-02T08:00:00Z') * 1000;

function setUp() {
  let now = START_MICROS;
  const store = new SandboxStore({ nowMicros: () => now });
  generateSandboxData(store, {
    orders: 3,
    linesPerOrder: 2,
    seed: 5,
    nowMicros: now,
    username: 'sync',
  });
  const replica = createSandboxReplica(store, { nowMicros: () => now, lagMs: 5_000 });
  const tx = () => ({ uid: 2, nowMicros: now });
  const advanceMs = (ms: number) => {
    now += ms * 1000;
  };
  const names = () =>
    replica
      .readStore()
      .read('dimagaz.bc', [1], ['origin'])
      .map((record) => record.origin);
  return { store, replica, tx, advanceMs, names };
}

describe('sandbox read replica', () => {
  it('shows each commit once the lag has passed, in commit order', () => {
    const { store, tx, advanceMs, names } = setUp();
    const before = names();
    store.write('dimagaz.bc', [1], { origin: 'first' }, tx());
    advanceMs(2_000);
    store.write('dimagaz.bc', [1], { origin: 'second' }, tx());
    expect(names()).toEqual(before);
    advanceMs(3_000);
    expect(names()).toEqual(['first']);
    advanceMs(2_000);
    expect(names()).toEqual(['second']);
  });

  it('shows a commit whole or not at all, and new records only once replayed', () => {
    const { store, replica, tx, advanceMs } = setUp();
    const id = store.atomically(() => {
      const [created] = store.create('dimagaz.bc.line', [{ bc_id: 1, name: 'new line' }], tx());
      store.write('dimagaz.bc', [1], { origin: 'with a new line' }, tx());
      return created as number;
    });
    expect(replica.readStore().search('dimagaz.bc.line', [['id', '=', id]])).toEqual([]);
    advanceMs(5_000);
    const read = replica.readStore();
    expect(read.search('dimagaz.bc.line', [['id', '=', id]])).toEqual([id]);
    expect(read.read('dimagaz.bc', [1], ['origin'])[0]?.origin).toBe('with a new line');
  });

  it('serves the primary once the lag is 0, and starts from the present when turned on again', () => {
    const { store, replica, tx, advanceMs, names } = setUp();
    store.write('dimagaz.bc', [1], { origin: 'pending' }, tx());
    replica.setLagMs(0);
    expect(replica.readStore()).toBe(store);
    expect(names()).toEqual(['pending']);
    replica.setLagMs(1_000);
    store.write('dimagaz.bc', [1], { origin: 'later' }, tx());
    expect(names()).toEqual(['pending']);
    advanceMs(1_000);
    expect(names()).toEqual(['later']);
  });
});
