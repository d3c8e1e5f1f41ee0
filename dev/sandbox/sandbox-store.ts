/**
 * The sandbox's database and ORM: committed records of every model, indexed by id, and the ORM
 * methods the external API exposes (`search`, `read`, `search_read`, `search_count`,
 * `fields_get`, `create`, `write`, `unlink`), with Odoo's read conventions and time model.
 *
 * Time model: every mutation carries the timestamp of the transaction it belongs to (the RPC
 * call's start, or a long transaction's start) in microseconds; that is what `write_date` and
 * `create_date` get and what domains compare against, while reads send whole seconds. Each RPC
 * call runs synchronously, so it is atomic and its changes are visible when it returns; long
 * transactions stage their changes and apply them at commit (see odoo-sandbox.ts).
 *
 * This is the one object the server holds; the work is done by the layers it composes: tables
 * and indexes (sandbox-tables.ts), queries (sandbox-search.ts), reads (sandbox-reads.ts),
 * `fields_get` (sandbox-fields-get.ts), writes (sandbox-writes.ts) and what Odoo computes on its
 * own (rules/).
 *
 * Each mutation is a commit, or part of one (`atomically`): the store tells its commit listener
 * (the read replica, sandbox-replica.ts) once the commit is whole.
 */
import type { PyValue, RecordList } from './python-values.js';
import type { Row } from './sandbox-domain.js';
import type { FieldSpec } from './models/field-spec.js';
import type { TransactionInfo } from './rules/model-rules.js';
import { langContext, readContextOf, SandboxReads, type ReadContext } from './sandbox-reads.js';
import { search, type SearchOptions } from './sandbox-search.js';
import { SandboxAccess } from './sandbox-access.js';
import type { SandboxCatalogue } from './sandbox-models.js';
import { SandboxTables, type SandboxTable, type TableSnapshot } from './sandbox-tables.js';
import { SOURCE_LANG } from './sandbox-translations.js';
import { SandboxWrites, type CallOptions, type WriteOptions } from './sandbox-writes.js';
import type { DisplayName } from './rules/model-rules.js';

export type { TransactionInfo } from './rules/model-rules.js';
export { langOf, readContextOf, type ReadContext } from './sandbox-reads.js';
export type { SearchOptions } from './sandbox-search.js';
export type { SandboxTable } from './sandbox-tables.js';
export type { CallOptions, WriteOptions } from './sandbox-writes.js';

/** The committed state of every table at one commit. */
export type StoreSnapshot = ReadonlyMap<string, TableSnapshot>;

export interface SandboxStoreOptions {
  /** The models served (default: the sandbox's own). */
  catalogue?: SandboxCatalogue;
  /** The sandbox clock, for what Odoo computes against today. */
  nowMicros?: () => number;
  /** The API user's access rights (a replica shares its primary's). */
  access?: SandboxAccess;
  /** The Odoo series played (default 19): which methods exist, which warn. */
  major?: number;
}

export class SandboxStore {
  private readonly tables: SandboxTables;
  private readonly reads: SandboxReads;
  private readonly writes: SandboxWrites;
  /** The API user's access rights. */
  readonly access: SandboxAccess;
  /** What `res.users.context_get` answers for the API user. */
  userContext: { lang: string; tz: string } = { lang: 'fr_FR', tz: 'Africa/Casablanca' };
  /** Told after each whole commit. */
  onCommit: (() => void) | undefined;
  /** The warnings Odoo's log would hold (a deprecated method called), oldest first. */
  readonly warnings: string[] = [];
  private openCommits = 0;

  constructor(private readonly options: SandboxStoreOptions = {}) {
    this.access = options.access ?? new SandboxAccess();
    this.tables = new SandboxTables(options.catalogue, options.nowMicros, options.major);
    this.reads = new SandboxReads(this.tables, this.access, options.major);
    this.writes = new SandboxWrites(this.tables);
  }

  /**
   * Runs `apply` as one commit: the commit listener hears of it once, after the outermost one
   * (a long transaction's staged changes, a create with its lines).
   */
  atomically<T>(apply: () => T): T {
    this.openCommits += 1;
    try {
      return apply();
    } finally {
      this.openCommits -= 1;
      if (this.openCommits === 0) this.onCommit?.();
    }
  }

