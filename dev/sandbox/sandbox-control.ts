/**
 * The sandbox's control interface for tests: mutations that are each their own committed
 * transaction, long transactions whose changes appear at commit with their start as
 * `write_date`, the committed state as a client would decode it, record rules, failure
 * injection and call counts. Not reachable over HTTP: tests hold it in-process.
 */
import { callLogOf, type SandboxCallLog, type SandboxFaults } from './sandbox-faults.js';
import type { FieldSpec } from './models/field-spec.js';
import { PyFloat, type PyValue } from './python-values.js';
import type { Row } from './sandbox-domain.js';
import type { SandboxDeniedModel } from './sandbox-access.js';
import { createMailControl, type SandboxMailControl } from './sandbox-mail-control.js';
import type { SandboxReplica } from './sandbox-replica.js';
import type { SandboxStore, TransactionInfo } from './sandbox-store.js';
import { SOURCE_LANG } from './sandbox-translations.js';
import { webhookDelivery } from './sandbox-webhook-payload.js';
import type {
  SandboxWebhookChaos,
  SandboxWebhookChaosCounts,
  SandboxWebhookPost,
  SandboxWebhookRule,
  SandboxWebhooks,
} from './sandbox-webhooks.js';

/** Options of a control-interface write. */
export interface SandboxWriteOptions {
  /**
   * On lines: also recompute the parent's amounts and move its `write_date` (default false; a
   * journal item's move moves anyway when its amounts change).
   */
  bumpParent?: boolean;
  /** The context's language: which text of a translated field is set (default en_US). */
  lang?: string;
}

/** A long transaction: changes staged now, stamped with its start, visible at `commit()`. */
export interface SandboxTransaction {
  /** The transaction's timestamp (`cr.now()`), with microseconds. */
  readonly startMicros: number;
  readonly startedAt: Date;
  /** Reserves the id now (sequences are not transactional); the record appears at commit. */
  create(model: string, vals: Record<string, unknown>): number;
  write(
    model: string,
    ids: number | readonly number[],
    vals: Record<string, unknown>,
    options?: SandboxWriteOptions,
  ): void;
  archive(model: string, ids: number | readonly number[]): void;
  unlink(model: string, ids: number | readonly number[], options?: SandboxWriteOptions): void;
  /**
   * Commits: its webhooks are posted now, its changes appear once `after` resolved (default at
   * once) — a transaction that goes on working after its automation rules fired. Other
   * transactions commit meanwhile.
   */
  commit(options?: { after?: Promise<void> }): void;
  rollback(): void;
}

export interface SandboxRecordsOptions {
  /** Default: every stored field. */
  fields?: readonly string[];
  /** Default `'_classic_read'` (many2one as `[id, name]`). */
  load?: '' | '_classic_read';
  /** Only these ids. */
  ids?: readonly number[];
  /** Language of translatable texts (default: the API user's, as `context_get` reports it). */
  lang?: string;
}

