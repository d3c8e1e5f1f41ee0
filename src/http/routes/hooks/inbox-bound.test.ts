import { describe, expect, it } from 'vitest';
import { createInboxBound } from './inbox-bound.js';

describe('a source’s bound in the webhook inbox', () => {
  /** The inbox as the bound counts it, and a clock the test moves. */
  function setUp(maxEvents: number) {
    const inbox = new Map<string, number>();
    let nowMs = 0;
    let counts = 0;
    const bound = createInboxBound({
      maxEvents,
      count: (source, cap) => {
        counts += 1;
        return Promise.resolve(Math.min(inbox.get(source) ?? 0, cap));
      },
      now: () => nowMs,
    });
    const keep = async (source: string) => {
      const room = await bound.admit(source);
      if (room.admitted) {
        inbox.set(source, (inbox.get(source) ?? 0) + 1);
        bound.kept(source);
      }
      return room;
    };
    return {
      bound,
      inbox,
      keep,
      advance: (ms: number) => (nowMs += ms),
      counts: () => counts,
    };
  }

  it('refuses past the bound what it kept itself, before it counts again', async () => {
    const { keep, counts } = setUp(2);
    expect(await keep('acme')).toEqual({ admitted: true, events: 0 });
    expect(await keep('acme')).toEqual({ admitted: true, events: 1 });
    expect(await keep('acme')).toEqual({ admitted: false, events: 2 });
    expect(counts()).toBe(1);
  });

  it('admits again once a count shows the inbox drained, a second later', async () => {
    const { keep, inbox, advance } = setUp(2);
    await keep('acme');
    await keep('acme');
    inbox.set('acme', 0);
    expect((await keep('acme')).admitted).toBe(false);
    advance(1_000);
    expect(await keep('acme')).toEqual({ admitted: true, events: 0 });
  });

  it('counts each source apart: one full never refuses another', async () => {
    const { keep } = setUp(1);
    expect((await keep('acme')).admitted).toBe(true);
    expect((await keep('acme')).admitted).toBe(false);
    expect((await keep('default')).admitted).toBe(true);
  });

  it('counts once for requests that come together', async () => {
    const { bound, counts } = setUp(5);
    await Promise.all([bound.admit('acme'), bound.admit('acme'), bound.admit('acme')]);
    expect(counts()).toBe(1);
  });
});
