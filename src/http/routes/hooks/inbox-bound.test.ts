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

  it('admits again once a count shows the inbox drained, 5 s later', async () => {
    const { keep, inbox, advance } = setUp(2);
    await keep('acme');
    await keep('acme');
    inbox.set('acme', 0);
    expect((await keep('acme')).admitted).toBe(false);
    advance(4_999);
    expect((await keep('acme')).admitted).toBe(false);
    advance(1);
    expect(await keep('acme')).toEqual({ admitted: true, events: 0 });
  });

  it('counts below the bound once a minute, and sees what other processes kept then', async () => {
    const { keep, inbox, advance, counts } = setUp(10);
    await keep('acme');
    advance(59_999);
    await keep('acme');
    expect(counts()).toBe(1);
    // Another API process kept 8 meanwhile.
    inbox.set('acme', 10);
    advance(1);
    expect(await keep('acme')).toEqual({ admitted: false, events: 10 });
    expect(counts()).toBe(2);
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