  /** Every table's committed state now. */
  snapshot(): StoreSnapshot {
    return this.tables.snapshot();
  }

  /** A store of the same models holding `snapshot`, for reads only (a replica's state). */
  replicaAt(snapshot: StoreSnapshot): SandboxStore {
    const replica = new SandboxStore({ ...this.options, access: this.access });
    replica.tables.restore(snapshot);
    return replica;
  }

  /** The Odoo series played. */
  get major(): number {
    return this.options.major ?? 19;
  }

  table(model: string): SandboxTable | undefined {
    return this.tables.table(model);
  }

  /** Every model's name. */
  models(): string[] {
    return this.tables.models();
  }

  /** The table, or an error for a model the sandbox does not have. */
  requireTable(model: string): SandboxTable {
    return this.tables.requireTable(model);
  }

  displayName(model: string, id: number, lang: string = SOURCE_LANG): DisplayName {
    return this.tables.displayName(model, id, lang);
  }

  /** The display name of a row that may not be stored yet (a create's preview). */
  displayNameOf(model: string, row: Row, lang: string = SOURCE_LANG): DisplayName {
    return this.tables.displayNameOf(this.tables.requireTable(model), row, lang);
  }

  /** An x2many's ids for a row (stored or previewed), in the comodel's order. */
  x2manyIds(model: string, field: FieldSpec, row: Row, lang: string = SOURCE_LANG): number[] {
    return field.type === 'one2many'
      ? this.tables.one2manyIds(field, row.id, lang)
      : this.tables.many2manyIds(field, row, lang);
  }

  // --- ORM: reading -----------------------------------------------------------------------

  search(model: string, domain: unknown, options: SearchOptions = {}): number[] {
    return search(this.tables, model, domain, options);
  }

  searchCount(
    model: string,
    domain: unknown,
    options: { limit?: unknown; context?: Record<string, unknown> } = {},
  ): number {
    return this.search(model, domain, {
      limit: options.limit,
      context: options.context,
      order: 'id',
    }).length;
  }

  /**
   * `read`: records that do not exist are dropped silently; hidden ones raise AccessError.
   * `load` '_classic_read' gives many2one as `[id, name]`, anything else a bare id.
   */
  read(
    model: string,
    ids: unknown,
    fields: unknown,
    load: unknown = '_classic_read',
    options: { ignoreRules?: boolean; lang?: string } = {},
  ): Array<Record<string, PyValue>> {
    return this.reads.read(model, ids, fields, load, {
      ignoreRules: options.ignoreRules,
      context: langContext(options.lang),
    });
  }

  /** `read` for an RPC answer: the same records, which XML-RPC marshals from the rows directly. */
  readList(
    model: string,
    ids: unknown,
    fields: unknown,
    load: unknown = '_classic_read',
    context: ReadContext = langContext(),
  ): RecordList {
    return this.reads.readList(model, ids, fields, load, context);
  }

  searchReadList(
    model: string,
    domain: unknown,
    fields: unknown,
    options: SearchOptions & { load?: unknown } = {},
  ): RecordList {
    const table = this.tables.requireTable(model);
    // Odoo checks the field names before searching; `active_test` is for the search alone: the
    // read drops it (models.py, search_read), and its x2many values leave archived targets out.
    const context = { ...readContextOf(options.context), activeTest: true };
    this.reads.readers(table, fields, true, context);
    const ids = this.search(model, domain, options);
    return this.reads.readList(model, ids, fields, options.load ?? '_classic_read', context);
  }

  /** `fields_get(allfields, attributes)`: `attributes` filters each description exactly. */
  fieldsGet(
    model: string,
    allfields: unknown,
    attributes: unknown,
  ): Record<string, Record<string, PyValue>> {
    return this.reads.fieldsGet(model, allfields, attributes);
  }

  // --- ORM: writing -----------------------------------------------------------------------

  /**
   * `create(vals_list)`: a dict or a list of dicts → the new ids. `ids` lets a long transaction
   * use ids it reserved when the record was staged.
   */
  create(
    model: string,
    valsList: readonly unknown[],
    tx: TransactionInfo,
    reservedIds?: readonly number[],
    options: CallOptions = {},
  ): number[] {
    return this.atomically(() => this.writes.create(model, valsList, tx, reservedIds, options));
  }

