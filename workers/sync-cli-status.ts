/**
 * What `npm run sync -- status` prints, source by source (the default source first): its Odoo's
 * link (transport, API key) and call pause, then each of its families' state, last runs and
 * pending failures, and each waiting for `migrate`, with why; then the change feed's
 * subscriptions (how far behind, failures, dead letters). A deployment with the default source
 * alone prints no source heading.
 */
import type { OdooConfig } from '../src/config/odoo-config.js';
import type { Db } from '../src/db/create-db.js';
import type { Config } from '../src/config/config.js';
import type { Logger } from '../src/lib/logger.js';
import { redactUrl } from '../src/lib/redact-url.js';
import { pausedQueueNames } from '../src/queues/paused-queues.js';
import { readStoresOnce } from '../src/stores/open-stores.js';
import { SOURCE_QUEUE_KINDS } from '../src/queues/source-queues.js';
import { readCallPause, type CallPause } from '../src/odoo-budget/call-budget.js';
import { linkStatusLines } from '../src/odoo-link/link-status.js';
import { readLinkStatus } from '../src/odoo-link/link-store.js';
import type { RecordFamily } from '../src/families/family.js';
import type { UnavailableFamily } from '../src/families/registry.js';
import { DEFAULT_SOURCE, splitFamilyKey } from '../src/sources/family-key.js';
import { describeSubscriptionLines, viewSubscriptions } from '../src/feed/subscription-status.js';
import { listRuns, runProgress } from '../src/sync/run-log.js';
import { listFailures } from '../src/sync/sync-failures.js';
import { describeUnfit, readUnfitValues } from '../src/sync/unfit-values.js';
import { readSyncState, readWatermarks } from '../src/sync/sync-state.js';

const FAILURES_SHOWN = 20;

/** A running sync run's pages on its status line: ` pages=300/650`; nothing for any other run. */
const progressText = (progress: ReturnType<typeof runProgress>) =>
  progress ? ` pages=${progress.pagesDone}/${progress.pages}` : '';
const RUNS_SHOWN = 5;

/** The call budget's pause as read from its store; `unknown` when the store did not answer. */
export type PauseReading = CallPause | null | 'unknown';

function pauseLine(pause: PauseReading): string {
  if (pause === 'unknown') return 'Odoo calls: unknown whether paused (its store did not answer)';
  if (pause === null) return 'Odoo calls: not paused';
  return `Odoo calls: paused fleet-wide for ${Math.ceil(pause.remainingMs / 1_000)} s more (Odoo answered ${pause.status}: every process waits, then retries)`;
}

/**
 * The call budget's pause of `odoo` (the default source's by default), read once from where the
 * fleet shares it: the queue Redis, or `db` (QUEUE_BACKEND=postgres without Redis).
 */
export async function readPauseOnce(
  config: Config,
  logger: Logger,
  db?: Db,
  odoo: OdooConfig | undefined = config.odoo,
): Promise<PauseReading> {
  if (!odoo) return null;
  return readStoresOnce({ settings: config, logger, ...(db ? { db } : {}) }, async ({ shared }) =>
    shared ? readCallPause(shared, odoo) : null,
  );
}

/** The queues an operator paused, by source; `unknown` when their store did not answer. */
export type PausedQueuesReading = ReadonlyMap<string, readonly string[] | 'unknown'>;

/**
 * The queues of each of `sources` paused in BullMQ (src/queues/paused-queues.ts), the change
 * feed's with the default source's, read once from the queues' store; none when this process is
 * not told where the queues are.
 */
