/**
 * The chaos run's oracle: at a quiet checkpoint, every output of the deployment compared with the
 * truth, through the product's documented interfaces (README, "API"; docs/feed.md) and Odoo's
 * committed state (the sandbox's control):
 *
 * - copies: each source's records equal to its Odoo by content — every field the copy holds of
 *   a model, a value cut from the API's answer fetched whole, children, many2many links in
 *   Odoo's order — and its deletions archived (a root) or gone (a child);
 * - the feed: in commit order (positions increase, no change twice), and exactly the copy's
 *   history: each record's audit rows are changes of the feed and each change an audit row, the
 *   last change of a record says what the copy holds (live, archived, deleted);
 * - deliveries: each subscription's receiver got every change of the feed it takes, none else,
 *   first arrivals in position order (duplicates are the contract's "at least once": counted);
 * - the stream: every change after its start once, in order, none else;
 * - failures: no record job or webhook job failed for good without its root pending in the
 *   failures table, its events held in the inbox (a webhook's), or its record equal in the copy;
 * - the verify: no change only the verify brought (a `drift` of no stamp's reason), but for the
 *   values of a field the storm added to Odoo or retyped (docs/odoo.md): a run or a webhook
 *   should have brought it.
 *
 * It asserts nothing: it returns one difference per fault it finds, for the run's report.
 */
import { sameJson } from '../../src/families/map-record.js';
import type { ChangeBody } from '../../src/feed/change-body.js';
import { STAMP_FROM_FUTURE, STAMP_WENT_BACK } from '../../src/sync/write-rule.js';
import type { ApiClient } from './chaos-api.js';
import type { ChaosDeployment, ChaosSource } from './chaos-deployment.js';
import { ADDED_FIELD, BC, CYLINDER, LINE, RETYPED_FIELD, VALVE } from './chaos-storm.js';
import type { SseReader } from './sse-reader.js';

/** What a difference is of: the oracle's checks, and the run's own (inbox, processes, memory). */
export type CheckName =
  | 'copy'
  | 'verify'
  | 'feed'
  | 'delivery'
  | 'stream'
  | 'failures'
  | 'inbox'
  | 'processes'
  | 'memory';

export interface Difference {
  readonly check: CheckName;
  readonly source?: string;
  readonly model?: string;
  readonly odooId?: number;
  readonly text: string;
}

export interface OracleFigures {
  /** Records compared, by source. */
  readonly records: Record<string, number>;
  readonly changes: number;
  /** Deliveries received more than once, by subscription (the contract allows them). */
  readonly duplicateDeliveries: Record<string, number>;
  /** Record jobs failed for good, by queue. */
  readonly failedJobs: Record<string, number>;
  /**
   * Changes of action `drift`, by source and why: a stamp that went back or came from the future
   * (written after an Odoo clock step), or healed by a verify (what no run nor webhook brought).
   */
  readonly drift: Record<string, number>;
}

export interface OracleReport {
  readonly differences: readonly Difference[];
  readonly figures: OracleFigures;
}

interface FamilyShape {
  readonly name: string;
  readonly root: string;
  readonly child: string;
  /** The child's many2one to its root. */
  readonly link: string;
}

const FAMILIES: readonly FamilyShape[] = [
  { name: 'bcs', root: BC, child: LINE, link: 'bc_id' },
  { name: 'cylinders', root: CYLINDER, child: VALVE, link: 'x_cylinder_id' },
];

/** The fields the storm adds to Odoo or changes the type of: their values move no stamp. */
const SCHEMA_CHANGES = new Set([ADDED_FIELD.name, RETYPED_FIELD]);

/** A record as the list routes answer it. */
interface CopyRecord {
  readonly odooId: number;
  readonly archivedAt?: string | null;
  readonly data: Record<string, unknown>;
}

type OdooRecord = Record<string, unknown> & { id: number };

const CUT = 'erp-bridge:cut:';
/** Requests the oracle sends at once: below the key's in-flight bound (API_MAX_IN_FLIGHT_PER_KEY). */
const IN_FLIGHT = 8;

