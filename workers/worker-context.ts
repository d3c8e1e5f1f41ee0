/** What every processor is handed: the sync domain's dependencies and the queues to add children to. */
import type { CheckSection } from '../src/check/check-report.js';
import type { FeedDeliveryDeps } from '../src/feed/deliver.js';
import type { Logger } from '../src/lib/logger.js';
import type { NudgeFlags } from '../src/queues/feed-nudge.js';
import type { Queues } from '../src/queues/queues.js';
import type { ModelClaims } from '../src/sync/model-claims.js';
import type { SyncDeps } from '../src/sync/sync-deps.js';
import type { Config } from '../src/config/config.js';

export interface WorkerContext {
  /** The default source's: its Odoo; the database and the families every source shares. */
  readonly sync: SyncDeps;
  /**
   * The sync's dependencies for a family's source (docs/sources.md): its Odoo, its call budget
   * and its schema cache.
   * @throws AppError `UNKNOWN_SOURCE` for a source this process does not copy
   */
  syncOf(family: string): SyncDeps;
  readonly queues: Queues;
  /** Which family copies each model, fleet-wide: a job of a family refused one writes nothing. */
  readonly claims: ModelClaims;
  readonly logger: Logger;
  /** The jobs' settings, as the configuration declares them. */
  readonly settings: Pick<Config['sync'], 'runPagesInFlight'>;
  /** The change feed's deliveries and retention (src/feed). */
  readonly feed: FeedContext;
  /**
   * A source's Odoo checked with this process's credentials (src/check): the `check-odoo` job.
   * @throws AppError `CHECK_UNAVAILABLE` where no configuration gives the check what it needs
   */
  checkSource(source: string, signal: AbortSignal): Promise<CheckSection>;
}

export interface FeedContext {
  readonly delivery: FeedDeliveryDeps;
  /** FEED_RETENTION_DAYS. */
  readonly retentionDays: number;
  /** A nudge that came while a delivery job ran: it reads once more before it completes. */
  readonly flags: NudgeFlags;
}
