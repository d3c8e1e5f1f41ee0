/**
 * The records Odoo's webhooks say changed, read once their change is committed (docs/odoo.md,
 * Webhooks). Odoo 17 and 18 post from inside the transaction, before it commits: a read made at
 * once can show the old version, or no record at all. So an event's payload is never trusted for
 * data — it only names the record (a root, or a child, whose root is read from Odoo when the rule
 * did not send it) — and a read answers for the events of one root at once, saying which it showed:
 *
 * - a stamped event (the `write_date` the rule read inside the transaction) once Odoo shows its
 *   record with that stamp or a later one: the root is read again, with a short backoff, until
 *   Odoo shows every stamp the events announce;
 * - the deletion of a root once Odoo confirms it is gone (then the root is archived, and every
 *   event of it is moot); the deletion of a child once its root's read no longer lists it;
 * - an event without a stamp by any read: the caller reads it a second time a few seconds later,
 *   and only that read settles it;
 * - any event of a record Odoo has no more, once a read shows it gone: its deletion shown, or the
 *   record absent though the copy's history knows it (webhook-gone.ts) — a line written, then
 *   deleted, before its event's read. The copy then holds that deletion. A record absent that the
 *   copy never knew may be a creation not committed yet: its events wait;
 * - a child's event whose root no longer lists it, and Odoo has it under another root (moved
 *   since): the read says which (`movedTo`), and the event waits on that root, whose read shows it.
 *
 * Whatever the reads showed, what Odoo has is written: the guards of the sync decide as for any
 * read. An event not shown (a transaction not committed yet, or rolled back) is the caller's to
 * keep (src/sync/webhook-inbox.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { OdooCallOptions, OdooContext } from '../clients/odoo/odoo-types.js';
import type { ChildModel, RecordFamily } from '../families/family.js';
import type { RootPayload } from '../families/map-record.js';
import { archiveRoots } from './archive.js';
import { scannedParent, type FamilySchema } from './odoo-reads.js';
import { confirmGone } from './isolated-pages.js';
import { readRootPage } from './root-pages.js';
import { childrenGone, copiedRootOfChild, knownToCopy, recordKey } from './webhook-gone.js';
import { countCalls, type CountedSource } from './odoo-source.js';
import { writeOrArchive, type SyncedRecord } from './sync-record.js';
import { readBegins } from './write-records.js';
import { withLargeReads } from './large-reads.js';
import { pageReadCall } from './page-size.js';
import type { SyncDeps } from './sync-deps.js';

/** Waits between reads while the change is not committed yet: about 3 s in all. */
export const COMMIT_WAITS_MS = [100, 200, 400, 800, 1_600] as const;

