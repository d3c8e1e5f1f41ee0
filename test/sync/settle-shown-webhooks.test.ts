/**
 * A run's page settles the inbox's events its read showed (src/sync/webhook-inbox.ts,
 * `settleShownWebhooks`): it looks at the events of its roots first, and sends only the records
 * those events name. What that look must not change: an event that comes between the look and the
 * settlement is left to its own job, whatever record of the page shares its id.
 */
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/create-db.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import {
  keepWebhook,
  settleShownWebhooks,
  type ShownByRead,
  type ShownRecord,
} from '../../src/sync/webhook-inbox.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';

const FAMILY = 'bcs';
const STAMP = '2026-11-27 09:41:07';
/** An event of BC 100 at STAMP. */
const bcEvent = {
  family: FAMILY,
  model: BC_MODEL,
  recordId: 100,
  rootId: 100,
  writeDate: STAMP,
  deleted: false,
};

describe("a page's read settling the events it showed", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(() => db.dispose());
  beforeEach(() => db.db.execute(sql`delete from sync_webhook_inbox`));

  /** A page that showed BC 100 and its line 100 (two models' ids may be equal), both at STAMP. */
  function pageOf100() {
    const built: ShownRecord[][] = [];
    const shown: ShownByRead = {
      roots: [100],
      childModels: [BC_LINE_MODEL],
      records: (wanted) => {
        const records = [
          { model: BC_MODEL, id: 100, root: 100, stamp: STAMP },
          { model: BC_LINE_MODEL, id: 100, root: 100, stamp: STAMP },
        ].filter((record) => wanted(record.model, record.id));
        built.push(records);
        return records;
      },
    };
    return { shown, built };
  }

  /** The database, with `late` committed after the look at the inbox and before the settlement. */
  function withLateEvent(late: () => Promise<unknown>): Db {
    let statements = 0;
    return new Proxy(db.db, {
      get(target, key, receiver) {
        if (key !== 'execute') return Reflect.get(target, key, receiver) as unknown;
        return async (query: SQL) => {
          if (statements++ === 1) await late();
          return target.execute(query);
        };
      },
    });
  }

  const held = async () =>
    rowsOf<{ model: string; record_id: number; deleted: boolean }>(
      await db.db.execute(
        sql`select model, record_id, deleted from sync_webhook_inbox order by id`,
      ),
    );

  it('with no event of its roots held, settles nothing and builds none of its records', async () => {
    await keepWebhook(db.db, { ...bcEvent, recordId: 200, rootId: 200 });
    const page = pageOf100();
    expect(await settleShownWebhooks(db.db, FAMILY, page.shown)).toBe(0);
    expect(page.built).toEqual([]);
    expect(await held()).toEqual([{ model: BC_MODEL, record_id: 200, deleted: false }]);
  });

  it('settles the stamped event the read showed, building only the record it names', async () => {
    await keepWebhook(db.db, bcEvent);
    const page = pageOf100();
    expect(await settleShownWebhooks(db.db, FAMILY, page.shown)).toBe(1);
    expect(page.built).toEqual([[{ model: BC_MODEL, id: 100, root: 100, stamp: STAMP }]]);
    expect(await held()).toEqual([]);
  });

  it("leaves a deletion of a listed child that came after the look, though a held event's record shares its id", async () => {
    await keepWebhook(db.db, bcEvent);
    // Line 100 is deleted in Odoo after the page listed it, and its event comes meanwhile.
    const late = withLateEvent(() =>
      keepWebhook(db.db, {
        family: FAMILY,
        model: BC_LINE_MODEL,
        recordId: 100,
        rootId: 100,
        deleted: true,
      }),
    );
    expect(await settleShownWebhooks(late, FAMILY, pageOf100().shown)).toBe(1);
    expect(await held()).toEqual([{ model: BC_LINE_MODEL, record_id: 100, deleted: true }]);
  });

  it('settles a held deletion of a child the read no longer lists', async () => {
    await keepWebhook(db.db, {
      family: FAMILY,
      model: BC_LINE_MODEL,
      recordId: 101,
      rootId: 100,
      deleted: true,
    });
    const page = pageOf100();
    expect(await settleShownWebhooks(db.db, FAMILY, page.shown)).toBe(1);
    expect(page.built).toEqual([[]]);
    expect(await held()).toEqual([]);
  });
});
