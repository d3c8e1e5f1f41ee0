/**
 * Children are read with their roots when the roots' one2many lists them all: no domain and no
 * context of its own (src/sync/odoo-reads.ts, FamilySchema.listedBy): in the same call from Odoo
 * 17 on (`web_read`), else by the ids that one2many lists, with no search first, for those read by
 * id (FamilySchema.childIds). A one2many with a domain lists only some of them, and the children
 * are then searched on their link to the root, as before.
 */
import { describe, expect, it } from 'vitest';
import { BCS_CASE, useCaseHarness } from '../helpers/family-cases.js';

const LINE = 'dimagaz.bc.line';

describe("children listed by their root's one2many", () => {
  describe('an unfiltered one2many (the BC lines)', () => {
    const h = useCaseHarness(BCS_CASE, { size: { roots: 30, childrenPerRoot: 3 } });

    it('reads each page of lines with its BCs, in one call, and copies them all', async () => {
      const control = h.sandbox.control;
      control.resetCalls();
      const result = await h.run('sync-run', { trigger: 'test' });
      expect(result).toMatchObject({ status: 'succeeded' });
      expect(control.countCalls({ model: 'dimagaz.bc', method: 'web_read' })).toBeGreaterThan(0);
      // The lines' only read is the scan of their stamps.
      const reads = ['search_read', 'search', 'read'].map((method) =>
        control.countCalls({ model: LINE, method }),
      );
      expect(reads).toEqual([1, 0, 0]);
      expect(await h.diffWithSandbox()).toEqual([]);
    });

    it('reads each page of lines by the ids the BCs list, with no search, where Odoo has no web_read', async () => {
      const control = h.sandbox.control;
      control.injectFault({
        kind: 'fault',
        faultCode: 1,
        method: 'web_read',
        message: "The method 'dimagaz.bc.web_read' does not exist",
        times: Infinity,
      });
      for (const id of control.ids('dimagaz.bc'))
        control.write('dimagaz.bc', id, { origin: `again ${id}` });
      control.resetCalls();
      const result = await h.run('sync-run', { trigger: 'test' });
      expect(result).toMatchObject({ status: 'succeeded' });
      // Asked once: the client reads in two calls from then on.
      expect(control.countCalls({ model: 'dimagaz.bc', method: 'web_read' })).toBe(1);
      expect(control.countCalls({ model: LINE, method: 'search' })).toBe(0);
      expect(control.countCalls({ model: LINE, method: 'read' })).toBeGreaterThan(0);
      expect(await h.diffWithSandbox()).toEqual([]);
    });
  });

  describe('a one2many with a domain', () => {
    const h = useCaseHarness(BCS_CASE, { size: { roots: 30, childrenPerRoot: 3 } });

    it('is never taken for the list of children: they are searched, and every one is copied', async () => {
      const control = h.sandbox.control;
      expect(control.field('dimagaz.bc', 'line_ids')).toMatchObject({
        type: 'one2many',
        relation: LINE,
      });
      // The BCs' one2many now lists only their later lines.
      const lineIds = control.ids(LINE);
      const middle = lineIds[Math.floor(lineIds.length / 2)]!;
      control.removeField('dimagaz.bc', 'line_ids');
      control.addField('dimagaz.bc', {
        name: 'line_ids',
        type: 'one2many',
        string: 'Order Lines',
        store: true,
        relation: LINE,
        relationField: 'bc_id',
        domain: [['id', '>', middle]],
      });
      const listed = control
        .records('dimagaz.bc', { fields: ['line_ids'] })
        .flatMap((bc) => bc.line_ids as number[]);
      expect(listed.length).toBeLessThan(lineIds.length);

      control.resetCalls();
      const result = await h.run('sync-run', { trigger: 'test' });
      expect(result).toMatchObject({ status: 'succeeded' });
      expect(await h.diffWithSandbox()).toEqual([]);
      expect(control.countCalls({ model: LINE, method: 'search' })).toBeGreaterThan(0);
    });
  });
});