/** The test-facing side of the sandbox. Every mutation is its own committed transaction. */
export interface SandboxControl extends SandboxMailControl, SandboxCallLog {
  /** The sandbox clock in microseconds (strictly increasing). */
  nowMicros(): number;
  /** `options.lang`: the context's language, which text of a translated field is set. */
  create(model: string, vals: Record<string, unknown>, options?: { lang?: string }): number;
  write(
    model: string,
    ids: number | readonly number[],
    vals: Record<string, unknown>,
    options?: SandboxWriteOptions,
  ): void;
  archive(model: string, ids: number | readonly number[]): void;
  unarchive(model: string, ids: number | readonly number[]): void;
  unlink(model: string, ids: number | readonly number[], options?: SandboxWriteOptions): void;
  begin(): SandboxTransaction;
  /**
   * Breaks a stored record the way only direct SQL can (no stamp, no check): internal values,
   * `null` for empty (`{ write_date: null }`, `{ bc_id: null }`).
   */
  corrupt(model: string, id: number, values: Record<string, unknown>): void;
  /**
   * The committed records as a client would decode them from `read` (archived and hidden ones
   * included), sorted by id: what a sync's copy should equal.
   */
  records(
    model: string,
    options?: SandboxRecordsOptions,
  ): Array<Record<string, unknown> & { id: number }>;
  /** Committed ids, ascending (archived included unless `activeOnly`). */
  ids(model: string, options?: { activeOnly?: boolean }): number[];
  /** The exact stored `write_date` (microseconds), which the wire truncates. */
  writeDateMicros(model: string, id: number): number | undefined;
  /** Names of the model's stored fields, as `fields_get` reports them. */
  storedFields(model: string): string[];
  /** A field's type and relation, as `fields_get` reports them; undefined for a field the model lacks. */
  field(
    model: string,
    name: string,
  ): { type: string; relation?: string; groups?: string } | undefined;
  /**
   * A module installed or upgraded adds a stored field: `fields_get` lists it at once, and every
   * existing record gets `options.default` (given as a write would send it) without its
   * `write_date` moving — Odoo fills a new column with one SQL UPDATE (`_init_column`), not
   * with writes. Records created later get the default too. A many2many starts with no links;
   * a one2many reads its comodel's records pointing back.
   */
  addField(model: string, field: FieldSpec, options?: { default?: unknown }): void;
  /**
   * A module uninstalled drops a stored field: `fields_get` no longer lists it, reading it is
   * Odoo's "Invalid field" fault, its values are gone; no `write_date` moves.
   */
  removeField(model: string, name: string): void;
  /**
   * The API user loses the right to read `denied.model` (Odoo's ACL): `check_access_rights`
   * answers False, reads and searches on it fault 4, and so does reading a one2many into it.
   */
  denyRead(denied: SandboxDeniedModel): void;
  /** The API user may read `model` again (as far as its dump's access says). */
  allowRead(model: string): void;
  /** A record rule hides these records from the API user (searches skip them, reads fault 4). */
  hide(model: string, ids: number | readonly number[]): void;
  unhide(model: string, ids: number | readonly number[]): void;
  /** Changes the accepted password/API key (the old one is revoked at once). */
  setPassword(password: string): void;
  /** Clears the login-failure counters of the cooldown. */
  resetLoginFailures(): void;
  /** The warnings Odoo would have logged so far (a deprecated method called), oldest first. */
  warnings(): readonly string[];
  /**
   * Automation rules that post a webhook on each change (create, write, deletion, or those of its
   * `on`) of a record of their models — the BC family by default, any model the sandbox serves —
   * from inside the transaction before its commit (undefined removes them). Several rules are
   * Odoo's usual set: one on create and edit with `write_date`, one on deletion to a URL with
   * `?event=deleted`. While a change fires one, it becomes visible only after its webhooks were
   * answered: await `settled()` to see it committed.
   */
  setWebhook(rules: SandboxWebhookRule | readonly SandboxWebhookRule[] | undefined): void;
  /** Resolves once every change waiting behind a webhook, or committing late, is committed. */
  settled(): Promise<void>;
  /**
   * Resolves once every change made so far is committed, but transactions committing late (their
   * posts left): a change of this control is visible to `records` after it.
   */
  committed(): Promise<void>;
  /**
   * What the network does to the webhooks' posts from now on (lost, twice, out of order), or
   * nothing (undefined); the changes commit as after any post.
   */
  setWebhookChaos(chaos: SandboxWebhookChaos | undefined): void;
  /** The posts the chaos lost, doubled and held back so far. */
  webhookChaosCounts(): SandboxWebhookChaosCounts;
  /**
   * Serves JSON-2's read-only methods (`search_read`, `read`, `search`, `search_count`,
   * `fields_get`) from a read replica that shows each commit `ms` after it, on the sandbox clock,
   * in commit order; 0 ends the lag (reads see every commit at once). Writes, other methods and
   * XML-RPC/JSON-RPC stay on the primary, and so do `records` and the other reads here.
   */
  setReplicaLagMs(ms: number): void;
  replicaLagMs(): number;
}

