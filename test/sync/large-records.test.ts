/**
 * A record's large values read one at a time (docs/sync.md, "Large values"), over each transport,
 * with the bounds lowered (a page's answer at most 512 KiB, a value at most 3 MiB): a BC holding
 * four values past a megabyte (its notes, an html field; its reference, a char field found large as
 * it is read; and its lines' descriptions, text fields) is read in parts, each value alone and
 * staged as it is read, and copied exact; a BC whose line holds a value past the largest the copy
 * takes fails alone, its line's field and size named in sync_failure, its job and the log, while
 * every other BC of its page and of the family is copied. The worker's memory with values of 99 MB
 * is the bench's (`npm run bench -- large-values`).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OdooProtocol } from '../../src/clients/odoo/index.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const PAGE_MAX_BYTES = 64 * 1024;
const VALUE_MAX_BYTES = 3 * 1024 * 1024;

/**
 * About `bytes` bytes of a note: accents, a typographic apostrophe, markup XML and JSON escape, an
 * emoji, quotes; different for each seed.
 */
function note(seed: string, bytes: number): string {
  const words = `${seed} « livraison » prévue l’été <b class="x">détendeur</b> & \\ bouteille 😀\n`;
  return words.repeat(Math.ceil(bytes / Buffer.byteLength(words)));
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

describe.each<OdooProtocol>(['xmlrpc', 'jsonrpc', 'json2'])(
  "a record's large values, over %s",
  (protocol) => {
    let h: SyncHarness;
    let bigBc: number;
    let bigLines: number[];
    let tooLargeBc: number;
    let tooLargeLine: number | undefined;
    const values = {
      notes: note('notes', 1_500_000),
      origin: note('origin', 1_200_000),
      lines: [1, 2, 3].map((n) => note(`line ${n}`, 1_300_000 + n * 10_000)),
      tooLarge: note('too large', 4_000_000),
    };

    beforeAll(async () => {
      h = await createSyncHarness({
        protocol,
        sandbox: { orders: 40, linesPerOrder: 3 },
        pageSize: 1_000,
        pageMaxBytes: PAGE_MAX_BYTES,
        valueMaxBytes: VALUE_MAX_BYTES,
        jobAttempts: 1,
      });
      const c = h.sandbox.control;
      const ids = c.ids(BC_MODEL);
      const linesOf = (bc: number) =>
        c
          .records(BC_LINE_MODEL)
          .filter((line) => (line.bc_id as [number, string])[0] === bc)
          .map((line) => line.id);
      [bigBc, tooLargeBc] = [ids[10]!, ids[30]!];
      bigLines = linesOf(bigBc);
      [tooLargeLine] = linesOf(tooLargeBc);
      c.write(BC_MODEL, bigBc, { notes: values.notes, origin: values.origin });
      bigLines.forEach((line, i) => c.write(BC_LINE_MODEL, line, { name: values.lines[i] }));
      c.write(BC_LINE_MODEL, tooLargeLine!, { name: values.tooLarge });
    });
    afterAll(async () => {
      await h.dispose();
    });

    /** The digests of the copy of the large BC's values, in their columns and in `data`. */
    const copied = async () => {
      const [bc] = await h.db.sql!<{ notes: string; origin: string; data: string }[]>`
        select md5(r.data->>'notes') as notes, md5(origin) as origin, md5(r.data->>'origin') as data
        from scrap_dimagaz_bc b,
          lateral (select sync_restored_data('scrap_dimagaz_bc', b.odoo_id, b.data) as data) r
        where odoo_id = ${bigBc}`;
      const lines = await h.db.sql!<{ name: string; data: string }[]>`
        select md5(name) as name, md5(r.data->>'name') as data
        from scrap_dimagaz_bc_line l,
          lateral (select sync_restored_data('scrap_dimagaz_bc_line', l.odoo_id, l.data) as data) r
        where bc_odoo_id = ${bigBc} order by odoo_id`;
      return { bc, lines };
    };

    it('copies the record exact, each large value read alone, and fails the one past the largest value alone', async () => {
      const c = h.sandbox.control;
      c.resetCalls();
      const run = await h.run('sync-run', { trigger: 'test' });
      expect(run).toMatchObject({ status: 'partial', counts: { created: 39, failed: 1 } });

      expect(await copied()).toEqual({
        bc: { notes: md5(values.notes), origin: md5(values.origin), data: md5(values.origin) },
        lines: values.lines.map((line) => ({ name: md5(line), data: md5(line) })),
      });
      // Every other BC, of the large one's page too, is copied; the one refused is not.
      expect(await h.diffWithSandbox()).toEqual([
        `${BC_MODEL} ${tooLargeBc}: missing from the copy`,
        ...[...c.records(BC_LINE_MODEL)]
          .filter((line) => (line.bc_id as [number, string])[0] === tooLargeBc)
          .map((line) => `${BC_LINE_MODEL} ${line.id}: missing from the copy`),
      ]);

      // Each large value of the record was read alone: its field and its stamp, nothing else.
      const alone = c
        .timedCalls()
        .filter((call) => call.modelMethod === 'read' && call.ids?.length === 1);
      expect(alone.filter((call) => call.ids![0] === bigBc).length).toBeGreaterThanOrEqual(3);
      for (const line of bigLines)
        expect(alone.some((call) => call.model === BC_LINE_MODEL && call.ids![0] === line)).toBe(
          true,
        );
      // Nothing staged is left once the writes are done.
      const [staged] = await h.db.sql!<{ count: number }[]>`
        select count(*)::int as count from sync_large_value`;
      expect(staged!.count).toBe(0);
    });

    it("names the record, its field and its size in sync_failure, its job's failure and the log", async () => {
      const message = `${BC_LINE_MODEL} ${tooLargeLine}: field name takes `;
      const size =
        /takes 4,\d{3},\d{3} bytes in Odoo's answer, past ODOO_VALUE_MAX_BYTES \(3,145,728 bytes\)/;
      const [failure] = await h.failures();
      expect(failure).toMatchObject({ odooId: tooLargeBc, errorCode: 'SYNC_VALUE_TOO_LARGE' });
      expect(failure!.error).toContain(message);
      expect(failure!.error).toMatch(size);
      const [job] = await h.runtime.queues.byName['sync-record'].getFailed();
      expect(job?.data).toMatchObject({ odooId: tooLargeBc });
      expect(job?.failedReason).toContain(message);
      expect(h.logLines.some((line) => line.includes(message))).toBe(true);
    });

    it('writes the record again when one of its large values changes, reading the field found large apart', async () => {
      const c = h.sandbox.control;
      const changed = note('line 2, again', 1_400_000);
      c.write(BC_LINE_MODEL, bigLines[1]!, { name: changed });
      values.lines[1] = changed;
      c.resetCalls();
      const before = (await h.auditRows()).length;
      const run = await h.run('sync-run', { trigger: 'test' });
      expect(run).toMatchObject({ counts: { updated: 1 } });
      const audit = (await h.auditRows()).slice(before);
      expect(audit.map((row) => [row.model, row.odooId, row.action])).toEqual([
        [BC_LINE_MODEL, bigLines[1], 'updated'],
      ]);
      expect(await copied()).toMatchObject({
        lines: values.lines.map((line) => ({ name: md5(line), data: md5(line) })),
      });
      // The lines' descriptions were found large: the lines are read without them, then them.
      const lineReads = c
        .timedCalls()
        .filter((call) => call.model === BC_LINE_MODEL && call.modelMethod === 'read');
      expect(lineReads.length).toBeGreaterThanOrEqual(2);
      const verify = await h.run('verify', { trigger: 'test', all: true });
      expect(verify).toMatchObject({ status: 'succeeded', drifted: 0 });
    });
  },
);