async function inTurn<T, R>(items: readonly T[], each: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(IN_FLIGHT, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await each(items[index]!);
      }
    }),
  );
  return results;
}

/** The id of a many2one as Odoo reads it (`[id, name]`) or as a payload carries it. */
function idOf(value: unknown): number | undefined {
  if (Array.isArray(value)) return typeof value[0] === 'number' ? value[0] : undefined;
  return typeof value === 'number' ? value : undefined;
}

export async function consultOracle(input: {
  readonly deployment: ChaosDeployment;
  readonly api: ApiClient;
  readonly stream: SseReader;
  /** The feed's position the stream started from. */
  readonly streamFrom: string;
}): Promise<OracleReport> {
  const { deployment, api } = input;
  const key = deployment.keys.admin;
  const differences: Difference[] = [];
  const records: Record<string, number> = {};
  /** Every record the copy holds, by `source model id`: live (true) or archived (false). */
  const copyState = new Map<string, boolean>();
  const copyDiffers = new Set<string>();

  const list = async (path: string): Promise<CopyRecord[]> => {
    const out: CopyRecord[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page: { items: CopyRecord[]; nextCursor: string | null } = await api.get(
        `${path}${sep}limit=200${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        key,
      );
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return out;
  };

  /** A value of the copy as a client reads it whole: a cut one fetched at its route. */
  const whole = async (value: unknown): Promise<unknown> => {
    if (typeof value !== 'string' || !value.startsWith(CUT)) return value;
    const path = value.slice(CUT.length).replace(/^\d+:/, '');
    const text = await api.text(path, key);
    return text;
  };

  const compareData = async (
    source: ChaosSource,
    model: string,
    copy: CopyRecord,
    odoo: OdooRecord,
    fieldsRead: ReadonlySet<string>,
  ): Promise<void> => {
    const differing: string[] = [];
    for (const name of fieldsRead) {
      // A field Odoo no longer lists keeps its last value in the copy (docs/models.md).
      if (!(name in odoo)) continue;
      if (!(name in copy.data)) {
        differing.push(`${name} (missing)`);
        continue;
      }
      if (!sameJson(await whole(copy.data[name]), odoo[name])) differing.push(name);
    }
    if (differing.length > 0) {
      copyDiffers.add(`${source.name} ${model} ${odoo.id}`);
      differences.push({
        check: 'copy',
        source: source.name,
        model,
        odooId: odoo.id,
        text: `${source.name} ${model} ${odoo.id}: data differs (${differing.sort().join(', ')})`,
      });
    }
  };

  const copyDifference = (source: ChaosSource, model: string, odooId: number, what: string) => {
    copyDiffers.add(`${source.name} ${model} ${odooId}`);
    differences.push({
      check: 'copy',
      source: source.name,
      model,
      odooId,
      text: `${source.name} ${model} ${odooId}: ${what}`,
    });
  };

  for (const source of deployment.sources) {
    let compared = 0;
    for (const family of FAMILIES) {
      const [odooRoots, odooChildren, copyRoots, copyChildren] = await Promise.all([
        source.odoo.control({ op: 'records', model: family.root }),
        source.odoo.control({ op: 'records', model: family.child }),
        list(`${source.apiPrefix}/models/${family.root}/records?includeArchived=true`),
        list(`${source.apiPrefix}/models/${family.child}/records`),
      ]);
      compared += odooRoots.length + odooChildren.length;
      const fieldsOf = (rows: readonly CopyRecord[]) =>
        new Set(rows.flatMap((row) => Object.keys(row.data)));
      const rootFields = fieldsOf(copyRoots);
      const childFields = fieldsOf(copyChildren);
      const odooRootIds = new Set(odooRoots.map((root) => root.id));
      const copyRootById = new Map(copyRoots.map((root) => [root.odooId, root]));
      for (const root of copyRoots)
        copyState.set(`${source.name} ${family.root} ${root.odooId}`, !root.archivedAt);
      for (const child of copyChildren)
        copyState.set(`${source.name} ${family.child} ${child.odooId}`, true);

      for (const odoo of odooRoots) {
        const copy = copyRootById.get(odoo.id);
        if (!copy) copyDifference(source, family.root, odoo.id, 'missing from the copy');
        else if (copy.archivedAt)
          copyDifference(source, family.root, odoo.id, 'archived in the copy, live in Odoo');
        else await compareData(source, family.root, copy, odoo, rootFields);
      }
      for (const copy of copyRoots)
        if (!copy.archivedAt && !odooRootIds.has(copy.odooId))
          copyDifference(source, family.root, copy.odooId, 'live in the copy, gone from Odoo');

      // Children of a live root; those of a root the copy archived are its history.
      const liveCopyRoots = new Set(copyRoots.filter((r) => !r.archivedAt).map((r) => r.odooId));
      const copyChildById = new Map(copyChildren.map((child) => [child.odooId, child]));
      const odooChildIds = new Set(odooChildren.map((child) => child.id));
      for (const odoo of odooChildren) {
        const copy = copyChildById.get(odoo.id);
        if (!copy) copyDifference(source, family.child, odoo.id, 'missing from the copy');
        else await compareData(source, family.child, copy, odoo, childFields);
      }
      for (const copy of copyChildren) {
        const root = idOf(copy.data[family.link]);
        if (!odooChildIds.has(copy.odooId) && root !== undefined && liveCopyRoots.has(root))
          copyDifference(
            source,
            family.child,
            copy.odooId,
            `in the copy under live root ${root}, gone from Odoo`,
          );
      }

      // Many2many links, as the detail answers them, in Odoo's order.
      const details = async (model: string, odoos: readonly OdooRecord[]) => {
        const held = odoos.filter((odoo) =>
          model === family.root ? liveCopyRoots.has(odoo.id) : copyChildById.has(odoo.id),
        );
        // A child's routes take no includeArchived: it is read while its root is kept.
        const archived = model === family.root ? 'includeArchived=true' : '';
        await inTurn(held, async (odoo) => {
          const detail: { links?: Record<string, { items: number[]; nextCursor: string | null }> } =
            await api.get(
              `${source.apiPrefix}/models/${model}/records/${odoo.id}?${archived}`,
              key,
            );
          for (const [field, page] of Object.entries(detail.links ?? {})) {
            const targets = [...page.items];
            let cursor = page.nextCursor;
            while (cursor !== null) {
              const next: { items: number[]; nextCursor: string | null } = await api.get(
                `${source.apiPrefix}/models/${model}/records/${odoo.id}/links/${field}?after=${encodeURIComponent(cursor)}&${archived}`,
                key,
              );
              targets.push(...next.items);
              cursor = next.nextCursor;
            }
            if (!(field in odoo)) continue;
            if (!sameJson(targets, odoo[field]))
              copyDifference(
                source,
                model,
                odoo.id,
                `links ${field} hold ${JSON.stringify(targets)}, not ${JSON.stringify(odoo[field])}`,
              );
          }
        });
      };
      await details(family.root, odooRoots);
      await details(family.child, odooChildren);
    }
    records[source.name] = compared;
  }

  // The feed, whole, as a consumer pulls it.
  const changes: ChangeBody[] = [];
  let after = '';
  for (;;) {
    const page: { changes: ChangeBody[]; next: string } = await api.get(
      `/api/changes?source=*&limit=1000${after === '' ? '' : `&after=${after}`}`,
      key,
    );
    changes.push(...page.changes);
    if (page.changes.length === 0) break;
    after = page.next;
  }
  const seenIds = new Set<string>();
  for (let i = 0; i < changes.length; i += 1) {
    const change = changes[i]!;
    if (seenIds.has(change.id))
      differences.push({ check: 'feed', text: `change ${change.id} is in the feed twice` });
    seenIds.add(change.id);
    if (i > 0 && change.position <= changes[i - 1]!.position)
      differences.push({
        check: 'feed',
        text: `change ${change.id} at ${change.position} follows ${changes[i - 1]!.id} at ${changes[i - 1]!.position}`,
      });
  }
  const drift: Record<string, number> = {};
  for (const change of changes) {
    if (change.action !== 'drift') continue;
    const why =
      change.reason === STAMP_WENT_BACK
        ? 'stamp went back'
        : change.reason === STAMP_FROM_FUTURE
          ? 'stamp from the future'
          : 'verify';
    const at = `${change.source}: ${why}`;
    drift[at] = (drift[at] ?? 0) + 1;
    // The verify is the safety net, daily in production: what only it brought, runs and
    // webhooks missed, and the copy held it wrong until then; but for the values of a field Odoo
    // added or retyped, which move no stamp (docs/models.md).
    if (why === 'verify' && !change.changedFields.every((field) => SCHEMA_CHANGES.has(field)))
      differences.push({
        check: 'verify',
        source: change.source,
        model: change.model,
        odooId: change.odooId,
        text: `${change.source} ${change.model} ${change.odooId}: only the verify brought its change (${change.changedFields.join(', ') || 'no field named'}; ${change.id})`,
      });
  }

  // Each record's history (a root's holds its children's) against the feed.
  const bySource = new Map<string, ChangeBody[]>();
  for (const change of changes)
    bySource.set(change.source, [...(bySource.get(change.source) ?? []), change]);
  for (const source of deployment.sources) {
    const feed = bySource.get(source.name) ?? [];
    const feedIds = new Set(feed.map((change) => Number(change.id.replace('chg_', ''))));
    const historyIds = new Set<number>();
    for (const family of FAMILIES) {
      const roots = [...copyState.keys()]
        .filter((entry) => entry.startsWith(`${source.name} ${family.root} `))
        .map((entry) => Number(entry.split(' ')[2]));
      await inTurn(roots, async (id) => {
        let before = '';
        for (;;) {
          const page: { items: Array<{ id: number }>; nextBefore: number | null } = await api.get(
            `${source.apiPrefix}/models/${family.root}/records/${id}/history?limit=200${before}`,
            key,
          );
          for (const item of page.items) historyIds.add(item.id);
          if (page.nextBefore === null) break;
          before = `&before=${page.nextBefore}`;
        }
      });
    }
    for (const id of historyIds)
      if (!feedIds.has(id))
        differences.push({
          check: 'feed',
          source: source.name,
          text: `${source.name}: history row ${id} has no change in the feed`,
        });
    for (const change of feed)
      if (!historyIds.has(Number(change.id.replace('chg_', ''))))
        differences.push({
          check: 'feed',
          source: source.name,
          model: change.model,
          odooId: change.odooId,
          text: `${source.name}: change ${change.id} (${change.model} ${change.odooId} ${change.action}) is in no record's history`,
        });
    // The last change of each record says what the copy holds.
    const last = new Map<string, ChangeBody>();
    for (const change of feed) last.set(`${source.name} ${change.model} ${change.odooId}`, change);
    for (const [record, change] of last) {
      const held = copyState.get(record);
      const want =
        change.action === 'archived' ? false : change.action === 'deleted' ? undefined : true;
      if (held !== want)
        differences.push({
          check: 'feed',
          source: source.name,
          model: change.model,
          odooId: change.odooId,
          text: `${record}: its last change is ${change.action} (${change.id}), the copy holds it ${held === undefined ? 'not at all' : held ? 'live' : 'archived'}`,
        });
    }
    for (const record of copyState.keys())
      if (record.startsWith(`${source.name} `) && !last.has(record))
        differences.push({
          check: 'feed',
          source: source.name,
          text: `${record}: in the copy, and no change of the feed announced it`,
        });
  }

  // Each subscription's deliveries against the feed.
  const duplicateDeliveries: Record<string, number> = {};
  const states: { items: Array<Record<string, unknown> & { name: string }> } = await api.get(
    '/api/changes/subscriptions',
    key,
  );
  for (const subscription of deployment.subscriptions) {
    const wanted = changes.filter(
      (change) =>
        subscription.families.length === 0 || subscription.families.includes(change.family),
    );
    const received = subscription.receiver.changes;
    const receivedIds = new Set(received.map((change) => change.id));
    const wantedIds = new Set(wanted.map((change) => change.id));
    const missing = wanted.filter((change) => !receivedIds.has(change.id));
    const extra = received.filter((change) => !wantedIds.has(change.id));
    if (missing.length > 0) {
      const state = states.items.find((item) => item.name === subscription.name);
      const bySourceFamily = new Map<string, number>();
      for (const change of missing) {
        const where = `${change.source} ${change.family}`;
        bySourceFamily.set(where, (bySourceFamily.get(where) ?? 0) + 1);
      }
      differences.push({
        check: 'delivery',
        text: `${subscription.name}: ${missing.length} changes of the feed never delivered (first ${missing[0]!.id} at ${missing[0]!.position}, last ${missing.at(-1)!.id}; ${[...bySourceFamily].map(([where, count]) => `${where} ${count}`).join(', ')}); the subscription: ${JSON.stringify(state)}`,
      });
    }
    if (extra.length > 0)
      differences.push({
        check: 'delivery',
        text: `${subscription.name}: ${extra.length} changes delivered that the feed does not give it (first ${extra[0]!.id})`,
      });
    for (let i = 1; i < received.length; i += 1)
      if (received[i]!.position <= received[i - 1]!.position) {
        differences.push({
          check: 'delivery',
          text: `${subscription.name}: ${received[i]!.id} came after ${received[i - 1]!.id}, a later position`,
        });
        break;
      }
    const delivered = subscription.receiver.messages.reduce((sum, m) => sum + m.changes.length, 0);
    duplicateDeliveries[subscription.name] = delivered - received.length;
    if (subscription.receiver.badSignatures.length > 0)
      differences.push({
        check: 'delivery',
        text: `${subscription.name}: ${subscription.receiver.badSignatures.length} deliveries whose signature did not verify`,
      });
  }

  // The stream: after its start, each change once, in order.
  const streamed = input.stream.changes;
  const streamWanted = changes.filter((change) => change.position > input.streamFrom);
  const streamedIds = new Set<string>();
  for (let i = 0; i < streamed.length; i += 1) {
    const change = streamed[i]!;
    if (streamedIds.has(change.id)) {
      differences.push({ check: 'stream', text: `the stream gave ${change.id} twice` });
      break;
    }
    streamedIds.add(change.id);
    if (i > 0 && change.position <= streamed[i - 1]!.position) {
      differences.push({
        check: 'stream',
        text: `the stream gave ${change.id} after ${streamed[i - 1]!.id}, a later position`,
      });
      break;
    }
  }
  const streamMissing = streamWanted.filter((change) => !streamedIds.has(change.id));
  if (streamMissing.length > 0)
    differences.push({
      check: 'stream',
      text: `the stream never gave ${streamMissing.length} changes (first ${streamMissing[0]!.id} at ${streamMissing[0]!.position})`,
    });
  const streamWantedIds = new Set(streamWanted.map((change) => change.id));
  const streamExtra = streamed.filter((change) => !streamWantedIds.has(change.id));
  if (streamExtra.length > 0)
    differences.push({
      check: 'stream',
      text: `the stream gave ${streamExtra.length} changes the feed does not hold after its start (first ${streamExtra[0]!.id})`,
    });
  for (const error of input.stream.errors) differences.push({ check: 'stream', text: error });

  const failedJobs = await failedJobDifferences(api, key, copyDiffers, differences);

  return {
    differences,
    figures: { records, changes: changes.length, duplicateDeliveries, failedJobs, drift },
  };
}

