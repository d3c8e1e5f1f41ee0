/**
 * The values the fleet shares for a while (src/stores/shared-values.ts), and the feed's
 * nudge flags on them (src/queues/feed-nudge.ts), on each store: a value lives until its time is
 * up and no longer, an expired one leaves nothing behind, and of several processes taking a
 * flag at once exactly one gets it. Expiry is the store's own clock, read until it says so; no
 * assertion races it (a value read as present has a lifetime no stall of the machine reaches).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNudgeFlags } from '../../src/queues/feed-nudge.js';
import { createSharedValues } from '../../src/stores/shared-values.js';
import {
  createSharedStateFixture,
  SHARED_STATE_KINDS,
  type SharedStateFixture,
} from '../helpers/shared-state.js';

describe.each(SHARED_STATE_KINDS)('shared values in %s', (kind) => {
  let fixture: SharedStateFixture;
  beforeEach(async () => {
    fixture = await createSharedStateFixture(kind);
  });
  afterEach(() => fixture.dispose());

  it('keep a value for its time, another process reading it, and not after', async () => {
    const writer = createSharedValues((await fixture.connect()).shared);
    const reader = createSharedValues((await fixture.connect()).shared);
    // A lifetime no pause of a loaded machine between two reads comes near: the read is not a
    // race against the store's clock.
    await writer.set('kept', '42', 60_000);
    expect(await reader.get('kept')).toBe('42');
    // Kept for its time as the store counts it: milliseconds, never seconds or none.
    const lifetimeMs = await fixture.lifetimeMs('kept');
    expect(lifetimeMs).toBeGreaterThan(0);
    expect(lifetimeMs).toBeLessThanOrEqual(60_000);
    // And not after: once its time is up, whenever the next read comes, it is gone for all.
    await writer.set('short', '43', 1);
    while ((await reader.get('short')) !== undefined);
    expect(await reader.take('short')).toBeUndefined();
    expect(await writer.get('short')).toBeUndefined();
    expect(await reader.get('kept')).toBe('42');
    // Written again, it lives again; deleted, it is gone.
    await writer.set('short', '44', 60_000);
    expect(await reader.get('short')).toBe('44');
    await reader.delete('short');
    expect(await writer.get('short')).toBeUndefined();
  });

  it('leave nothing behind once their time is up', async () => {
    const values = createSharedValues((await fixture.connect()).shared);
    await values.set('first', '1', 50);
    while ((await values.get('first')) !== undefined);
    await values.set('second', '2', 60_000);
    const contents = await fixture.contents();
    expect(contents).toHaveLength(1);
    expect(contents[0]).toMatch(/second$/);
  });

  it('give a nudge flag to exactly one of twenty takers in four processes', async () => {
    const processes = await Promise.all([1, 2, 3, 4].map(() => fixture.connect()));
    const flags = processes.map((process) => createNudgeFlags(process.shared));
    for (let round = 0; round < 10; round += 1) {
      await flags[round % 4]!.set(7);
      const taken = await Promise.all(
        flags.flatMap((flag) => [1, 2, 3, 4, 5].map(() => flag.take(7))),
      );
      expect(taken.filter(Boolean)).toHaveLength(1);
    }
    expect(await flags[0]!.take(7)).toBe(false);
    // One subscription's flag is its own.
    await flags[0]!.set(8);
    expect(await flags[1]!.take(7)).toBe(false);
    expect(await flags[1]!.take(8)).toBe(true);
  });
});
