/**
 * A BC that Odoo's webhook says changed, read once its change is committed (docs/odoo.md,
 * Webhooks). Odoo 17 and 18 post from inside the transaction, before it commits: a read made at
 * once can show the old version, or no record at all. So the payload is never trusted for data —
 * it only names the BC (or a line, whose BC is read from Odoo) — and:
 *
 * - with the `write_date` the rule read inside the transaction, the BC is read again, with a
 *   short backoff, until Odoo shows that stamp on the record the event is about;
 * - for a deletion, until Odoo confirms the id is gone, then the BC is archived;
 * - without a stamp, it is read now; the caller reads it once more a few seconds later.
 *
 * If Odoo never shows the change (the transaction rolled back, a clock apart), what Odoo has is
 * written: the guards of the sync decide as for any read.
 */
import type { OdooCallOptions } from '../clients/odoo/odoo-types.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { archiveBcs } from './archive.js';
import { BC_LINE_MODEL } from './models.js';
import { confirmGone, readBcPage } from './odoo-reads.js';
import { countCalls, type CountedSource } from './odoo-source.js';
import type { BcPayload } from './map-records.js';
import { settleBc, type SyncedBc } from './sync-bc.js';
import type { SyncDeps } from './sync-deps.js';

/** Waits between reads while the change is not committed yet: about 3 s in all. */
export const COMMIT_WAITS_MS = [100, 200, 400, 800, 1_600] as const;

export interface WebhookEvent {
  /** The BC; for a line's event, its BC when the rule sends `bc_id`. */
  readonly odooId?: number;
  /** The line of a line's event. */
  readonly lineId?: number;
  /** `write_date` as the rule read it inside Odoo's transaction (`YYYY-MM-DD HH:MM:SS[.ffffff]`). */
  readonly writeDate?: string;
  readonly deleted?: boolean;
}

export interface WebhookOutcome {
  /** The BC the event was about; null when a line's BC could not be found. */
  readonly odooId: number | null;
  readonly synced: SyncedBc | null;
  /** Whether Odoo showed the change the event announced before the reads gave up. */
  readonly committed: boolean;
  readonly odooCalls: number;
}

const TRIGGER = 'webhook';
/** Odoo's `write_date` as `read` answers it: to the second. */
const toSecond = (stamp: string) => stamp.slice(0, 19);

export async function syncWebhookEvent(
  deps: SyncDeps,
  event: WebhookEvent,
  call?: OdooCallOptions,
): Promise<WebhookOutcome> {
  const odoo = countCalls(deps.odoo);
  const schema = await deps.schema(odoo, call);
  const odooId = event.odooId ?? (await bcOfLine(odoo, event.lineId!, schema.context, call));
  if (odooId === null) return { odooId, synced: null, committed: false, odooCalls: odoo.calls };
  const pause = (waitMs: number) => sleep(waitMs, undefined, { signal: call?.signal });

  if (event.deleted && event.lineId === undefined) {
    for (const waitMs of [0, ...COMMIT_WAITS_MS]) {
      if (waitMs > 0) await pause(waitMs);
      const gone = await confirmGone(odoo, [odooId], schema, call);
      if (gone.length === 0) continue;
      await archiveBcs(deps.db, gone, 'deleted in Odoo', {
        runId: null,
        lease: null,
        trigger: TRIGGER,
      });
      return { odooId, synced: null, committed: true, odooCalls: odoo.calls };
    }
  }

  let page = await readBcPage(odoo, [odooId], schema, call);
  let committed = event.writeDate === undefined || event.deleted === true;
  for (const waitMs of committed ? [] : COMMIT_WAITS_MS) {
    if (shows(page.items[0], event)) {
      committed = true;
      break;
    }
    await pause(waitMs);
    page = await readBcPage(odoo, [odooId], schema, call);
  }
  committed ||= shows(page.items[0], event);
  const synced = await settleBc(
    deps,
    { odooId, run: null, trigger: TRIGGER, item: page.items[0] },
    { odoo, schema },
    call,
  );
  return { odooId, synced, committed, odooCalls: odoo.calls };
}

/** Whether what Odoo answered carries the stamp the event announced, on the record it names. */
function shows(item: BcPayload | undefined, event: WebhookEvent): boolean {
  if (!item || event.writeDate === undefined) return false;
  const record =
    event.lineId === undefined ? item.bc : item.lines.find((line) => line.id === event.lineId);
  const stamp = record?.write_date;
  return typeof stamp === 'string' && stamp >= toSecond(event.writeDate);
}

/** The BC of a line, read from Odoo (archived records included); null when the line is gone. */
async function bcOfLine(
  odoo: CountedSource,
  lineId: number,
  context: Readonly<Record<string, unknown>>,
  call?: OdooCallOptions,
): Promise<number | null> {
  const [line] = await odoo.read(BC_LINE_MODEL, [lineId], ['bc_id'], { context }, call);
  const bc = line?.bc_id;
  if (Array.isArray(bc) && typeof bc[0] === 'number') return bc[0];
  return typeof bc === 'number' ? bc : null;
}