export async function readPausedQueuesOnce(
  config: Config,
  logger: Logger,
  sources: readonly string[],
): Promise<PausedQueuesReading> {
  const reading = await readStoresOnce({ settings: config, logger }, async ({ backend }) => {
    const bySource = new Map<string, readonly string[] | 'unknown'>();
    if (!backend) return bySource;
    for (const source of sources) {
      const queues = [
        ...SOURCE_QUEUE_KINDS.map((kind) => backend.queue(kind, source)),
        ...(source === DEFAULT_SOURCE ? [backend.queue('feed')] : []),
      ];
      try {
        bySource.set(source, (await pausedQueueNames(queues)) ?? 'unknown');
      } finally {
        await Promise.all(queues.map((queue) => queue.close()));
      }
    }
    return bySource;
  });
  return reading === 'unknown' ? new Map(sources.map((source) => [source, 'unknown'])) : reading;
}

function pausedQueuesLine(paused: readonly string[] | 'unknown' | undefined): string[] {
  if (paused === undefined || paused.length === 0) return [];
  if (paused === 'unknown') return ['Queues: unknown whether paused (their store did not answer)'];
  return [
    `Queues paused: ${paused.join(', ')} (BullMQ's pause, bull-board's button: their jobs wait, and no worker takes one, until resumed)`,
  ];
}

/** A source as status heads its families: its place and its Odoo (none: no link shown). */
interface StatusSource {
  readonly name: string;
  /** The PostgreSQL schema of its copy, when known. */
  readonly schema?: string | undefined;
  readonly odoo?: OdooConfig | undefined;
}

interface Section {
  readonly text: string;
  readonly data: Record<string, unknown>;
}

/** A family's key as its section and its data name it: with its source and its own name. */
function named(key: string) {
  const { source, family } = splitFamilyKey(key);
  return { family: key, source, name: family };
}

async function familySection(db: Db, family: RecordFamily): Promise<Section> {
  const [state, watermarks, runs, failures, unfit] = await Promise.all([
    readSyncState(db, family.name),
    readWatermarks(db, family.name),
    listRuns(db, { limit: RUNS_SHOWN, families: [family.name] }),
    listFailures(db, { limit: FAILURES_SHOWN, families: [family.name] }),
    readUnfitValues(db, family.name),
  ]);
  const models = [family.root, ...family.children].map((model) => model.model);
  const lines = [
    `${family.name} (${models.join(', ')})`,
    `  schedule:      ${state?.pausedAt ? `paused since ${state.pausedAt.toISOString()} by ${state.pausedBy ?? '?'}` : 'active'}`,
    ...models.map(
      (model) =>
        `  watermark:     ${model} ${watermarks[model]?.toISOString() ?? 'none (next run copies everything)'}`,
    ),
    // The one2many link tables' targets, scanned on their own (docs/models.md).
    ...Object.entries(watermarks)
      .filter(([key]) => !models.includes(key))
      .map(([key, date]) => `  watermark:     ${key} ${date.toISOString()}`),
    `  syncing:       ${state?.isSyncing ? `yes, lease held by ${state.leaseOwner} until ${state.leaseExpiresAt?.toISOString()}` : 'no'}`,
    `  last success:  ${state?.lastSuccessAt?.toISOString() ?? 'never'}`,
    `  last reconcile: ${state?.lastReconcileAt?.toISOString() ?? 'never'}`,
    `  last verify:   ${state?.lastVerifyAt?.toISOString() ?? 'never'} (next slice ${state?.verifySlice ?? 0})`,
    `  pending failures: ${failures.total}${failures.rows.map((f) => `\n    ${family.noun} ${f.odooId}: ${f.error} (${f.attempts} attempts)`).join('')}`,
    ...(unfit.length > 0
      ? ['  values left out of their columns:', ...unfit.map((u) => `    ${describeUnfit(u)}`)]
      : []),
    '  last runs:',
    ...runs.map(
      (r) =>
        `    #${r.id} ${r.kind} ${r.status} (${r.trigger}) ${r.startedAt.toISOString()} ${
          r.kind === 'verify'
            ? `checked=${r.recordsSeen} drifted=${r.drifted} healed=${r.healed}`
            : `created=${r.created} updated=${r.updated}`
        } archived=${r.archived} failed=${r.failed}${progressText(runProgress(r))}`,
    ),
  ];
  return {
    text: lines.join('\n'),
    data: {
      ...named(family.name),
      state,
      watermarks,
      runs,
      failures: failures.rows,
      pendingFailures: failures.total,
      unfitValues: unfit,
      available: true,
    },
  };
}

