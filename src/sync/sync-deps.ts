/** What the sync domain is given by its caller (a processor, the CLI, a test). */
import type { Db } from '../db/create-db.js';
import type { Logger } from '../lib/logger.js';
import type { FieldsCache } from './fetch.js';
import type { LeaseHeartbeat } from './lease.js';
import type { OdooSource } from './odoo-source.js';

export interface SyncSettings {
  readonly leaseSeconds: number;
  readonly overlapSeconds: number;
  readonly pageSize: number;
  /** Reconcile refuses to archive when Odoo reports fewer than this share of our live BCs. */
  readonly reconcileMinRatio: number;
}

export interface SyncDeps {
  readonly db: Db;
  readonly odoo: OdooSource;
  readonly logger: Logger;
  readonly settings: SyncSettings;
  readonly fields: FieldsCache;
  readonly heartbeat: LeaseHeartbeat;
}