/** What the control interface drives. */
export interface SandboxControlDeps {
  store: SandboxStore;
  faults: SandboxFaults;
  /** A new transaction stamp (the sandbox clock's next reading). */
  transaction: () => TransactionInfo;
  nowMicros: () => number;
  setPassword: (password: string) => void;
  resetLoginFailures: () => void;
  webhooks: SandboxWebhooks;
  replica: SandboxReplica;
}

/** A change a webhook reports: its values, its kind, the language of its context. */
interface ReportedChange {
  vals: Record<string, unknown>;
  mode: 'create' | 'write' | 'unlink';
  lang?: string;
}

export function createSandboxControl(deps: SandboxControlDeps): SandboxControl {
  const { store, faults, transaction, webhooks } = deps;

  /**
   * The rule's posts for a change, each record read as the change leaves it inside the
   * transaction (before commit). `staged` carries the records a long transaction already
   * changed, so a later change of the same record previews from them.
   */
  function deliveriesFor(
    model: string,
    ids: readonly number[],
    what: ReportedChange,
    info: TransactionInfo,
    staged?: Map<string, Row>,
  ): SandboxWebhookPost[] {
    const rules = webhooks.firing(model, what.mode);
    if (rules.length === 0) return [];
    const lang = what.lang ?? SOURCE_LANG;
    return ids.flatMap((id) => {
      const key = `${model}#${id}`;
      const base = staged?.get(key);
      const row =
        what.mode === 'unlink'
          ? (base ?? store.requireTable(model).rows.get(id) ?? { id })
          : store.preview(model, id, what.vals, info, what.mode, { base, lang });
      staged?.set(key, row);
      return rules.map((rule) => ({
        rule,
        delivery: webhookDelivery(store, model, row, rule.fields ?? [], lang),
      }));
    });
  }

  /** One change in its own transaction, committed behind its webhook when a rule fires. */
  function change(
    model: string,
    ids: readonly number[],
    what: ReportedChange,
    apply: (info: TransactionInfo) => void,
  ): void {
    const info = transaction();
    const deliveries = deliveriesFor(model, ids, what, info);
    if (deliveries.length === 0) apply(info);
    else webhooks.sendThenCommit(deliveries, () => apply(info));
  }

  const control: SandboxControl = {
    nowMicros: deps.nowMicros,
    create(model, vals, createOptions = {}) {
      const id = store.reserveId(requireModel(model));
      change(model, [id], { vals, mode: 'create', lang: createOptions.lang }, (info) =>
        store.create(model, [vals], info, [id], createOptions),
      );
      return id;
    },
    write(model, ids, vals, writeOptions = {}) {
      const list = toIds(ids);
      change(requireModel(model), list, { vals, mode: 'write', lang: writeOptions.lang }, (info) =>
        store.write(model, list, vals, info, { ...writeOptions, asAnotherUser: true }),
      );
    },
    archive(model, ids) {
      control.write(model, ids, { [activeFieldOf(model)]: false });
    },
    unarchive(model, ids) {
      control.write(model, ids, { [activeFieldOf(model)]: true });
    },
    unlink(model, ids, writeOptions = {}) {
      const list = toIds(ids);
      change(requireModel(model), list, { vals: {}, mode: 'unlink' }, (info) =>
        store.unlink(model, list, info, { ...writeOptions, asAnotherUser: true }),
      );
    },
    setWebhook(rules) {
      const list: readonly SandboxWebhookRule[] =
        rules === undefined ? [] : Array.isArray(rules) ? rules : [rules as SandboxWebhookRule];
      for (const model of list.flatMap((rule) => rule.models ?? [])) requireModel(model);
      webhooks.configure(list);
    },
    settled: () => webhooks.settled(),
    committed: () => webhooks.committed(),
    setWebhookChaos: (chaos) => webhooks.setChaos(chaos),
    webhookChaosCounts: () => webhooks.chaosCounts(),
    begin() {
      return beginTransaction();
    },
    corrupt(model, id, values) {
      store.overwriteRaw(requireModel(model), id, values);
    },
    records(model, recordsOptions = {}) {
      const table = store.requireTable(requireModel(model));
      const fields = recordsOptions.fields ?? control.storedFields(model);
      const ids =
        recordsOptions.ids === undefined
          ? [...table.ids]
          : [...recordsOptions.ids].sort((a, b) => a - b);
      // The committed state, whatever the API user's record rules hide.
      return store
        .read(model, ids, fields, recordsOptions.load ?? '_classic_read', {
          ignoreRules: true,
          lang: recordsOptions.lang ?? store.userContext.lang,
        })
        .map((record) => unwrap(record) as Record<string, unknown> & { id: number });
    },
    ids(model, idsOptions = {}) {
      const table = store.requireTable(requireModel(model));
      const active = table.activeField;
      if (idsOptions.activeOnly !== true || active === undefined) return [...table.ids];
      return table.ids.filter((id) => table.rows.get(id)?.[active] === true);
    },
    writeDateMicros(model, id) {
      const value = store.requireTable(requireModel(model)).rows.get(id)?.write_date;
      return typeof value === 'number' ? value : undefined;
    },
    storedFields(model) {
      return store
        .requireTable(requireModel(model))
        .spec.fields.filter((field) => field.store)
        .map((field) => field.name);
    },
    field(model, name) {
      const spec = store.requireTable(requireModel(model)).fields.get(name);
      if (!spec) return undefined;
      return {
        type: spec.type,
        ...(spec.relation === undefined ? {} : { relation: spec.relation }),
        ...(spec.groups === undefined ? {} : { groups: spec.groups }),
      };
    },
    addField(model, field, fieldOptions = {}) {
      const table = store.requireTable(requireModel(model));
      if (table.fields.has(field.name))
        throw new Error(`${model} already has a field ${field.name}`);
      if (field.type === 'selection' && (field.selection ?? []).length === 0)
        throw new Error(`the selection field ${field.name} needs its selection`);
      if (['many2one', 'one2many', 'many2many'].includes(field.type)) {
        const comodel = store.table(field.relation ?? '');
        if (comodel === undefined)
          throw new Error(`${field.name}: the sandbox has no model ${String(field.relation)}`);
        const inverse = comodel.fields.get(field.relationField ?? '');
        if (
          field.type === 'one2many' &&
          (inverse?.type !== 'many2one' || inverse.relation !== model)
        )
          throw new Error(
            `${field.name}: ${String(field.relationField)} is not a many2one of ${comodel.spec.name} to ${model}`,
          );
      }
      store.addField(model, field, fieldOptions.default);
    },
    removeField(model, name) {
      const table = store.requireTable(requireModel(model));
      const field = table.fields.get(name);
      if (field === undefined) throw new Error(`${model} has no field ${name}`);
      if (MAGIC_FIELDS.includes(name)) throw new Error(`${name} is a magic field of every model`);
      if (table.spec.order.split(',').some((term) => term.trim().split(/\s+/)[0] === name))
        throw new Error(`${model} is ordered by ${name}`);
      const inverseOf = one2manyInverseOf(store, model, name);
      if (inverseOf !== undefined)
        throw new Error(`${name} is the inverse of the one2many ${inverseOf}: remove that first`);
      store.removeField(model, name);
    },
    denyRead: (denied) => store.access.deny(denied),
    allowRead: (model) => store.access.allow(model),
    hide: (model, ids) => store.hide(requireModel(model), toIds(ids), true),
    unhide: (model, ids) => store.hide(requireModel(model), toIds(ids), false),
    ...callLogOf(faults),
    setPassword: deps.setPassword,
    warnings: () => [...store.warnings],
    resetLoginFailures: deps.resetLoginFailures,
    setReplicaLagMs: (ms) => deps.replica.setLagMs(ms),
    replicaLagMs: () => deps.replica.lagMs(),
    ...createMailControl(store, {
      create: (model, vals) => control.create(model, vals),
      unlink: (model, ids) => control.unlink(model, ids),
    }),
  };

  function beginTransaction(): SandboxTransaction {
    const info = transaction();
    const staged: Array<() => void> = [];
    const deliveries: SandboxWebhookPost[] = [];
    const previews = new Map<string, Row>();
    let state: 'open' | 'committed' | 'rolled back' = 'open';
    const ensureOpen = (): void => {
      if (state !== 'open') throw new Error(`the transaction is already ${state}`);
    };
    return {
      startMicros: info.nowMicros,
      startedAt: new Date(Math.floor(info.nowMicros / 1000)),
      create(model, vals) {
        ensureOpen();
        const id = store.reserveId(requireModel(model));
        deliveries.push(...deliveriesFor(model, [id], { vals, mode: 'create' }, info, previews));
        staged.push(() => store.create(model, [vals], info, [id]));
        return id;
      },
      write(model, ids, vals, writeOptions = {}) {
        ensureOpen();
        const list = toIds(ids);
        deliveries.push(
          ...deliveriesFor(
            requireModel(model),
            list,
            { vals, mode: 'write', lang: writeOptions.lang },
            info,
            previews,
          ),
        );
        staged.push(() =>
          store.write(model, list, vals, info, { ...writeOptions, asAnotherUser: true }),
        );
      },
      archive(model, ids) {
        ensureOpen();
        const list = toIds(ids);
        const vals = { [activeFieldOf(model)]: false };
        deliveries.push(...deliveriesFor(model, list, { vals, mode: 'write' }, info, previews));
        staged.push(() => store.write(model, list, vals, info, { asAnotherUser: true }));
      },
      unlink(model, ids, writeOptions = {}) {
        ensureOpen();
        const list = toIds(ids);
        deliveries.push(
          ...deliveriesFor(requireModel(model), list, { vals: {}, mode: 'unlink' }, info, previews),
        );
        staged.push(() =>
          store.unlink(model, list, info, { ...writeOptions, asAnotherUser: true }),
        );
      },
      commit(commitOptions = {}) {
        ensureOpen();
        state = 'committed';
        // One commit: a replica shows all of it or none.
        const apply = () =>
          store.atomically(() => {
            for (const staging of staged) staging();
          });
        const commitAfter = commitOptions.after;
        if (deliveries.length === 0 && commitAfter === undefined) apply();
        else webhooks.sendThenCommit(deliveries, apply, { commitAfter });
      },
      rollback() {
        ensureOpen();
        state = 'rolled back';
      },
    };
  }

  /** The model's archive field; an error for a model that cannot be archived. */
  function activeFieldOf(model: string): string {
    const active = store.requireTable(requireModel(model)).activeField;
    if (active === undefined) throw new Error(`the sandbox model ${model} has no archive field`);
    return active;
  }

  function requireModel(model: string): string {
    if (store.table(model) === undefined) throw new Error(`the sandbox has no model ${model}`);
    return model;
  }

  return control;
}

const MAGIC_FIELDS = ['id', 'display_name', 'create_uid', 'create_date', 'write_uid', 'write_date'];

/** The one2many (as `model.field`) whose inverse is `model`'s field `name`, if any. */
function one2manyInverseOf(store: SandboxStore, model: string, name: string): string | undefined {
  for (const other of store.models()) {
    const table = store.requireTable(other);
    for (const field of table.spec.fields)
      if (field.type === 'one2many' && field.relation === model && field.relationField === name)
        return `${other}.${field.name}`;
  }
  return undefined;
}

function toIds(ids: number | readonly number[]): number[] {
  return typeof ids === 'number' ? [ids] : [...ids];
}

/** A read result as a client decodes it: Python floats are just numbers. */
function unwrap(value: PyValue): unknown {
  if (value instanceof PyFloat) return value.value;
  if (Array.isArray(value)) return (value as PyValue[]).map(unwrap);
  if (
    value !== null &&
    typeof value === 'object' &&
    !(value instanceof Date) &&
    !Buffer.isBuffer(value)
  ) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, PyValue>))
      out[key] = unwrap(item);
    return out;
  }
  return value;
}
