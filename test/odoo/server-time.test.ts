/**
 * Odoo's clock as its answers give it (the HTTP `Date` header): the sync's settled stamps rely on
 * it (docs/sync.md). The sandbox stamps its answers with its own clock, set or real.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../dev/sandbox/sandbox-time.js';
import { PROTOCOLS, useSandbox, type SandboxHarness } from './sandbox-harness.js';

const clock = createManualClock(new Date('2026-03-02T08:00:00.700Z'));
let harness: SandboxHarness;
useSandbox({ orders: 3, linesPerOrder: 1, clock: clock.source }, (started) => (harness = started));

describe.each(PROTOCOLS)('serverTime over %s', (protocol) => {
  it('is unknown before any answer, then Odoo’s clock to the second', async () => {
    const client = harness.client(protocol);
    expect(client.serverTime()).toBeUndefined();
    const wholeSecond = () => new Date(Math.floor(clock.nowMicros() / 1_000_000) * 1_000);
    await client.search('dimagaz.bc', []);
    expect(client.serverTime()).toEqual(wholeSecond());
    clock.advanceMs(61_000);
    await client.search('dimagaz.bc', []);
    expect(client.serverTime()).toEqual(wholeSecond());
    expect(client.serverTime()!.getUTCMilliseconds()).toBe(0);
  });
});