function waitingSection(family: UnavailableFamily): Section {
  return {
    text: [
      `${family.name} (${family.models.join(', ')})`,
      `  unavailable:   ${family.reason} (code FAMILY_NOT_MIGRATED); its jobs fail, the other families are copied`,
    ].join('\n'),
    data: { ...named(family.name), available: false, unavailableReason: family.reason },
  };
}

/**
 * The status of `families` and of those waiting for `migrate`, grouped by source in the order of
 * `sources` (a source they name and `sources` does not comes last, without its Odoo); `pauseOf`
 * reads the call pause of each source's Odoo shown.
 */
export async function describeStatus(
  db: Db,
  families: readonly RecordFamily[],
  unavailable: readonly UnavailableFamily[] = [],
  {
    sources = [],
    pauseOf = () => Promise.resolve(null),
    pausedQueues = new Map(),
  }: {
    sources?: readonly StatusSource[];
    pauseOf?: (odoo: OdooConfig) => Promise<PauseReading>;
    pausedQueues?: PausedQueuesReading;
  } = {},
): Promise<{ text: string; data: unknown }> {
  const sourceOf = (family: { name: string }) => splitFamilyKey(family.name).source;
  const named = new Set([...families, ...unavailable].map(sourceOf));
  const shown: StatusSource[] = [
    ...sources.filter((source) => named.has(source.name)),
    ...[...named]
      .filter((name) => !sources.some((source) => source.name === name))
      .map((name) => ({ name })),
  ];
  // One source, the default one: the output of a deployment without sources, as it always was.
  const headed = shown.some((source) => source.name !== DEFAULT_SOURCE);
  const groups = await Promise.all(
    shown.map(async (source) => {
      const [link, pause] = await Promise.all([
        readLinkStatus(db, source.odoo),
        source.odoo ? pauseOf(source.odoo) : null,
      ]);
      const odoo = source.odoo
        ? `Odoo ${redactUrl(source.odoo.url)}, database ${source.odoo.database}`
        : 'no Odoo configured here';
      const top = [
        ...(headed
          ? [
              `=== source ${source.name}: ${odoo}${source.schema ? `; schema ${source.schema}` : ''} ===`,
            ]
          : []),
        ...(link ? [...linkStatusLines(link), pauseLine(pause)] : []),
        ...pausedQueuesLine(pausedQueues.get(source.name)),
      ];
      const sections = [
        ...(await Promise.all(
          families.filter((f) => sourceOf(f) === source.name).map((f) => familySection(db, f)),
        )),
        ...unavailable.filter((f) => sourceOf(f) === source.name).map(waitingSection),
      ];
      return {
        name: source.name,
        text: [...(top.length > 0 ? [top.join('\n')] : []), ...sections.map((s) => s.text)],
        source: {
          source: source.name,
          schema: source.schema ?? null,
          odoo: link,
          odooCallPause: pause,
          pausedQueues: pausedQueues.get(source.name) ?? null,
        },
        families: sections.map((section) => section.data),
      };
    }),
  );
  const subscriptions = await viewSubscriptions(db);
  const byDefault = groups.find((group) => group.name === DEFAULT_SOURCE)?.source;
  return {
    text: [
      ...groups.flatMap((group) => group.text),
      describeSubscriptionLines(subscriptions).join('\n'),
    ].join('\n\n'),
    data: {
      // The default source's, as before there were sources.
      odoo: byDefault?.odoo ?? null,
      odooCallPause: byDefault?.odooCallPause ?? null,
      sources: groups.map((group) => group.source),
      families: groups.flatMap((group) => group.families),
      subscriptions,
    },
  };
}
