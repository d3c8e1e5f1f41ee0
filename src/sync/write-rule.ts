/**
 * The writer's rule, pure: given what the copy holds of a record and what Odoo sent, whether to
 * write it and what its audit row says. `write-records.ts` and `model-rows.ts` run the
 * statements; the decision is here, tested as a table (write-rule.test.ts).
 *
 * - Stamps guard the copy: a version stamped before the stored one is stale and never overwrites
 *   it (a late retry of a stale job cannot undo a newer change); with an equal stamp the data
 *   decide, since two commits in one second share a stamp.
 * - A stored stamp later than Odoo's clock (plus the margin) was set by a clock that ran ahead: it
 *   never makes a newer version stale, or the record would freeze until Odoo's clock caught up.
 * - Under the family's lease, healing from Odoo's current record (the reconcile's re-read, the
 *   verify), Odoo's version is the truth even when its stamp is older than the copy's (an Odoo
 *   restored from a backup): it is written, audited `drift` with its reason.
 * - Unless the reads may lag (a read replica): then an older stamp is Odoo's current record only
 *   over a stored stamp within what the reads have shown whole. A later one may be a version the
 *   replica has not replayed yet (the copy got it from the primary, or from a read of another
 *   replica): the copy keeps it, as for a stale version, until the reads show it. Equal stamps
 *   are decided by their data as always: a version of the same second written from a replica
 *   behind is read again by the runs until the settled stamps prove it (settled.ts).
 * - An authoritative write replaces only rows not written since its read began: a webhook or a
 *   resync (which take no lease) may have written a newer version meanwhile, and putting the
 *   version it read back would undo that one, audited as drift, until the next run read it
 *   again. A row written since, of a stamp at or after the one read, is left as it is (stale).
 * - No write restores a root archived since its read began: a webhook's deletion, confirmed while
 *   a page or another webhook's read was on its way, would be undone by that older read, and a
 *   deleted record is in no later scan: it would stay live until the nightly reconcile.
 */
import { changedFields, type OdooRecordData } from '../families/map-record.js';

/** What the copy holds of a record. */
export interface StoredVersion {
  readonly writeDate: Date;
  readonly data: OdooRecordData;
  /** A root archived in the copy (gone from Odoo, or archived by a reconcile). */
  readonly archived: boolean;
  /** When the copy archived it (the database's clock). */
  readonly archivedAt?: Date | undefined;
  /** Written under an older layout of its table (docs/models.md). */
  readonly staleLayout: boolean;
  /** When the copy last wrote it (its `synced_at`, the database's clock). */
  readonly writtenAt?: Date;
}

/** What Odoo sent. */
export interface IncomingVersion {
  readonly writeDate: Date;
  readonly data: OdooRecordData;
  /** Fields the reads leave out on purpose: a stored one goes. */
  readonly unread: readonly string[];
}

/** How the write is made. */
export interface WriteMode {
  /**
   * A verify healing what it found different: every record handed over differs from Odoo (its
   * content, its links or its columns), and every write is audited `drift`.
   */
  readonly drift: boolean;
  /** Whether the verify found this record's links or typed columns different from Odoo's. */
  readonly rewrite: boolean;
  /** Under the family's lease, from Odoo's current record: stamps do not guard. */
  readonly authoritative: boolean;
  /** A stored stamp later than this was set by a clock ahead of Odoo's (undefined: unknown). */
  readonly futureAfter: Date | undefined;
  /**
   * With reads that may lag, the latest stamp whose every version the reads show (settled.ts
   * `shownThrough`): an authoritative write never replaces, with an older stamp, a stored one
   * later than it. Undefined: the reads show every commit.
   */
  readonly shownThrough: Date | undefined;
  /**
   * When the write's read of Odoo began (the database's clock). A root archived since is not
   * restored by it: the read may have come before the deletion the archive followed. Under an
   * authoritative write, a row written since is not replaced by a version stamped at or before its
   * own either.
   */
  readonly readSince?: Date | undefined;
}

export type AuditedAction = 'created' | 'updated' | 'restored' | 'relaid' | 'drift';

export interface AuditEntry {
  readonly action: AuditedAction;
  readonly changed: string[];
  /** Why a record was written against its stamps. */
  readonly reason?: string;
}

/** Whether to write, and the audit row (none for `relaid`: Odoo changed nothing). */
export type Decision =
  | { readonly write: false; readonly stale: boolean }
  | { readonly write: true; readonly audit: AuditEntry };

export const STAMP_WENT_BACK =
  "Odoo's stamp is older than the copy's: Odoo's current record is the truth (an Odoo restored from a backup?)";
export const STAMP_FROM_FUTURE =
  "the copy's stamp was later than Odoo's clock: set by a clock that ran ahead";

/** The decision for one record (a root, or a child under its root). */
export function decide(
  stored: StoredVersion | undefined,
  incoming: IncomingVersion,
  mode: WriteMode,
): Decision {
  if (!stored)
    return { write: true, audit: { action: mode.drift ? 'drift' : 'created', changed: [] } };
  const wentBack = stored.writeDate.getTime() > incoming.writeDate.getTime();
  const fromFuture =
    wentBack && mode.futureAfter !== undefined && stored.writeDate > mode.futureAfter;
  // The reads may not have shown the stored version yet: Odoo's older answer may be behind it.
  const unshown = mode.shownThrough !== undefined && stored.writeDate > mode.shownThrough;
  if (wentBack && (!mode.authoritative || unshown) && !fromFuture)
    return { write: false, stale: true };
  // Written since this read began, by a write that read Odoo later: what it holds stands.
  const writtenSince =
    mode.authoritative &&
    mode.readSince !== undefined &&
    stored.writtenAt !== undefined &&
    stored.writtenAt > mode.readSince;
  if (writtenSince && !fromFuture && incoming.writeDate.getTime() <= stored.writeDate.getTime())
    return { write: false, stale: true };
  // Archived since this read began (a deletion confirmed meanwhile): the read may predate it.
  const archivedSince =
    stored.archived &&
    mode.readSince !== undefined &&
    stored.archivedAt !== undefined &&
    stored.archivedAt > mode.readSince;
  if (archivedSince) return { write: false, stale: true };
  const changed = changedFields(stored.data, incoming.data, incoming.unread);
  if (stored.archived) return { write: true, audit: { action: 'restored', changed } };
  if (wentBack)
    return {
      write: true,
      audit: { action: 'drift', changed, reason: fromFuture ? STAMP_FROM_FUTURE : STAMP_WENT_BACK },
    };
  if (mode.drift)
    return changed.length > 0 || mode.rewrite
      ? { write: true, audit: { action: 'drift', changed } }
      : { write: false, stale: false };
  if (stored.staleLayout && changed.every((name) => !(name in stored.data)))
    return { write: true, audit: { action: 'relaid', changed } };
  return changed.length > 0
    ? { write: true, audit: { action: 'updated', changed } }
    : { write: false, stale: false };
}

/**
 * The decision for a child, which may have moved from another root: a moved child is written
 * (re-parented) whatever its data, and is never only `relaid`.
 */
export function decideChild(
  stored: (StoredVersion & { readonly moved: boolean }) | undefined,
  incoming: IncomingVersion,
  mode: WriteMode,
): Decision {
  const decision = decide(stored, incoming, mode);
  if (!stored?.moved) return decision;
  if (!decision.write)
    return decision.stale
      ? decision
      : { write: true, audit: { action: mode.drift ? 'drift' : 'updated', changed: [] } };
  return decision.audit.action === 'relaid'
    ? { write: true, audit: { ...decision.audit, action: 'updated' } }
    : decision;
}
