/**
 * The rows of the sync's loss tests (docs/sync.md, "Record families": every rule holds for every
 * family). Each test file of test/sync/ that states a rule runs it once per row, each row on a
 * harness of its own (`createCaseHarness`): the BC family, the other families declared in code,
 * and two families declared in a file that `migrate` builds from Odoo's schema — a Studio model
 * and a standard model of a real Odoo 17.0 declared with no field list.
 *
 * A row gives what the tests need and cannot learn from the family's declaration: the sandbox
 * data that generates it, a plain text field per model a test can edit, what a new root needs,
 * the roots no other record lists, and what the row cannot do (no archive flag, no translated
 * many2one), said here rather than skipped in a test.
 *
 * - `bcs`: `dimagaz.bc` with its lines; a line written on its own moves its BC's stamp only when
 *   the write goes through the BC (`bumpParent`).
 * - `partners`: `res.partner`, a root without children, archived with `active`.
 * - `moves`: `account.move` with its `account.move.line`s; no archive flag (a move is live until
 *   it is deleted), and a line's change moves its move's stamp only when the move's amounts change.
 * - `cylinders`: the Studio model `x_cylinder` with its `x_cylinder_valve`s, archived with
 *   `x_active`, declared as the README declares it (test/sync/configured-families.test.ts); a
 *   cylinder has 0 to 3 valves, a many2many of tags kept as a link table.
 * - `invoices`: `account.move` with its lines on the sandbox serving Odoo 17.0's own schemas,
 *   declared with no field list (test/sync/real-odoo-models.test.ts): every field Odoo has, the
 *   mail mixins, the one2many link tables `migrate` keeps.
 *
 * Each row reads Odoo over one transport: every transport meets every rule in each file, on one
 * row or another (Odoo 17 has no JSON-2: the real 17.0 row speaks XML-RPC; the Studio row speaks
 * JSON-RPC; `migrate` over JSON-2 is test/sync/configured-families.test.ts's).
 *
 * `LAGGING_CASES` are the rows declared in code read over JSON-2 from a replica that lags
 * (docs/odoo.md, "Reads from a replica"), with ODOO_READ_REPLICA on: the files that run them
 * too (incremental, child moves, reconcile, verify, failed records, credentials, language, schema
 * changes) show their rules hold when the reads show each commit well after it. The lease and
 * crash files test fencing, which reads do not touch; the settled-stamps and stamps files count
 * reads and stamps exactly, which a replica changes by design; the webhook file waits on real
 * time for an announced stamp (test/sync/replica-lag.test.ts has a webhook under lag).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { OdooClient, OdooProtocol } from '../../src/clients/odoo/index.js';
import type { OdooSandboxOptions } from '../../dev/sandbox/odoo-sandbox.js';
import type { SandboxControl } from '../../dev/sandbox/sandbox-control.js';
import { bcsFamily } from '../../src/families/bcs/family.js';
import { applyLayouts, type AppliedLayout } from '../../src/families/configured/apply-layouts.js';
import type { FamiliesConfig } from '../../src/families/load-families.js';
import type { RecordFamily } from '../../src/families/family.js';
import { loadFamilies } from '../../src/families/load-families.js';
import { movesFamily } from '../../src/families/moves/family.js';
import { partnersFamily } from '../../src/families/partners/family.js';
import type { Families } from '../../src/families/registry.js';
import { copyOfRoot, type CopyRow } from './family-copy.js';
import { createSyncHarness, type SyncHarness, type SyncHarnessOptions } from './sync-harness.js';
import { testConfig } from './test-app.js';
import type { TestDb } from './test-db.js';

/** How many records a test wants: roots, and children per root where the row can say. */
export interface FamilySize {
  readonly roots: number;
  readonly childrenPerRoot?: number;
}

/** How the harness gets the row's family: as declared in code, or from a file `migrate` reads. */
export type FamilyDeclaration =
  | { readonly code: RecordFamily }
  | {
      /** The operators' file (YAML), declaring this family alone. */
      readonly file: string;
    };