  /** Reserves an id now (PostgreSQL sequences are not transactional) for a later create. */
  reserveId(model: string): number {
    return this.writes.reserveId(model);
  }

  /** `write(ids, vals)`. @throws MissingError when a record no longer exists. */
  write(
    model: string,
    ids: unknown,
    vals: unknown,
    tx: TransactionInfo,
    options: CallOptions = {},
  ): void {
    this.atomically(() => this.writes.write(model, ids, vals, tx, options));
  }

  /** `unlink()`: records pointing at the deleted ones follow their field's `ondelete`. */
  unlink(model: string, ids: unknown, tx: TransactionInfo, options: WriteOptions = {}): void {
    this.atomically(() => this.writes.unlink(model, ids, tx, options));
  }

  /**
   * The record a create or a write would leave, not applied: what a webhook reads inside the
   * transaction. `base` is the record as the transaction already changed it, if it did.
   */
  preview(
    model: string,
    id: number,
    vals: Record<string, unknown>,
    tx: TransactionInfo,
    mode: 'create' | 'write',
    options: { base?: Row; lang?: string } = {},
  ): Row {
    return mode === 'create'
      ? this.writes.previewCreate(model, id, vals, tx, options.lang)
      : this.writes.previewWrite(model, id, vals, tx, options);
  }

  // --- schema changes (a module installed, upgraded or uninstalled) -----------------------

  /**
   * A stored field appears, and existing records get `value` the way Odoo's `_init_column`
   * fills a new column: one SQL UPDATE, no write, so no `write_date` moves.
   */
  addField(model: string, field: FieldSpec, value: unknown): void {
    this.atomically(() => this.addFieldNow(model, field, value));
  }

  private addFieldNow(model: string, field: FieldSpec, value: unknown): void {
    const table = this.tables.requireTable(model);
    if (field.type === 'one2many') {
      this.tables.ensureIndexed(
        this.tables.requireTable(field.relation as string),
        field.relationField as string,
      );
    } else if (field.type === 'many2many') {
      // No column: the link table starts empty, whatever the default.
      for (const row of table.rows.values()) row[field.name] = [];
    } else {
      const stored = this.writes.storedValue(table, field, value);
      for (const row of table.rows.values()) row[field.name] = stored;
      if (stored !== null) table.addedDefaults.set(field.name, stored);
    }
    this.tables.addField(table, field);
    this.reads.schemaChanged();
  }

  removeField(model: string, name: string): void {
    this.atomically(() => {
      this.tables.removeField(this.tables.requireTable(model), name);
      this.reads.schemaChanged();
    });
  }

  /** A record rule hides these records from the API user (searches skip them, reads fault 4). */
  hide(model: string, ids: readonly number[], hidden: boolean): void {
    const table = this.tables.requireTable(model);
    this.atomically(() => {
      for (const id of ids) {
        if (hidden) table.hidden.add(id);
        else table.hidden.delete(id);
      }
    });
  }

  // --- the data generators' and the fault injection's raw paths ---------------------------

  /**
   * Inserts a record exactly as given (internal values: datetimes in microseconds, many2one as
   * ids), every other stored field empty. The data generators' fast path: no defaults, no checks.
   */
  insertSeedRow(model: string, values: Record<string, unknown> & { id: number }): void {
    this.writes.insertSeedRow(model, values);
  }

  /** Recomputes stored computes of generated records without writing them (no stamp moves). */
  recomputeStored(model: string, ids: readonly number[]): void {
    const table = this.tables.requireTable(model);
    const rows = ids.flatMap((id) => table.rows.get(id) ?? []);
    this.atomically(() => table.rules.recomputeStored?.(rows, this.tables));
  }

  /** Advances a sequence past the numbers a generator used (`dimagaz.bc`: `P00001`…). */
  advanceSequence(sequence: string, value: number): void {
    this.writes.advanceSequence(sequence, value);
  }

  /**
   * Overwrites stored values as given, without stamps, defaults or checks: the broken rows a
   * real database ends up with (an empty `write_date` after a bad migration, a line whose BC
   * was cleared by SQL), which no ORM call can produce.
   */
  overwriteRaw(model: string, id: number, values: Record<string, unknown>): void {
    this.atomically(() => this.writes.overwriteRaw(model, id, values));
  }
}
