import { describe, expect, it, vi } from 'vitest';
import { createSourceSlots } from './source-slots.js';

/** A job that runs until `finish` is called. */
function job() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { done, finish };
}

describe("a worker's slots shared by its sources", () => {
  it('run no more jobs of a kind at once than the process has slots, whatever the sources', async () => {
    const slots = createSourceSlots((kind) => (kind === 'sync-page' ? 2 : 1));
    const running = new Set<string>();
    let most = 0;
    const jobs = new Map<string, ReturnType<typeof job>>();
    const started = (name: string) =>
      slots.run('sync-page', async () => {
        running.add(name);
        most = Math.max(most, running.size);
        const own = job();
        jobs.set(name, own);
        await own.done;
        running.delete(name);
      });
    const all = ['a1', 'a2', 'a3', 'b1', 'b2'].map(started);
    await Promise.resolve();
    expect([...running]).toEqual(['a1', 'a2']);
    // Another kind has slots of its own.
    await expect(slots.run('sync-webhook', () => Promise.resolve('hook'))).resolves.toBe('hook');
    for (const name of ['a1', 'a2', 'a3', 'b1', 'b2']) {
      await vi.waitFor(() => expect(jobs.has(name)).toBe(true));
      jobs.get(name)!.finish();
    }
    await Promise.all(all);
    expect(most).toBe(2);
  });

  it('give a slot to the job taken first: a source taken after another is not passed over', async () => {
    const slots = createSourceSlots(() => 1);
    const order: string[] = [];
    const first = job();
    const holding = slots.run('sync-page', async () => {
      order.push('a1');
      await first.done;
    });
    // Source a's worker takes its next page before b's takes one: they run in that order, and a's
    // third after b's first.
    const rest = ['a2', 'b1', 'a3'].map((name) =>
      slots.run('sync-page', () => {
        order.push(name);
        return Promise.resolve();
      }),
    );
    first.finish();
    await Promise.all([holding, ...rest]);
    expect(order).toEqual(['a1', 'a2', 'b1', 'a3']);
  });
});
