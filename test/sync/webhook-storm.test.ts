/**
 * After an ordinary storm of Odoo changes — edits of BCs and lines, lines created and deleted,
 * BCs deleted, each announced by Odoo's usual rules (one on create and edit with `write_date` and
 * the line's link, one on deletion) — the webhook inbox is empty within two minutes of the last
 * event: at most one of a worker's passes (a minute after an event was queued) reads what the
 * first reads did not show, and no event waits to be settled unseen. Queues on Redis and on
 * PostgreSQL.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mulberry32 } from '../../dev/sandbox/sandbox-faults.js';
import { rowsOf } from '../../src/db/sql-rows.js';
import { BC_LINE_MODEL, BC_MODEL } from '../../src/families/bcs/family.js';
import { requeueUnsettledWebhooks } from '../../workers/webhook-requeue.js';
import {
  createSyncHarness,
  listenForWebhooks,
  type SyncHarness,
  type WebhookReceiver,
} from '../helpers/sync-harness.js';

/** Changes the storm makes, one after the other, each committed behind its webhooks. */
const CHANGES = 150;
/** The storm's seed: the same changes every run. */
const SEED = 63;

describe.each(['redis', 'postgres'] as const)(
  'a webhook storm with line deletions and deletions, queues on %s',
  (queueBackend) => {
    let h: SyncHarness;
    let receiver: WebhookReceiver;
    beforeAll(async () => {
      h = await createSyncHarness({ queueBackend, sandbox: { orders: 20, linesPerOrder: 3 } });
      await h.run('sync-run', { trigger: 'test' });
      receiver = await listenForWebhooks(h, { debounceMs: 0 });
    }, 120_000);
    afterAll(async () => {
      await receiver?.app.close();
      await h?.dispose();
    });

    const control = () => h.sandbox.control;
    const inbox = async () =>
      rowsOf<{ model: string; record_id: number; deleted: boolean }>(
        await h.db.db.execute(
          sql`select model, record_id, deleted from sync_webhook_inbox order by id`,
        ),
      );
    /** Until no webhook job waits or runs. */
    const jobsDone = () =>
      vi.waitFor(
        async () =>
          expect(
            await h.runtime.queues.byName['sync-webhook'].getJobCounts(
              'waiting',
              'delayed',
              'prioritized',
              'active',
            ),
          ).toEqual({ waiting: 0, delayed: 0, prioritized: 0, active: 0 }),
        { timeout: 120_000, interval: 100 },
      );
    /** The lines of a BC as Odoo has them committed. */
    const linesOf = (id: number) =>
      control()
        .records(BC_LINE_MODEL, { fields: ['bc_id'] })
        .filter((line) => line.bc_id === id)
        .map((line) => line.id);

    it('leaves the inbox empty within two minutes of the last event, and the copy equal to Odoo', async () => {
      const random = mulberry32(SEED);
      const pick = <T>(list: readonly T[]): T | undefined =>
        list[Math.floor(random() * list.length)];
      control().setWebhook([
        {
          url: receiver.url,
          models: [BC_MODEL, BC_LINE_MODEL],
          on: ['create', 'write'],
          fields: ['write_date', 'bc_id'],
        },
        {
          url: `${receiver.url}?event=deleted`,
          models: [BC_MODEL, BC_LINE_MODEL],
          on: ['unlink'],
          fields: ['bc_id'],
        },
      ]);
      try {
        for (let change = 0; change < CHANGES; change += 1) {
          const bc = pick(control().ids(BC_MODEL));
          if (bc === undefined) break;
          const line = pick(linesOf(bc));
          const draw = random();
          if (draw < 0.3) control().write(BC_MODEL, bc, { name: `storm ${change}` });
          else if (draw < 0.55 && line !== undefined)
            control().write(BC_LINE_MODEL, line, { name: `storm ${change}` });
          else if (draw < 0.75)
            control().create(BC_LINE_MODEL, { bc_id: bc, name: `storm ${change}` });
          else if (draw < 0.95 && line !== undefined) control().unlink(BC_LINE_MODEL, line);
          else control().unlink(BC_MODEL, bc);
          // Odoo's transactions one after the other: each change sees the last one committed.
          await control().settled();
        }
      } finally {
        control().setWebhook(undefined);
      }
      await jobsDone();
      // A minute after the last event was queued, a worker's pass reads what is left, once.
      await h.db.db.execute(sql`update sync_webhook_inbox set due_at = now()`);
      await requeueUnsettledWebhooks({
        db: h.db.db,
        queues: h.runtime.queues,
        families: [h.family.name],
        debounceMs: 0,
        logger: h.logger,
      });
      await jobsDone();
      expect(await inbox()).toEqual([]);
      expect(h.logLines.filter((line) => line.includes('reads did not show'))).toEqual([]);
      console.log(JSON.stringify(await h.copyOf(1)), control().ids(BC_MODEL));
      console.log(
        h.logLines
          .filter((line) => line.includes('"odooId":1,') || line.includes('error'))
          .slice(0, 20)
          .join('\n'),
      );
      expect(await h.diffWithSandbox()).toEqual([]);
    }, 300_000);
  },
);
