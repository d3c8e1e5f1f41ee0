/** What the sync domain is given by its caller (a processor, the CLI, a test). */
import type { Db } from '../db/create-db.js';
import type { Families } from '../families/registry.js';
import type { Logger } from '../lib/logger.js';
import type { LargeValues } from './large-reads.js';
import type { SchemaCache } from './odoo-reads.js';
import type { OdooSource } from './odoo-source.js';
import type { WriteLanes } from './write-lanes.js';

export interface SyncSettings {
  readonly leaseSeconds: number;
  readonly overlapSeconds: number;
  /** Roots a page reads at most (ODOO_PAGE_SIZE). */
  readonly pageSize: number;
  /**
   * The records of a page as JSON at most (ODOO_PAGE_MAX_BYTES): pages are sized by it, up to
   * `pageSize` roots (page-size.ts). Undefined: every page holds `pageSize` roots.
   */
  readonly pageMaxBytes?: number;
  /**
   * The largest value the copy takes from Odoo, as the answer that carries it alone
   * (ODOO_VALUE_MAX_BYTES): a record holding a larger one fails alone; no answer larger is read.
   * Undefined: no bound.
   */
  readonly valueMaxBytes?: number;
  /** Records per scan call (default SCAN_PAGE_SIZE): two small fields each. */
  readonly scanPageSize?: number;
  /** Reconcile refuses to archive when Odoo lists fewer than this share of the live roots. */
  readonly reconcileMinRatio: number;
  /** The verify checks every record once in this many slices, one a night (default 7). */
  readonly verifyCycleDays?: number;
  /**
   * A pending failure is retried by the next run, then waits this long, doubling with each
   * further failure (at most six hours).
   */
  readonly failureBackoffBaseMs: number;
}

export interface SyncDeps {
  readonly db: Db;
  readonly odoo: OdooSource;
  readonly logger: Logger;
  readonly settings: SyncSettings;
  /** The record families this deployment copies. */
  readonly families: Families;
  /** The stored fields and the context every read uses, cached for a while. */
  readonly schema: SchemaCache;
  /** What the process keeps of large values across its reads (large-reads.ts). */
  readonly largeValues: LargeValues;
  /** The process's batch writes in flight, every source's (write-lanes.ts). */
  readonly writeLanes: WriteLanes;
}
