/**
 * Webhook lag as the benches measure it: edits of random BCs in Odoo at a rate, each edit's lag
 * the time from the edit to the row in PostgreSQL showing it (polled every 20 ms).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxControl } from '../dev/sandbox/sandbox-control.js';
import type { DbHandle } from '../src/db/create-db.js';
import { BC_MODEL } from '../src/families/bcs/family.js';

export interface LagSample {
  readonly edits: number;
  /** Edits the copy showed within 15 s of the last one. */
  readonly seen: number;
  /** Each seen edit's lag, ascending. */
  readonly lagsMs: readonly number[];
}

export const percentile = (sorted: readonly number[], fraction: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;

/**
 * `seconds` of edits at `rate` a second on random BCs of `control`, copied into `table`; `label`
 * makes each edit's value unique across calls.
 */
export async function measureWebhookLag(input: {
  db: DbHandle;
  control: SandboxControl;
  rate: number;
  seconds: number;
  label: string;
  table?: string;
}): Promise<LagSample> {
  const { db, control } = input;
  const table = input.table ?? 'scrap_dimagaz_bc';
  const ids = control.ids(BC_MODEL);
  const pending = new Map<number, { origin: string; atMs: number }>();
  const lagsMs: number[] = [];
  let edits = 0;
  let editing = true;
  const poller = (async () => {
    while (editing || pending.size > 0) {
      await sleep(20);
      if (pending.size === 0) continue;
      const rows = await db.sql!<{ odoo_id: number; origin: string | null }[]>`
        select odoo_id, origin from ${db.sql!(table)} where odoo_id = any(${[...pending.keys()]}::int[])`;
      const now = performance.now();
      for (const row of rows) {
        const expected = pending.get(row.odoo_id);
        if (expected && row.origin === expected.origin) {
          lagsMs.push(now - expected.atMs);
          pending.delete(row.odoo_id);
        }
      }
    }
  })();
  const intervalMs = 1_000 / input.rate;
  const startedMs = performance.now();
  while (performance.now() - startedMs < input.seconds * 1_000) {
    const odooId = ids[Math.floor(Math.random() * ids.length)]!;
    const origin = `${input.label} edit ${(edits += 1)}`;
    pending.set(odooId, { origin, atMs: performance.now() });
    control.write(BC_MODEL, odooId, { origin });
    await sleep(Math.max(0, startedMs + edits * intervalMs - performance.now()));
  }
  editing = false;
  await Promise.race([poller, sleep(15_000)]);
  const missed = pending.size;
  pending.clear();
  await poller;
  lagsMs.sort((a, b) => a - b);
  return { edits, seen: edits - missed, lagsMs };
}