/** One event, as the rule sent it. */
export interface WebhookEvent {
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

/** What one read answers for: events of one root (or of one child whose root is not known). */
export interface WebhookRead {
  readonly family: RecordFamily;
  /** At least one; all of one root, or all of one record when the rule sent no root. */
  readonly events: readonly WebhookEvent[];
  /**
   * Whether to read again while a change is not committed yet (about 3 s): the first read after
   * Odoo posted. A read queued again a minute or more later reads once.
   */
  readonly waitForCommit: boolean;
}

export interface WebhookOutcome {
  /** The root the events were about; null when a child's root could not be found. */
  readonly odooId: number | null;
  readonly synced: SyncedRecord | null;
  /** For each event, in order: whether the reads showed its change. */
  readonly shown: readonly boolean[];
  /** Whether they showed every one. */
  readonly committed: boolean;
  /**
   * For each event, in order: the root Odoo now has its child under when the read root no longer
   * lists it (moved since); else null. Only that root's read can show it.
   */
  readonly movedTo: readonly (number | null)[];
  readonly odooCalls: number;
}

const TRIGGER = 'webhook';
/** Odoo's `write_date` as `read` answers it: to the second. */
const toSecond = (stamp: string) => stamp.slice(0, 19);

export async function syncWebhookEvents(
  deps: SyncDeps,
  read: WebhookRead,
  call?: OdooCallOptions,
): Promise<WebhookOutcome> {
  const { family, events } = read;
  const [first] = events;
  if (!first) throw new TypeError('a webhook read needs an event');
  const odoo = countCalls(deps.odoo);
  const schema = await deps.schema(family, odoo, call);
  const childOf = (event: WebhookEvent) =>
    family.children.find((model) => model.model === event.model);
  const child = childOf(first);
  // A child whose root the rule did not send: its root in Odoo, or, when Odoo has it no more, the
  // root the copy holds it under (the read of that root then removes it from the copy).
  const odooId =
    first.rootId ??
    (child
      ? ((await rootOfChild(odoo, child, first.recordId, schema.context, call)) ??
        (await copiedRootOfChild(deps.db, child, first.recordId)))
      : first.recordId);
  const outcome = (
    synced: SyncedRecord | null,
    shown: readonly boolean[],
    movedTo: readonly (number | null)[] = events.map(() => null),
  ): WebhookOutcome => ({
    odooId,
    synced,
    shown,
    committed: shown.every(Boolean),
    movedTo,
    odooCalls: odoo.calls,
  });
  if (odooId === null)
    // A child neither Odoo nor the copy has: its deletion, and any event of it before, shown.
    return outcome(
      null,
      events.map(() => events.some((event) => event.deleted === true)),
    );
  const waits = read.waitForCommit ? COMMIT_WAITS_MS : [];
  const pause = (waitMs: number) => sleep(waitMs, undefined, { signal: call?.signal });

  const rootDeletion = (event: WebhookEvent) => event.deleted === true && !childOf(event);
  if (events.some(rootDeletion)) {
    for (const waitMs of [0, ...waits]) {
      if (waitMs > 0) await pause(waitMs);
      const gone = await confirmGone(odoo, family, [odooId], schema, call);
      if (gone.length === 0) continue;
      await archiveRoots(deps.db, family, gone, 'deleted in Odoo', {
        runId: null,
        lease: null,
        trigger: TRIGGER,
      });
      // The root is gone for good: nothing any event of it announced can still reach the copy.
      return outcome(
        null,
        events.map(() => true),
      );
    }
  }

  // The copy's history is asked only once a read lacks an event's record: most reads show them.
  let known: ReadonlySet<string> | undefined;
  const judge = async (item: RootPayload | undefined) => {
    if (known === undefined && events.some((event) => !present(family, item, event)))
      known = await knownToCopy(deps.db, family, odooId, events);
    return judgeEvents(family, item, events, known ?? new Set());
  };
  // A root's deletion was waited for above; the root still there, its event stays unshown.
  const awaited = (verdicts: readonly Verdict[]) =>
    verdicts.every((verdict, at) => verdict !== 'unshown' || rootDeletion(events[at]!));
  // A record too large for an answer has its values staged as they are read, until its write.
  const { item, synced } = await withLargeReads(deps, async (large) => {
    const read = async () => {
      const since = await readBegins(deps.db);
      const answer = await readRootPage(
        odoo,
        family,
        [odooId],
        schema,
        pageReadCall(deps.settings, call),
        true,
        large,
      );
      // A root the copy does not take (a value too large): the job fails, its events stay.
      const [refused] = answer.refused;
      if (refused) throw refused.error;
      return { since, root: answer.items[0] };
    };
    let page = await read();
    for (const waitMs of waits) {
      if (awaited(await judge(page.root))) break;
      await pause(waitMs);
      page = await read();
    }
    return {
      item: page.root,
      synced: await writeOrArchive(
        deps,
        { family, odooId, run: null, trigger: TRIGGER, item: page.root, readSince: page.since },
        { odoo, schema, large },
        call,
      ),
    };
  });
  const verdicts = await judge(item);
  // A root the copy had, confirmed gone: every event of it is moot, as for its deletion.
  const archived = synced.outcome.action === 'archived';
  const gone = archived
    ? new Set<string>()
    : await goneRecords(odoo, family, events, verdicts, schema, call);
  const shown = events.map(
    (event, at) =>
      archived ||
      verdicts[at] === 'shown' ||
      (verdicts[at] === 'gone' && gone.has(recordKey(event.model, event.recordId))),
  );
  return outcome(
    synced,
    shown,
    archived
      ? undefined
      : await movedRoots(odoo, family, odooId, item, events, shown, schema.context, call),
  );
}

/**
 * What a read shows of an event: `shown`; `gone` when its record is absent though the copy's
 * history knows it (deleted since, or moved to another root: goneChildren tells); or `unshown`.
 */
type Verdict = 'shown' | 'gone' | 'unshown';

/** Each event's verdict on what Odoo answered for its root (see the module's header). */
function judgeEvents(
  family: RecordFamily,
  item: RootPayload | undefined,
  events: readonly WebhookEvent[],
  known: ReadonlySet<string>,
): Verdict[] {
  const verdicts = events.map((event): Verdict => {
    if (shows(family, item, event)) return 'shown';
    return !present(family, item, event) && known.has(recordKey(event.model, event.recordId))
      ? 'gone'
      : 'unshown';
  });
  // A child's deletion shown: whatever came before it of that child cannot reach the copy.
  const deleted = new Set(
    events
      .filter((event, at) => event.deleted === true && verdicts[at] === 'shown')
      .map((event) => recordKey(event.model, event.recordId)),
  );
  return verdicts.map((verdict, at) =>
    deleted.has(recordKey(events[at]!.model, events[at]!.recordId)) ? 'shown' : verdict,
  );
}

/** Whether Odoo's answer for the root holds the event's record. */
function present(family: RecordFamily, item: RootPayload | undefined, event: WebhookEvent) {
  const at = family.children.findIndex((model) => model.model === event.model);
  return at < 0 ? item !== undefined : (item?.children[at]?.some(isRecord(event)) ?? false);
}

/**
 * Of the records judged `gone`, those Odoo has no more (by record key): a root confirmed gone, a
 * child Odoo has under no root (one its root no longer lists may have moved to another).
 */
async function goneRecords(
  odoo: CountedSource,
  family: RecordFamily,
  events: readonly WebhookEvent[],
  verdicts: readonly Verdict[],
  schema: FamilySchema,
  call?: OdooCallOptions,
): Promise<Set<string>> {
  const judgedGone = (model: string) => [
    ...new Set(
      events
        .filter((event, at) => verdicts[at] === 'gone' && event.model === model)
        .map((event) => event.recordId),
    ),
  ];
  const gone = new Set<string>();
  const roots = judgedGone(family.root.model);
  for (const id of await confirmGone(odoo, family, roots, schema, call))
    gone.add(recordKey(family.root.model, id));
  for (const child of family.children)
    for (const id of await childrenGone(odoo, child, judgedGone(child.model), schema, call))
      gone.add(recordKey(child.model, id));
  return gone;
}

/** Whether what Odoo answered shows the change `event` announced (see the module's header). */
function shows(family: RecordFamily, item: RootPayload | undefined, event: WebhookEvent): boolean {
  const at = family.children.findIndex((model) => model.model === event.model);
  if (event.deleted === true)
    // A root's deletion shows only as the root gone (above).
    return at >= 0 && item !== undefined && !item.children[at]?.some(isRecord(event));
  if (event.writeDate === undefined) return true;
  const record = at < 0 ? item?.root : item?.children[at]?.find(isRecord(event));
  const stamp = record?.write_date;
  return typeof stamp === 'string' && stamp >= toSecond(event.writeDate);
}

const isRecord =
  (event: WebhookEvent) =>
  (record: { readonly id: number }): boolean =>
    record.id === event.recordId;

/**
 * For each event not shown, of a child its root's read did not list: the other root Odoo has that
 * child under now (one read per child model); else null. A child absent from Odoo is not moved:
 * deleted, or created in a transaction not committed yet.
 */
async function movedRoots(
  odoo: CountedSource,
  family: RecordFamily,
  odooId: number,
  item: RootPayload | undefined,
  events: readonly WebhookEvent[],
  shown: readonly boolean[],
  context: OdooContext,
  call?: OdooCallOptions,
): Promise<(number | null)[]> {
  const moved = new Map<string, number>();
  for (const child of family.children) {
    const ids = [
      ...new Set(
        events
          .filter(
            (event, at) =>
              !shown[at] && event.model === child.model && !present(family, item, event),
          )
          .map((event) => event.recordId),
      ),
    ];
    if (ids.length === 0) continue;
    for (const record of await odoo.read(
      child.model,
      ids,
      [child.parentField],
      { context },
      call,
    )) {
      const root = scannedParent(child, record);
      if (root !== undefined && root !== odooId) moved.set(recordKey(child.model, record.id), root);
    }
  }
  return events.map((event) => moved.get(recordKey(event.model, event.recordId)) ?? null);
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
