/**
 * One large value: a text far past the page's byte budget (ODOO_PAGE_MAX_BYTES), written by an
 * Odoo user into a BC's notes (in `data` alone) and into a line's description (a typed column and
 * `data`), is read in a call of its own and copied exact (`data` holding its reference, its pieces
 * in `sync_value_piece`), over each transport; written again
 * when it changes, and not when it does not (compared by reference, docs/sync.md, "Large
 * values"); found equal by a verify. The worker's memory is the bench's (`npm run bench --
 * bigvalue`).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OdooProtocol } from '../../src/clients/odoo/index.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const BUDGET_BYTES = 64 * 1024;

/**
 * About 1.5 million characters of a note, past the megabyte from which a text travels by
 * reference: accents, a typographic apostrophe (a character outside Latin-1), markup that XML
 * escapes, and an emoji astride the megabyte of characters a piece of the text holds.
 */
function note(seed: string): string {
  const words = `${seed} livraison prévue l’été <b>détendeur</b> & bouteille `;
  const head = words.repeat(Math.ceil(1_048_575 / words.length)).slice(0, 1_048_575);
  return `${head}😀${words.repeat(Math.ceil(450_000 / words.length))}`;
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

describe.each<OdooProtocol>(['xmlrpc', 'jsonrpc'])('one large value, over %s', (protocol) => {
  let h: SyncHarness;
  let bigBc: number;
  let bigLine: number;
  // The same text twice (a note pasted into a line): staged once for both.
  const first = { notes: note('first'), line: note('first') };

  beforeAll(async () => {
    h = await createSyncHarness({
      protocol,
      sandbox: { orders: 120, linesPerOrder: 3 },
      pageSize: 1_000,
      pageMaxBytes: BUDGET_BYTES,
    });
    const c = h.sandbox.control;
    // Past the roots a first copy measures to size its pages.
    bigBc = c.ids(BC_MODEL)[100]!;
    bigLine = c.records(BC_LINE_MODEL).find((line) => {
      const bc = line.bc_id as [number, string];
      return bc[0] === bigBc;
    })!.id;
    c.write(BC_MODEL, bigBc, { notes: first.notes });
    c.write(BC_LINE_MODEL, bigLine, { name: first.line });
  });
  afterAll(async () => {
    await h.dispose();
  });

  /**
   * The digests of what the copy holds of the large values, `data` with its values in place; and
   * whether each record's own `data` stayed small (the values' references, their pieces apart).
   */
  const copied = async () => {
    const [bc] = await h.db.sql!<{ notes: string; small: boolean }[]>`
      select md5(sync_restored_data('scrap_dimagaz_bc', odoo_id, data)->>'notes') as notes,
        pg_column_size(data) < 65536 as small
      from scrap_dimagaz_bc where odoo_id = ${bigBc}`;
    const [line] = await h.db.sql!<{ name: string; data: string; small: boolean }[]>`
      select md5(name) as name,
        md5(sync_restored_data('scrap_dimagaz_bc_line', odoo_id, data)->>'name') as data,
        pg_column_size(data) < 65536 as small
      from scrap_dimagaz_bc_line where odoo_id = ${bigLine}`;
    return {
      notes: bc?.notes,
      name: line?.name,
      data: line?.data,
      small: bc?.small && line?.small,
    };
  };

  it('reads the record alone and copies it exact', async () => {
    const c = h.sandbox.control;
    c.resetCalls();
    const run = await h.run('sync-run', { trigger: 'test' });
    expect(run).toMatchObject({ status: 'succeeded', counts: { created: 120, failed: 0 } });
    // Its page was read in one call first (the answer refused unread), then in parts.
    const reads = c
      .timedCalls()
      .filter((call) => call.modelMethod === 'read' && call.model === BC_MODEL);
    expect(reads.some((call) => call.ids?.length === 1 && call.ids[0] === bigBc)).toBe(true);
    expect(reads.some((call) => (call.ids?.length ?? 0) > 20)).toBe(true);
    expect(await copied()).toEqual({
      notes: md5(first.notes),
      name: md5(first.line),
      data: md5(first.line),
      small: true,
    });
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('writes it again when it changes, and leaves it when it does not', async () => {
    const c = h.sandbox.control;
    const changed = note('second');
    c.write(BC_LINE_MODEL, bigLine, { name: changed });
    const before = (await h.auditRows()).length;
    const run = await h.run('sync-run', { trigger: 'test' });
    expect(run).toMatchObject({ status: 'succeeded', counts: { updated: 1, failed: 0 } });
    const audit = (await h.auditRows()).slice(before);
    expect(audit.map((row) => [row.model, row.odooId, row.action])).toEqual([
      [BC_LINE_MODEL, bigLine, 'updated'],
    ]);
    // write_date shows to the second: within the first copy's second it reads unchanged.
    expect(audit[0]!.changedFields.filter((field) => field !== 'write_date')).toEqual(['name']);
    expect(await copied()).toEqual({
      notes: md5(first.notes),
      name: md5(changed),
      data: md5(changed),
      small: true,
    });
    // The line's pieces are the new value's: the old one's went with its write.
    const [pieces] = await h.db.sql!<{ values: number }[]>`
      select count(distinct sha256)::int as values from sync_value_piece
      where copy_table = 'scrap_dimagaz_bc_line' and odoo_id = ${bigLine}`;
    expect(pieces?.values).toBe(1);
    // Read again within the overlap window, stamps equal: compared by content, found current.
    const again = await h.run('sync-run', { trigger: 'test' });
    expect(again).toMatchObject({ status: 'succeeded', counts: { updated: 0, created: 0 } });
    expect(await h.auditRows()).toHaveLength(before + 1);
    expect(await h.diffWithSandbox()).toEqual([]);
  });

  it('finds the copy of a large value equal to Odoo on a verify', async () => {
    const verify = await h.run('verify', { trigger: 'test', all: true });
    expect(verify).toMatchObject({ status: 'succeeded', drifted: 0 });
  });

  it("lets go of a value's pieces: with its line deleted, and once small at the reconcile", async () => {
    const c = h.sandbox.control;
    /** The values whose pieces the copy holds, per copy table. */
    const held = async () =>
      Object.fromEntries(
        (
          await h.db.sql!<{ copy_table: string; values: number }[]>`
            select copy_table, count(distinct (odoo_id, field, sha256))::int as values
            from sync_value_piece group by copy_table order by copy_table`
        ).map((row) => [row.copy_table, row.values]),
      );
    expect(await held()).toEqual({ scrap_dimagaz_bc: 1, scrap_dimagaz_bc_line: 1 });
    c.unlink(BC_LINE_MODEL, bigLine);
    c.write(BC_MODEL, bigBc, { notes: '<p>short</p>' });
    const run = await h.run('sync-run', { trigger: 'test' });
    expect(run).toMatchObject({ status: 'succeeded', counts: { updated: 1, failed: 0 } });
    // The notes' pieces wait for the reconcile: a write looks only for the values it references.
    expect(await held()).toEqual({ scrap_dimagaz_bc: 1 });
    const reconcile = await h.run('reconcile', { trigger: 'test' });
    expect(reconcile).toMatchObject({ status: 'succeeded' });
    expect(await held()).toEqual({});
    expect(await h.diffWithSandbox()).toEqual([]);
  });
});
