/**
 * One model, one family, across the fleet: two deployments of workers with different
 * SYNC_FAMILIES — here two runtimes on one PostgreSQL, one copying the partners, the other a
 * family of the same model into the same table — never both write it. The first to copy the
 * model holds it; the other's jobs fail at once, naming the holder, and write nothing; a holder
 * no process has copied for a day gives the model up.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncAudit } from '../../src/db/schema/index.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import type { RecordFamily } from '../../src/families/family.js';
import { partnersFamily } from '../../src/families/partners/family.js';
import { createModelClaims } from '../../src/sync/model-claims.js';
import { createSyncHarness, type SyncHarness } from '../helpers/sync-harness.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

/** The partners under another name: the same model, the same table, another lease. */
const people: RecordFamily = { ...partnersFamily, name: 'people' };

describe('one model, one family, across the fleet', () => {
  let db: TestDb;
  let partners: SyncHarness;
  let other: SyncHarness;
  const sandbox = { orders: 0, partners: 20 };

  beforeAll(async () => {
    db = await createTestDb({ poolMax: 10 });
    partners = await createSyncHarness({ db, sandbox, families: [partnersFamily] });
    other = await createSyncHarness({ db, sandbox, families: [people] });
  }, 60_000);

  afterAll(async () => {
    await other.dispose();
    await partners.dispose();
  });

  const nameOf = async (id: number) =>
    rowsOf<{ name: string }>(
      await db.db.execute(sql`select name from scrap_res_partner where odoo_id = ${id}`),
    )[0]?.name;

  it("the family that copied a model first keeps it: the other's jobs fail, naming it, and write nothing", async () => {
    await expect(partners.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    const [id] = other.sandbox.control.ids('res.partner');
    other.sandbox.control.write('res.partner', id!, { name: 'written under another lease' });
    const before = await nameOf(id!);

    await expect(other.run('sync-run', { trigger: 'test' })).rejects.toThrow(
      /FAMILY_MODEL_TAKEN: family people is not copied: res\.partner is copied by family partners/,
    );
    await expect(other.run('resync-record', { odooId: id!, trigger: 'test' })).rejects.toThrow(
      /FAMILY_MODEL_TAKEN/,
    );
    expect(await nameOf(id!)).toBe(before);
    const audits = await db.db
      .select()
      .from(syncAudit)
      .where(sql`${syncAudit.family} = 'people'`);
    expect(audits).toEqual([]);
  });

  it('a family no process has copied for a day gives its models up', async () => {
    await db.db.execute(
      sql`update sync_model_claim set seen_at = now() - interval '25 hours' where family = 'partners'`,
    );
    await expect(other.run('sync-run', { trigger: 'test' })).resolves.toMatchObject({
      status: 'succeeded',
    });
    // A process of the partners starting now is the one refused.
    await expect(createModelClaims(db.db).ensure('partners', ['res.partner'])).rejects.toThrow(
      /res\.partner is copied by family people/,
    );
  });

  it("another source's family of the model holds it in that source alone", async () => {
    const claims = createModelClaims(db.db);
    // The default source's holder (people) stands; each source's own family of the model is
    // copied beside it, and refuses a second of that source.
    await claims.ensure('acme.partners', ['res.partner']);
    await claims.ensure('globex.partners', ['res.partner']);
    await expect(claims.ensure('acme.people', ['res.partner'])).rejects.toThrow(
      /family acme\.people is not copied: acme:res\.partner is copied by family acme\.partners/,
    );
  });
});