export interface FamilyCase {
  /** The family's name: the row's name in test titles, its jobs, state and log rows. */
  readonly name: string;
  readonly declaration: FamilyDeclaration;
  /** The transport this row reads Odoo over. */
  readonly protocol: OdooProtocol;
  /**
   * Reads from a replica that shows each commit this long after it (JSON-2 only), with
   * ODOO_READ_REPLICA on; undefined: every read shows every commit (`withReplicaLag`).
   */
  readonly replicaLagMs?: number;
  /** Where the row's queues are: Redis (undefined) or PostgreSQL (`inPostgresQueues`). */
  readonly queueBackend?: 'postgres';
  readonly rootModel: string;
  /** The family's child model; undefined for a root without children. */
  readonly childModel: string | undefined;
  /** The child's many2one to its root. */
  readonly childLink: string | undefined;
  /** The root's one2many listing its children (`line_ids`), inverse of `childLink`. */
  readonly childList: string | undefined;
  /**
   * Whether a page reads the children by the ids its roots' `childList` holds, with no call to
   * list them: children with an x2many, listed by an unfiltered one2many (FamilySchema.childIds).
   */
  readonly childrenByRootIds: boolean;
  /**
   * A plain text field of the root, for edits, that no other record of the family reads (not in
   * the root's display name, which its children read in their link) unless said otherwise.
   */
  readonly rootText: string;
  /** A text field of the child (its label), for child-only edits. */
  readonly childText: string | undefined;
  /**
   * The fields of each child an edit of `rootText` changes too: its link, when the root's display
   * name holds the text, and the stored related copies of it (with the stamp they move).
   */
  readonly rootTextInChild: readonly string[];
  /**
   * A many2one of one of the family's models whose target's name Odoo translates, or why the
   * row has none (the language of the copy cannot be seen in it).
   */
  readonly translated:
    { readonly model: string; readonly field: string } | { readonly none: string };
  /**
   * A many2one of one of the family's models to a model outside the family: renaming a target
   * changes the display name the records read in it, and moves none of their stamps.
   */
  readonly renamable: { readonly model: string; readonly field: string };
  /**
   * A stored field of the root with a typed column, other than `rootText`, that a test makes
   * Odoo stop listing (a module uninstalled, a Studio field deleted).
   */
  readonly droppable: string;
  /** Whether the root archives in Odoo (its `active` or `x_active`); a move has no archive flag. */
  readonly archivable: boolean;
  /** The sandbox data: at least `roots` roots, each with `childrenPerRoot` children where the row can say. */
  sandbox(size: FamilySize): OdooSandboxOptions;
  /** The values of a new root, the `i`-th a test creates. */
  newRoot(i: number, control: SandboxControl): Record<string, unknown>;
  /**
   * Live roots that no other record of the family lists, each with at least two children where
   * the family has children: archiving, deleting or creating one changes no other record's data.
   */
  standalone(control: SandboxControl): number[];
  /**
   * Makes a child such that deleting it moves none of its root's stamps (a journal item whose
   * amounts are nil recomputes nothing on its move); nothing to do where deleting a child on its
   * own never stamps its root.
   */
  quietChild(control: SandboxControl, childId: number): void;
  /**
   * Deletes a child as a user does, from its root's form: the root's stamp moves (its totals are
   * recomputed, or its one2many is written).
   */
  deleteChild(control: SandboxControl, rootId: number, childId: number): void;
}

const nothing = () => undefined;

/** A child deleted through its root: Odoo recomputes the root's totals and stamps it. */
const deleteRecomputing =
  (model: string) => (control: SandboxControl, _rootId: number, childId: number) =>
    control.unlink(model, childId, { bumpParent: true });