/** A job of the board's list, as `GET /admin/queues/api/queues` gives it. */
interface BoardQueue {
  name: string;
  counts: { failed: number };
  jobs: Array<{
    data?: { family?: string; odooId?: number; model?: string; recordId?: number; rootId?: number };
  }>;
}

/**
 * Jobs failed for good, by queue; and a difference for each record job (`sync-record`) or webhook
 * job (`sync-webhook`) that failed for good on a record whose copy differs, while nothing keeps
 * it for a later try: its root not pending in the failures table, and, for a webhook's, no event
 * of its root or record held in the inbox (a worker's pass queues those again).
 */
export async function failedJobDifferences(
  api: ApiClient,
  key: string,
  copyDiffers: ReadonlySet<string>,
  differences: Difference[],
): Promise<Record<string, number>> {
  const failedJobs: Record<string, number> = {};
  const board: { queues: BoardQueue[] } = await api.get('/admin/queues/api/queues', key);
  for (const { name, counts } of board.queues) {
    if (counts.failed === 0) continue;
    failedJobs[name] = counts.failed;
    const webhook = name.endsWith('sync-webhook');
    if (!webhook && !name.endsWith('sync-record')) continue;
    // The board reads 100 jobs a page.
    for (let page = 1; (page - 1) * 100 < counts.failed; page += 1) {
      const read: { queues: BoardQueue[] } = await api.get(
        `/admin/queues/api/queues?activeQueue=${encodeURIComponent(name)}&status=failed&page=${page}`,
        key,
      );
      const jobs = read.queues.find((queue) => queue.name === name)?.jobs ?? [];
      for (const { data } of jobs) {
        const family = data?.family;
        if (family === undefined) continue;
        const shape = FAMILIES.find((one) => family.endsWith(one.name))!;
        const rootId = webhook
          ? (data?.rootId ?? (data?.model === shape.root ? data.recordId : undefined))
          : data?.odooId;
        if (rootId === undefined) continue;
        const source = family.includes('.') ? family.split('.')[0]! : 'default';
        const differs =
          copyDiffers.has(`${source} ${shape.root} ${rootId}`) ||
          (webhook && copyDiffers.has(`${source} ${data?.model} ${data?.recordId}`));
        if (!differs) continue;
        if (await failurePending(api, key, family, rootId)) continue;
        if (webhook && (await inboxHolds(api, key, family, rootId, data?.recordId))) continue;
        differences.push({
          check: 'failures',
          source,
          model: shape.root,
          odooId: rootId,
          text: webhook
            ? `${family} ${data?.model} ${data?.recordId}: its webhook job failed for good, the inbox holds no event of root ${rootId}, it is not in the failures table and the copy differs`
            : `${family} ${rootId}: its record job failed for good, it is not in the failures table and the copy differs`,
        });
      }
    }
  }
  return failedJobs;
}

