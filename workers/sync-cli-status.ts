/**
 * What `npm run sync -- status` prints: the Odoo link (transport, API key), then each family's
 * state, its last runs and pending failures; each family waiting for `migrate`, with why; then
 * the change feed's subscriptions (how far behind, failures, dead letters).
 */
import type { OdooConfig } from '../src/config/odoo-config.js';
import type { Db } from '../src/db/create-db.js';
import type { Config } from '../src/config/config.js';
import type { Logger } from '../src/lib/logger.js';
import { openQueueRedis } from '../src/queues/redis-connection.js';
import { readCallPause, type CallPause } from '../src/odoo-budget/call-budget.js';
import { linkStatusLines } from '../src/odoo-link/link-status.js';
import { readLinkStatus } from '../src/odoo-link/link-store.js';
import type { RecordFamily } from '../src/families/family.js';
import type { UnavailableFamily } from '../src/families/registry.js';
import { describeSubscriptionLines, viewSubscriptions } from '../src/feed/subscription-status.js';
import { listRuns } from '../src/sync/run-log.js';
import { listFailures } from '../src/sync/sync-failures.js';
import { describeUnfit, readUnfitValues } from '../src/sync/unfit-values.js';
import { readSyncState, readWatermarks } from '../src/sync/sync-state.js';

const FAILURES_SHOWN = 20;
const RUNS_SHOWN = 5;

/** The call budget's pause as read from its store; `unknown` when the store did not answer. */
export type PauseReading = CallPause | null | 'unknown';

function pauseLine(pause: PauseReading): string {
  if (pause === 'unknown')
    return 'Odoo calls: unknown whether paused (the queue Redis did not answer)';
  if (pause === null) return 'Odoo calls: not paused';
  return `Odoo calls: paused fleet-wide for ${Math.ceil(pause.remainingMs / 1_000)} s more (Odoo answered ${pause.status}: every process waits, then retries)`;
}

/**
 * The call budget's pause, read once from the queue Redis when one is configured (`unknown` when
 * it does not answer within a couple of seconds: status is still printed), or from `db` when the
 * fleet keeps it in PostgreSQL (QUEUE_BACKEND=postgres without Redis).
 */
export async function readPauseOnce(
  config: Config,
  logger: Logger,
  db?: Db,
): Promise<PauseReading> {
  if (!config.odoo) return null;
  if (!config.redis.url)
    return config.queues.backend === 'postgres' && db
      ? readCallPause({ kind: 'postgres', db }, config.odoo)
      : null;
  const redis = openQueueRedis(
    config.redis.url,
    {
      lazyConnect: true,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    },
    config.redis,
  );
  redis.on('error', (error: Error) => logger.debug({ err: error }, 'status: queue Redis'));
  try {
    await redis.connect();
    return await readCallPause(
      { kind: 'redis', redis, prefix: config.redis.queuePrefix },
      config.odoo,
    );
  } catch {
    return 'unknown';
  } finally {
    redis.disconnect();
  }
}

export async function describeStatus(
  db: Db,
  families: readonly RecordFamily[],
  unavailable: readonly UnavailableFamily[] = [],
  odoo?: OdooConfig,
  pause: PauseReading = null,
): Promise<{ text: string; data: unknown }> {
  const link = await readLinkStatus(db, odoo);
  const sections = await Promise.all(
    families.map(async (family) => {
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
            } archived=${r.archived} failed=${r.failed}`,
        ),
      ];
      return {
        text: lines.join('\n'),
        data: {
          family: family.name,
          state,
          watermarks,
          runs,
          failures: failures.rows,
          pendingFailures: failures.total,
          unfitValues: unfit,
        },
      };
    }),
  );
  const waiting = unavailable.map((family) => ({
    text: [
      `${family.name} (${family.models.join(', ')})`,
      `  unavailable:   ${family.reason} (code FAMILY_NOT_MIGRATED); its jobs fail, the other families are copied`,
    ].join('\n'),
    data: { family: family.name, available: false, unavailableReason: family.reason },
  }));
  const subscriptions = await viewSubscriptions(db);
  return {
    text: [
      ...(link ? [[...linkStatusLines(link), pauseLine(pause)].join('\n')] : []),
      ...[...sections, ...waiting].map((section) => section.text),
      describeSubscriptionLines(subscriptions).join('\n'),
    ].join('\n\n'),
    data: {
      odoo: link,
      odooCallPause: pause,
      families: [
        ...sections.map((section) => ({ ...section.data, available: true })),
        ...waiting.map((section) => section.data),
      ],
      subscriptions,
    },
  };
}
