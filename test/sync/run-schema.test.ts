/**
 * A run keeps its schema once, in PostgreSQL, and its page jobs refer to it: a page carries its
 * ids and the schema's key, never the field lists (kilobytes for a wide model, times thousands of
 * pages in Redis). The schema a page reads with is the run's whole: its fields, its context, and
 * the fields left out on purpose, which a copy made before they were left out loses at its next
 * write.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-rows.js';
import { partnersFamily } from '../../src/families/partners/family.js';
import { copyRows } from '../helpers/family-copy.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';

const PARTNER = 'res.partner';

describe("a run's schema", () => {
  let h: SyncHarness;
  beforeAll(async () => {
    h = await createSyncHarness({
      families: [partnersFamily],
      sandbox: { orders: 0, partners: 30 },
      pageSize: 10,
    });
    await h.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await h.dispose();
  });

  const keptSchemas = async () =>
    rowsOf<{ key: string; schema: Record<string, unknown> }>(
      await h.db.db.execute(
        sql`select key, schema from sync_odoo_schema where key like '#run:%' order by key`,
      ),
    );

  it('is kept once, and its pages carry its key and their ids only', async () => {
    const schema = await h.runtime.sync.schema(partnersFamily, h.odoo);
    const kept = await keptSchemas();
    expect(kept).toEqual([{ key: expect.stringMatching(/^#run:[0-9a-f]{64}$/), schema }]);
    expect(schema.unread[PARTNER]).toContain('child_ids');

    const pages = await h.runtime.queues.byName['sync-page'].getJobs(['completed']);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (const page of pages) {
      // A page that queued record jobs keeps its state too.
      expect(Object.keys(page.data as object).filter((key) => key !== 'state')).toEqual([
        'family',
        'run',
        'ids',
        'schemaKey',
      ]);
      expect(`#run:${(page.data as { schemaKey: string }).schemaKey}`).toBe(kept[0]!.key);
      // Ten ids, the run and the key: the same size whatever the model's width.
      expect(JSON.stringify(page.data).length).toBeLessThan(400);
    }
  });

  it("a page reads with the run's fields left out on purpose: a copy made before loses them", async () => {
    const c = h.sandbox.control;
    const [partner] = c.ids(PARTNER);
    // A copy written before child_ids was left out of the reads held it in data.
    await h.db.db.execute(
      sql`update ${sql.identifier(partnersFamily.root.table.name)}
        set data = data || '{"child_ids": [7, 8]}'::jsonb where odoo_id = ${partner!}`,
    );
    c.write(PARTNER, partner!, { email: 'read again@example.ma' });
    await expect(h.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    const [row] = (await copyRows(h.db.db, partnersFamily.root)).filter(
      (copy) => copy.odoo_id === partner,
    );
    expect(row!.data.email).toBe('read again@example.ma');
    expect(row!.data).not.toHaveProperty('child_ids');
    // The same schema: still one kept.
    expect(await keptSchemas()).toHaveLength(1);
  });
});