export const BCS_CASE: FamilyCase = {
  name: 'bcs',
  declaration: { code: bcsFamily },
  protocol: 'xmlrpc',
  rootModel: 'dimagaz.bc',
  childModel: 'dimagaz.bc.line',
  childLink: 'bc_id',
  childList: 'line_ids',
  childrenByRootIds: true,
  rootText: 'origin',
  childText: 'name',
  rootTextInChild: [],
  translated: { model: 'dimagaz.bc.line', field: 'product_id' },
  renamable: { model: 'dimagaz.bc.line', field: 'product_id' },
  droppable: 'date_planned',
  archivable: true,
  sandbox: ({ roots, childrenPerRoot }) => ({
    orders: roots,
    linesPerOrder: childrenPerRoot ?? 2,
  }),
  newRoot: (i, control) => ({
    name: `NEW${i}`,
    partner_id: control.records('dimagaz.bc', { load: '', fields: ['partner_id'] })[0]!.partner_id,
    state: 'draft',
  }),
  standalone: (control) => control.ids('dimagaz.bc', { activeOnly: true }),
  quietChild: nothing,
  deleteChild: deleteRecomputing('dimagaz.bc.line'),
};

export const PARTNERS_CASE: FamilyCase = {
  name: 'partners',
  declaration: { code: partnersFamily },
  protocol: 'jsonrpc',
  rootModel: 'res.partner',
  childModel: undefined,
  childLink: undefined,
  childList: undefined,
  childrenByRootIds: false,
  rootText: 'email',
  childText: undefined,
  rootTextInChild: [],
  translated: { model: 'res.partner', field: 'country_id' },
  renamable: { model: 'res.partner', field: 'country_id' },
  droppable: 'phone',
  archivable: true,
  sandbox: ({ roots }) => ({ partners: roots }),
  newRoot: (i) => ({ name: `New contact ${i}`, email: `new${i}@example.ma` }),
  // A contact's company lists it in `child_ids`, which Odoo does not stamp.
  standalone: (control) =>
    control
      .records('res.partner', { load: '', fields: ['parent_id', 'child_ids', 'active'] })
      .filter(
        (partner) =>
          partner.active === true &&
          partner.parent_id === false &&
          (partner.child_ids as number[]).length === 0,
      )
      .map((partner) => partner.id),
  quietChild: nothing,
  deleteChild: () => {
    throw new Error('a contact has no children');
  },
};

/**
 * Journal entries, in code or on Odoo 17's schema: no archive flag (a move is live until it is
 * deleted), and a line's change moves its move's stamp only when the move's amounts change.
 */
const JOURNAL_ENTRIES = {
  rootModel: 'account.move',
  childModel: 'account.move.line',
  childLink: 'move_id',
  childList: 'line_ids',
  childrenByRootIds: true,
  // Part of the move's display name, which its lines read in their `move_id`.
  rootText: 'ref',
  childText: 'name',
  translated: { model: 'account.move.line', field: 'account_id' },
  renamable: { model: 'account.move.line', field: 'account_id' },
  archivable: false,
  newRoot: (i: number) => ({ move_type: 'entry', ref: `NEW${i}` }),
  standalone: (control: SandboxControl) => control.ids('account.move'),
  // A journal item whose amounts are nil: deleting it leaves its move's amounts, and stamp, alone.
  quietChild: (control: SandboxControl, lineId: number) =>
    control.write('account.move.line', lineId, { quantity: 0 }),
  deleteChild: deleteRecomputing('account.move.line'),
} satisfies Partial<FamilyCase>;

export const MOVES_CASE: FamilyCase = {
  name: 'moves',
  declaration: { code: movesFamily },
  protocol: 'json2',
  ...JOURNAL_ENTRIES,
  // An edit of a move's `ref` changes its lines' data (their link's name), never their stamps.
  rootTextInChild: ['move_id'],
  droppable: 'invoice_date',
  sandbox: ({ roots, childrenPerRoot }) => ({
    moves: roots,
    linesPerMove: childrenPerRoot ?? 2,
  }),
};

/**
 * The Studio model as the operators' file declares it (an entry of its `families`), its photo
 * copied and API filters indexed; test/sync/configured-families.test.ts declares it so too.
 */
export const CYLINDERS_DECLARATION = `
  - name: cylinders
    model: x_cylinder
    children:
      - { model: x_cylinder_valve, link: x_cylinder_id }
    binary: [x_photo]
    api: { filter: [x_status, x_partner_id, x_in_service], sort: [x_name, x_checked_at] }
`;

