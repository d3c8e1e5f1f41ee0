/**
 * A record that Odoo's webhook says changed, read once its change is committed (docs/odoo.md,
 * Webhooks). Odoo 17 and 18 post from inside the transaction, before it commits: a read made at
 * once can show the old version, or no record at all. So the payload is never trusted for data —
 * it only names the record (a root, or a child, whose root is read from Odoo when the rule did not
 * send it) — and:
 *
 * - with the `write_date` the rule read inside the transaction, the root is read again, with a
 *   short backoff, until Odoo shows that stamp on the record the event is about;
 * - for the deletion of a root, until Odoo confirms the id is gone, then the root is archived;
 * - without a stamp, it is read now; the caller reads it once more a few seconds later.
 *
 * If Odoo never shows the change (the transaction rolled back, a clock apart), what Odoo has is
 * written: the guards of the sync decide as for any read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { OdooCallOptions, OdooContext } from '../clients/odoo/odoo-types.js';
import type { ChildModel, RecordFamily } from '../families/family.js';
import type { RootPayload } from '../families/map-record.js';
import { archiveRoots } from './archive.js';
import { scannedParent } from './odoo-reads.js';
import { confirmGone, readRootPage } from './root-pages.js';
import { countCalls, type CountedSource } from './odoo-source.js';
import { writeOrArchive, type SyncedRecord } from './sync-record.js';
import type { SyncDeps } from './sync-deps.js';

/** Waits between reads while the change is not committed yet: about 3 s in all. */
export const COMMIT_WAITS_MS = [100, 200, 400, 800, 1_600] as const;

export interface WebhookEvent {
  readonly family: RecordFamily;
  /** The model the event is about: the family's root, or one of its children. */
  readonly model: string;
  /** The record the event is about. */
  readonly recordId: number;
  /** Its root, when the event is a root's or the rule sent the child's link. */
  readonly rootId?: number;
  /** `write_date` as the rule read it inside Odoo's transaction (`YYYY-MM-DD HH:MM:SS[.ffffff]`). */
  readonly writeDate?: string;
  readonly deleted?: boolean;
}

export interface WebhookOutcome {
  /** The root the event was about; null when a child's root could not be found. */
  readonly odooId: number | null;
  readonly synced: SyncedRecord | null;
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
  const { family } = event;
  const odoo = countCalls(deps.odoo);
  const schema = await deps.schema(family, odoo, call);
  const child = family.children.find((model) => model.model === event.model);
  const odooId =
    event.rootId ??
    (child ? await rootOfChild(odoo, child, event.recordId, schema.context, call) : event.recordId);
  if (odooId === null) return { odooId, synced: null, committed: false, odooCalls: odoo.calls };
  const pause = (waitMs: number) => sleep(waitMs, undefined, { signal: call?.signal });

  if (event.deleted && !child) {
    for (const waitMs of [0, ...COMMIT_WAITS_MS]) {
      if (waitMs > 0) await pause(waitMs);
      const gone = await confirmGone(odoo, family, [odooId], schema, call);
      if (gone.length === 0) continue;
      await archiveRoots(deps.db, family, gone, 'deleted in Odoo', {
        runId: null,
        lease: null,
        trigger: TRIGGER,
      });
      return { odooId, synced: null, committed: true, odooCalls: odoo.calls };
    }
  }

  let page = await readRootPage(odoo, family, [odooId], schema, call);
  let committed = event.writeDate === undefined || event.deleted === true;
  for (const waitMs of committed ? [] : COMMIT_WAITS_MS) {
    if (shows(family, page.items[0], event)) {
      committed = true;
      break;
    }
    await pause(waitMs);
    page = await readRootPage(odoo, family, [odooId], schema, call);
  }
  committed ||= shows(family, page.items[0], event);
  const synced = await writeOrArchive(
    deps,
    { family, odooId, run: null, trigger: TRIGGER, item: page.items[0] },
    { odoo, schema },
    call,
  );
  return { odooId, synced, committed, odooCalls: odoo.calls };
}

/** Whether what Odoo answered carries the stamp the event announced, on the record it names. */
function shows(family: RecordFamily, item: RootPayload | undefined, event: WebhookEvent): boolean {
  if (!item || event.writeDate === undefined) return false;
  const at = family.children.findIndex((model) => model.model === event.model);
  const record =
    at < 0 ? item.root : item.children[at]?.find((child) => child.id === event.recordId);
  const stamp = record?.write_date;
  return typeof stamp === 'string' && stamp >= toSecond(event.writeDate);
}

/** The root of a child, read from Odoo (archived records included); null when it is gone. */
async function rootOfChild(
  odoo: CountedSource,
  child: ChildModel,
  childId: number,
  context: OdooContext,
  call?: OdooCallOptions,
): Promise<number | null> {
  const [record] = await odoo.read(child.model, [childId], [child.parentField], { context }, call);
  return record ? (scannedParent(child, record) ?? null) : null;
}