/** Whether the failures table holds `rootId` of `family`, every page read. */
async function failurePending(
  api: ApiClient,
  key: string,
  family: string,
  rootId: number,
): Promise<boolean> {
  let after: string | undefined;
  for (;;) {
    const page: { items: Array<{ odooId: number }>; nextAfter: string | null } = await api.get(
      `/api/sync/failures?family=${encodeURIComponent(family)}&limit=500${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`,
      key,
    );
    if (page.items.some((failure) => failure.odooId === rootId)) return true;
    if (page.nextAfter === null) return false;
    after = page.nextAfter;
  }
}

/** Whether the inbox holds an event of this root or record of `family`, every page read. */
async function inboxHolds(
  api: ApiClient,
  key: string,
  family: string,
  rootId: number,
  recordId: number | undefined,
): Promise<boolean> {
  let after: number | undefined;
  for (;;) {
    const page: {
      items: Array<{ recordId: number; rootId: number | null }>;
      nextAfter: number | null;
    } = await api.get(
      `/api/sync/webhooks?family=${encodeURIComponent(family)}&limit=500${after === undefined ? '' : `&after=${after}`}`,
      key,
    );
    if (page.items.some((event) => event.rootId === rootId || event.recordId === recordId))
      return true;
    if (page.nextAfter === null) return false;
    after = page.nextAfter;
  }
}