export const CYLINDERS_CASE: FamilyCase = {
  name: 'cylinders',
  declaration: { file: `\nfamilies:${CYLINDERS_DECLARATION}` },
  protocol: 'jsonrpc',
  rootModel: 'x_cylinder',
  childModel: 'x_cylinder_valve',
  childLink: 'x_cylinder_id',
  childList: 'x_valve_ids',
  childrenByRootIds: false,
  // Html, stored as written; `x_serial` is cut to its 32 characters.
  rootText: 'x_notes',
  childText: 'x_name',
  rootTextInChild: [],
  translated: {
    none: 'its many2ones point at currencies and contacts, whose names Odoo does not translate (its translated tags are a many2many: ids only)',
  },
  renamable: { model: 'x_cylinder', field: 'x_partner_id' },
  droppable: 'x_serial',
  archivable: true,
  // Cylinders have 0 to 3 valves in turn, whatever a test asks.
  sandbox: ({ roots }) => ({ cylinders: roots }),
  newRoot: (i) => ({ x_name: `NEW-CYL ${i}`, x_notes: `<p>new ${i}</p>`, x_active: true }),
  standalone: (control) =>
    control
      .records('x_cylinder', { load: '', fields: ['x_valve_ids', 'x_active'] })
      .filter(
        (cylinder) => cylinder.x_active === true && (cylinder.x_valve_ids as number[]).length >= 2,
      )
      .map((cylinder) => cylinder.id),
  quietChild: nothing,
  // Nothing on a cylinder is computed from its valves: a valve deleted on its own stamps nothing.
  deleteChild: (control, rootId, childId) =>
    control.write('x_cylinder', rootId, { x_valve_ids: [[2, childId, 0]] }),
};

export const INVOICES_CASE: FamilyCase = {
  name: 'invoices',
  // The README's example, as written: no field list, default tables.
  declaration: {
    file: `
families:
  - name: invoices
    model: account.move
    children: [{ model: account.move.line, link: move_id }]
    api: { filter: [state, partner_id], sort: [date, amount_total] }
`,
  },
  protocol: 'xmlrpc',
  ...JOURNAL_ENTRIES,
  // A line's `ref` is a stored related copy of its move's (Odoo 17's `related='move_id.ref'`):
  // an edit stamps the lines too.
  rootTextInChild: ['move_id', 'ref', 'write_date'],
  droppable: 'payment_reference',
  sandbox: ({ roots, childrenPerRoot }) => ({
    // The BC generator's vendors are the moves' partners.
    orders: 3,
    realSchemas: {
      models: ['account.move', 'account.move.line'],
      records: { 'account.move': roots },
      linesPerMove: childrenPerRoot ?? 2,
    },
  }),
};

/** Every row: each rule runs for each. */
export const FAMILY_CASES: readonly FamilyCase[] = [
  BCS_CASE,
  PARTNERS_CASE,
  MOVES_CASE,
  CYLINDERS_CASE,
  INVOICES_CASE,
];

/** Longer than any harness's overlap and the clock-skew margin together: Odoo's clock alone would prove too much. */
export const REPLICA_LAG_MS = 15 * 60_000;

/**
 * The row read over JSON-2 from a replica that shows each commit REPLICA_LAG_MS after it. Its
 * harness moves Odoo's clock on by the lag before each job a test queues, as the time that
 * passes between a test's changes and its next job: what was committed before a job is shown to
 * it; what commits while it runs is not, until the next one.
 */
export function withReplicaLag(c: FamilyCase): FamilyCase {
  return { ...c, protocol: 'json2', replicaLagMs: REPLICA_LAG_MS };
}

/** The rows declared in code, read from a replica that lags (configured rows need JSON-RPC). */
export const LAGGING_CASES: readonly FamilyCase[] = [BCS_CASE, PARTNERS_CASE, MOVES_CASE].map(
  withReplicaLag,
);

