/**
 * What Odoo computes on its own for a model, beyond storing the values it is given: defaults,
 * stored computes and related fields, the display name, and how a change to some records moves
 * others (a move's amounts when its lines change, a contact's name when its company is renamed).
 * Each family declares its rules in a module of this folder; a model without rules only stores.
 *
 * The hooks run inside the ORM call, in the caller's transaction: a record they change is
 * stamped with that transaction's time, as Odoo's recompute does (`_write_multi` sets
 * `write_date`), and only when a stored value really changed.
 */
import type { Row } from '../sandbox-domain.js';
import type { SandboxTables } from '../sandbox-tables.js';

/** Who calls and when: the transaction a mutation belongs to. */
export interface TransactionInfo {
  uid: number;
  nowMicros: number;
}

/** Options of a write or an unlink that only tests use. */
export interface WriteOptions {
  /** On child lines: also recompute the parent's amounts and move its write_date (default false). */
  bumpParent?: boolean;
  /** Let magic fields (write_date…) through, for tests that need an exact timestamp. */
  allowMagic?: boolean;
  /**
   * Made by another of Odoo's users (the control's writes), not the API user: the records the
   * API user's record rules hide are there to write (default false).
   */
  asAnotherUser?: boolean;
}

/** What a hook may use: the tables, the transaction and the sequences. */
export interface RuleContext {
  readonly tables: SandboxTables;
  readonly tx: TransactionInfo;
  /** The next number of a sequence (`ir.sequence`), starting at 1. */
  nextNumber(sequence: string): number;
}

/** A display name, or False when the record's name is empty (Odoo reads `[id, False]` then). */
export type DisplayName = string | false;

export interface ModelRules {
  /** `default=` values of a new record; `given` holds the values the caller set. */
  defaults?(given: Readonly<Record<string, unknown>>, ctx: RuleContext): Record<string, unknown>;
  /** A new record's stored computes and related fields, before the required check. */
  computeNew?(row: Row, ctx: RuleContext): void;
  /** After records were created and their x2many commands applied. */
  created?(rows: readonly Row[], ctx: RuleContext, options: WriteOptions): void;
  /** Odoo's constraints on a write, checked before anything changes (raise to refuse it). */
  checkWrite?(
    rows: readonly Row[],
    values: Readonly<Record<string, unknown>>,
    tables: SandboxTables,
  ): void;
  /** Fields whose value before a write `written` receives (by record id). */
  tracked?: readonly string[];
  /** After rows were written; `changed` names the fields set, x2many fields included. */
  written?(
    rows: readonly Row[],
    changed: ReadonlySet<string>,
    ctx: RuleContext,
    options: WriteOptions,
    before?: ReadonlyMap<number, Readonly<Record<string, unknown>>>,
  ): void;
  /** After rows were deleted by `unlink` (rows a cascade deletes are not passed). */
  unlinked?(rows: readonly Row[], ctx: RuleContext, options: WriteOptions): void;
  /**
   * After the database emptied `field` on these rows because its target was deleted (a foreign
   * key's ON DELETE SET NULL): no write, but Odoo recomputes what depended on the target.
   */
  referenceCleared?(rows: readonly Row[], field: string, ctx: RuleContext): void;
  /** Stored computes of rows a data generator inserted as they are (no stamp moves). */
  recomputeStored?(rows: readonly Row[], tables: SandboxTables): void;
  /** The record's display name in `lang`; default: its `_rec_name` value. */
  displayName?(row: Row, lang: string, tables: SandboxTables): DisplayName;
}

/** Stamps a row with the transaction, as a recompute flushed by Odoo does. */
export function stamp(row: Row, tx: TransactionInfo): void {
  row.write_date = tx.nowMicros;
  row.write_uid = tx.uid;
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