/** The row with its queues in PostgreSQL (QUEUE_BACKEND=postgres, no Redis for its state). */
export function inPostgresQueues(c: FamilyCase): FamilyCase {
  return { ...c, queueBackend: 'postgres' };
}

/**
 * The rows that run again with their queues in PostgreSQL: a root with children (the BCs, over
 * XML-RPC) and a root alone (the partners, over JSON-RPC). The store decides how a job is kept,
 * claimed, retried and failed; the family decides what its jobs read, map and write, the same on
 * either store, which the other rows hold on Redis.
 */
export const POSTGRES_QUEUE_CASES: readonly FamilyCase[] = [BCS_CASE, PARTNERS_CASE].map(
  inPostgresQueues,
);

/** The ids of a root's children in the sandbox's committed state (none for a root alone). */
export function childIdsOf(control: SandboxControl, c: FamilyCase, rootId: number): number[] {
  if (c.childModel === undefined || c.childLink === undefined) return [];
  const link = c.childLink;
  return control
    .records(c.childModel, { load: '', fields: [link] })
    .filter((record) => record[link] === rootId)
    .map((record) => record.id);
}

/** The children a root's one2many (`childList`) lists in Odoo, in its order. */
export function listedChildrenOf(control: SandboxControl, c: FamilyCase, rootId: number): number[] {
  const list = c.childList!;
  return control.records(c.rootModel, { ids: [rootId], fields: [list] })[0]![list] as number[];
}

/** The row's models, root first. */
export function caseModels(c: FamilyCase): string[] {
  return [c.rootModel, ...(c.childModel === undefined ? [] : [c.childModel])];
}

/** A row's harness: a sync harness, and `migrate` as an operator runs it. */
export interface CaseHarness extends SyncHarness {
  /**
   * Runs `migrate` for a configured row (its tables follow Odoo's schema as it is now) and takes
   * the layouts up, as a worker does at its next run; nothing for a family declared in code,
   * whose tables drizzle's migrations made.
   */
  migrate(): Promise<AppliedLayout[]>;
}

export interface CaseHarnessOptions extends Omit<
  SyncHarnessOptions,
  'families' | 'loadFamilies' | 'protocol'
> {
  readonly size: FamilySize;
  /** Rows copied next to this one, each with `besideSize` of its data (their own families). */
  readonly beside?: readonly FamilyCase[];
  readonly besideSize?: FamilySize;
}

/**
 * A harness copying the row's family (its jobs' default) over the row's transport, on the row's
 * sandbox data of `size` (and `options.sandbox`, which wins), with the families of `beside`. A
 * configured row's file is read as the configuration reads it and migrated, as `migrate` does
 * before the workers start.
 */
export async function createCaseHarness(
  c: FamilyCase,
  {
    size,
    beside = [],
    besideSize = { roots: 10, childrenPerRoot: 1 },
    ...options
  }: CaseHarnessOptions,
): Promise<CaseHarness> {
  const besideFamilies = beside.map((other) => {
    if (!('code' in other.declaration))
      throw new Error(`${other.name}: only families declared in code are copied beside a row`);
    return other.declaration.code;
  });
  const { declaration } = c;
  let configured: FamiliesConfig | undefined;
  // A lagging row's Odoo clock runs ahead of the one given (or the wall clock) by the lag once
  // per job a test queues (withReplicaLag).
  const lagMs = c.replicaLagMs;
  let aheadMicros = 0;
  const given = options.sandbox?.clock;
  const lagging =
    lagMs === undefined
      ? {}
      : {
          clock: () => (given === undefined ? Date.now() * 1_000 : given()) + aheadMicros,
          replicaLagMs: lagMs,
        };
  const h = await createSyncHarness({
    ...options,
    ...('code' in declaration
      ? { families: [declaration.code, ...besideFamilies] }
      : {
          loadFamilies: async (db: TestDb, odoo: OdooClient): Promise<Families> => {
            configured = readFamiliesFile(declaration.file, [
              c.name,
              ...besideFamilies.map((family) => family.name),
            ]);
            await applyLayouts(db.db, odoo, configured.configured);
            return loadFamilies(db.db, configured);
          },
        }),
    protocol: c.protocol,
    ...(c.queueBackend ? { queueBackend: c.queueBackend } : {}),
    ...(lagMs === undefined ? {} : { readReplica: true }),
    sandbox: {
      ...Object.assign({}, ...beside.map((other) => other.sandbox(besideSize))),
      ...c.sandbox(size),
      ...options.sandbox,
      ...lagging,
    },
  });
  if (lagMs !== undefined) {
    const shownAll = () => {
      aheadMicros += (lagMs + 1) * 1_000;
    };
    const inner = { ...h };
    const run: SyncHarness['run'] = (name, data) => {
      shownAll();
      return inner.run(name, data);
    };
    const add: SyncHarness['add'] = (name, data) => {
      shownAll();
      return inner.add(name, data);
    };
    const addWhileReading: SyncHarness['addWhileReading'] = (name, data, read) => {
      shownAll();
      return inner.addWhileReading(name, data, read);
    };
    Object.assign(h, { run, add, addWhileReading });
  }
  return Object.assign(h, {
    async migrate() {
      if (configured === undefined) return [];
      const applied = await applyLayouts(h.db.db, h.odoo, configured.configured);
      await h.runtime.sync.families.refresh();
      return applied;
    },
  });
}

export interface UseCaseHarnessOptions extends CaseHarnessOptions {
  /** Runs a first sync once the harness is up: the copy holds Odoo's records. */
  readonly copied?: boolean;
}

/**
 * The harness of a describe block's cases for one row: created before them (with a first sync
 * when `copied`), disposed after them. The object returned stands for the harness from then on;
 * reading it outside the block's cases throws.
 */
export function useCaseHarness(c: FamilyCase, options: UseCaseHarnessOptions): CaseHarness {
  const { copied = false, ...harness } = options;
  let current: CaseHarness | undefined;
  beforeAll(async () => {
    current = await createCaseHarness(c, harness);
    if (copied) await current.run('sync-run', { trigger: 'test' });
  });
  afterAll(async () => {
    await current?.dispose();
    current = undefined;
  });
  return new Proxy({} as CaseHarness, {
    get(_target, key) {
      if (current === undefined) throw new Error(`${c.name}: the harness is not up`);
      return Reflect.get(current, key) as unknown;
    },
  });
}

/** The families of a file, copied with `copied` named in SYNC_FAMILIES, as the configuration reads them. */
function readFamiliesFile(file: string, copied: readonly string[]): FamiliesConfig {
  const dir = mkdtempSync(join(tmpdir(), 'erp-bridge-families-'));
  try {
    const path = join(dir, 'families.yaml');
    writeFileSync(path, file);
    return testConfig({ SYNC_FAMILIES_FILE: path, SYNC_FAMILIES: copied.join(',') }).sync.families;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Another family than the row's, for the rules that one family's state never touches another's. */
export function neighbourOf(c: FamilyCase): FamilyCase {
  return c.name === BCS_CASE.name ? PARTNERS_CASE : BCS_CASE;
}

/** A row's copy, as the harness's family holds it. */
export function caseCopy(h: SyncHarness, c: FamilyCase) {
  const root = async (id: number): Promise<CopyRow | undefined> =>
    (await copyOfRoot(h.db.db, h.family, id)).root;
  return {
    root,
    /** A root's children of the row's child model, by Odoo id. */
    children: async (id: number): Promise<CopyRow[]> =>
      (await copyOfRoot(h.db.db, h.family, id)).children[0] ?? [],
    /** The edited text of a root, as the copy's data holds it. */
    rootText: async (id: number): Promise<unknown> => (await root(id))?.data[c.rootText],
    /** The edited text of a child, as its copy's data holds it. */
    childText: async (rootId: number, childId: number): Promise<unknown> =>
      ((await copyOfRoot(h.db.db, h.family, rootId)).children[0] ?? []).find(
        (row) => row.odoo_id === childId,
      )?.data[c.childText!],
  };
}
