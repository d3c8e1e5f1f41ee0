/**
 * The chaos run's storm of Odoo changes: creations, writes, line moves, deletions, archives,
 * many2many edits, transactions that commit late, two large values, a field added (then
 * `migrate`, as an operator runs it) and a field whose type changes — in each source's Odoo,
 * through the sandbox's control (dev/sandbox/sandbox-commands.ts), one change at a time.
 *
 * Every choice is drawn from the run's seed, and the storm keeps its own picture of each
 * database's records (what it made, moved and deleted): the same seed makes the same changes in
 * the same order, however fast the machine is. Changes are paced on the clock (change n at
 * n × interval), never skipped: a slow machine makes them later, not fewer. A record a late
 * transaction holds is not touched until that transaction committed, as Odoo's row lock would
 * make it wait.
 */
import type { SandboxLateStep } from '../sandbox/sandbox-commands.js';
import type { FieldSpec } from '../sandbox/models/field-spec.js';
import type { SandboxProcess } from '../services/sandbox-process.js';
import { chaosRandom, type ChaosRandom } from './chaos-random.js';

export const BC = 'dimagaz.bc';
export const LINE = 'dimagaz.bc.line';
export const CYLINDER = 'x_cylinder';
export const VALVE = 'x_cylinder_valve';

/** The field the storm adds to the first source's cylinders (then `migrate` runs). */
export const ADDED_FIELD: FieldSpec = {
  name: 'x_chaos_grade',
  type: 'char',
  string: 'Grade',
  store: true,
  manual: true,
};
/** The field whose type the storm changes in the second source's cylinders: integer to char. */
export const RETYPED_FIELD = 'x_fill_count';

/** One source's Odoo as the storm drives it. */
export interface StormSource {
  readonly name: string;
  readonly odoo: Pick<SandboxProcess, 'control'>;
}

/** One change of the storm, as the operation log keeps it. */
export interface StormOperation {
  readonly n: number;
  /** When it was planned and when it ran, in milliseconds from the storm's start. */
  readonly plannedMs: number;
  readonly atMs: number;
  readonly source: string;
  readonly op: string;
  readonly model: string;
  readonly ids: readonly number[];
  readonly fields?: readonly string[];
  /** A size, a transaction's number: what else says what it did. */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** What the storm needs of the run. */
export interface StormHooks {
  /** Logs a change once made. */
  onOperation(operation: StormOperation): void;
  /** A late commit is an Odoo fault too: the fault log counts it. */
  onLateCommit(source: string, tx: number, heldOps: number): void;
  /** Runs `migrate` after a field was added; the storm changes no field type before it passed. */
  migrate(): Promise<void>;
}

interface Shadow {
  bcs: Map<number, { lines: number[]; active: boolean }>;
  cylinders: Map<number, { valves: number[]; active: boolean }>;
  partners: number[];
  taxes: number[];
  tags: number[];
  /** Records (`model#id`) a late transaction holds, with the change count that releases them. */
  locked: Map<string, number>;
  late: Array<{ tx: number; dueAt: number; records: string[] }>;
  retyped: boolean;
  added: boolean;
}

export interface StormInput {
  readonly seed: number;
  readonly minutes: number;
  readonly opsPerSecond: number;
  readonly sources: readonly StormSource[];
  readonly hooks: StormHooks;
  /** The storm's clock, in milliseconds: the run's, stopped while the run is quiet. */
  readonly clock: () => number;
}

export interface Storm {
  /** How many changes the storm makes in all. */
  readonly total: number;
  /**
   * Makes the changes due up to `untilMs` on the storm's clock (each at its planned time), or
   * until `signal` aborts.
   */
  run(untilMs: number, signal: AbortSignal): Promise<void>;
  /** Commits every late transaction still open: before a quiet checkpoint and at the end. */
  commitLate(): Promise<void>;
  /** Live roots of a source's family model, for a record rule to hide some. */
  liveRoots(source: string, model: typeof BC | typeof CYLINDER): number[];
  /** Changes made so far. */
  readonly made: number;
}

/** Loads a source's records as the storm first sees them. */
async function shadowOf(source: StormSource): Promise<Shadow> {
  const control = source.odoo.control.bind(source.odoo);
  const bcs = await control({ op: 'records', model: BC, fields: ['line_ids', 'active'], load: '' });
  const cylinders = await control({
    op: 'records',
    model: CYLINDER,
    fields: ['x_valve_ids', 'x_active'],
    load: '',
  });
  return {
    bcs: new Map(
      bcs.map((bc) => [
        bc.id,
        { lines: [...(bc.line_ids as number[])], active: bc.active === true },
      ]),
    ),
    cylinders: new Map(
      cylinders.map((cylinder) => [
        cylinder.id,
        { valves: [...(cylinder.x_valve_ids as number[])], active: cylinder.x_active === true },
      ]),
    ),
    partners: (await control({ op: 'ids', model: 'res.partner' })).slice(0, 40),
    taxes: await control({ op: 'ids', model: 'account.tax' }),
    tags: await control({ op: 'ids', model: 'res.partner.category' }),
    locked: new Map(),
    late: [],
    retyped: false,
    added: false,
  };
}

/** The text of a large value: about `bytes` of UTF-8, the same for the same seed. */
function largeText(random: ChaosRandom, bytes: number): string {
  const words = ['cylindre', 'bouteille', 'gaz', 'livraison', 'dépôt', 'soupape', 'Ω', '—'];
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const word = random.pick(words);
    parts.push(word);
    size += Buffer.byteLength(word) + 1;
  }
  return `<p>${parts.join(' ')}</p>`;
}

export async function createStorm(input: StormInput): Promise<Storm> {
  const random = chaosRandom(input.seed, 'storm');
  const shadows = new Map<string, Shadow>();
  for (const source of input.sources) shadows.set(source.name, await shadowOf(source));
  const total = Math.round(input.minutes * 60 * input.opsPerSecond);
  const intervalMs = 1_000 / input.opsPerSecond;
  // The special changes, at fixed shares of the storm.
  const at = (share: number) => Math.max(1, Math.round(total * share));
  const specials = new Map<number, 'large' | 'add-field' | 'retype-field'>([
    [at(0.15), 'large'],
    [at(0.3), 'add-field'],
    [at(0.55), 'retype-field'],
    [at(0.7), 'large'],
  ]);
  let made = 0;
  let migrated: Promise<void> | undefined;
  const sourceOf = (name: string) => input.sources.find((source) => source.name === name)!;

  /** Runs one command on a source and logs the change. */
  async function change(
    n: number,
    plannedMs: number,
    source: StormSource,
    operation: Omit<StormOperation, 'n' | 'plannedMs' | 'atMs' | 'source'>,
    command: Parameters<SandboxProcess['control']>[0],
  ): Promise<unknown> {
    const result = await source.odoo.control(command);
    // As an Odoo client's call returns once its transaction committed, behind its webhooks.
    await source.odoo.control({ op: 'committed' });
    input.hooks.onOperation({
      n,
      plannedMs,
      atMs: Math.round(input.clock()),
      source: source.name,
      ...operation,
    });
    return result;
  }

  const free = (shadow: Shadow, model: string, id: number) => !shadow.locked.has(`${model}#${id}`);

  /** Commits the late transactions due at change `n` (all with Infinity). */
  async function commitDue(n: number): Promise<void> {
    for (const [name, shadow] of shadows) {
      const due = shadow.late.filter((late) => late.dueAt <= n);
      shadow.late = shadow.late.filter((late) => late.dueAt > n);
      for (const late of due) {
        await sourceOf(name).odoo.control({ op: 'commitLate', tx: late.tx });
        for (const record of late.records) shadow.locked.delete(record);
      }
    }
  }

  /** One ordinary change of a source, drawn. */
  async function ordinary(n: number, plannedMs: number, source: StormSource): Promise<void> {
    const shadow = shadows.get(source.name)!;
    const control = (
      op: Omit<StormOperation, 'n' | 'plannedMs' | 'atMs' | 'source'>,
      command: Parameters<SandboxProcess['control']>[0],
    ) => change(n, plannedMs, source, op, command);
    const bcs = [...shadow.bcs.keys()].filter((id) => free(shadow, BC, id));
    const cylinders = [...shadow.cylinders.keys()].filter((id) => free(shadow, CYLINDER, id));
    const lines = [...shadow.bcs.entries()].flatMap(([bc, { lines: ids }]) =>
      ids.filter((id) => free(shadow, LINE, id) && free(shadow, BC, bc)).map((id) => ({ id, bc })),
    );
    const valves = [...shadow.cylinders.entries()].flatMap(([cylinder, { valves: ids }]) =>
      ids
        .filter((id) => free(shadow, VALVE, id) && free(shadow, CYLINDER, cylinder))
        .map((id) => ({ id, cylinder })),
    );
    const kind = weighted(random, [
      ['write-bc', 14],
      ['write-line', 10],
      ['write-cylinder', 10],
      ['write-valve', 5],
      ['create-bc', 6],
      ['create-line', 4],
      ['create-cylinder', 4],
      ['create-valve', 3],
      ['move-line', 5],
      ['move-valve', 2],
      ['delete-line', 4],
      ['delete-valve', 2],
      ['delete-bc', 2],
      ['delete-cylinder', 2],
      ['archive', 4],
      ['unarchive', 3],
      ['many2many', 8],
      ['late', 4],
    ]);
    switch (kind) {
      case 'write-bc': {
        if (bcs.length === 0) return;
        const id = random.pick(bcs);
        const vals = random.pick<Record<string, unknown>>([
          { origin: `storm ${n}` },
          { notes: `<p>note ${n}</p>` },
          { priority: random.pick(['0', '1']) },
          { date_planned: plannedDate(random) },
          { origin: `storm ${n}`, priority: random.pick(['0', '1']) },
        ]);
        await control(
          { op: 'write', model: BC, ids: [id], fields: Object.keys(vals) },
          { op: 'write', model: BC, ids: [id], vals },
        );
        return;
      }
      case 'write-line': {
        if (lines.length === 0) return;
        const { id } = random.pick(lines);
        const vals = random.pick<Record<string, unknown>>([
          { name: `line ${n}` },
          { product_qty: random.int(1, 40) },
          { price_unit: random.int(100, 99_999) / 100 },
          { sequence: random.int(1, 50) },
        ]);
        // Amounts recompute their BC and move its stamp, as Odoo's stored computes do.
        const bumpParent = !('name' in vals) && random.chance(0.7);
        await control(
          {
            op: 'write',
            model: LINE,
            ids: [id],
            fields: Object.keys(vals),
            detail: { bumpParent },
          },
          { op: 'write', model: LINE, ids: [id], vals, bumpParent },
        );
        return;
      }
      case 'write-cylinder': {
        if (cylinders.length === 0) return;
        const id = random.pick(cylinders);
        const vals = random.pick<Record<string, unknown>>([
          { x_name: `CYL storm ${n}` },
          { x_serial: `S${n}` },
          { x_capacity: random.int(5, 50) },
          { x_in_service: random.chance(0.5) },
          { x_status: random.pick(['new', 'filled', 'empty', 'scrapped']) },
          { x_notes: `<p>checked ${n}</p>` },
          { x_specs: { valve: random.pick(['M28', 'NPT']), tare: random.int(5, 20) } },
          { x_checked_at: plannedDate(random) },
          shadow.retyped
            ? { [RETYPED_FIELD]: `fills ${n}` }
            : { [RETYPED_FIELD]: random.int(0, 99) },
          ...(shadow.added ? [{ [ADDED_FIELD.name]: random.pick(['A', 'B', 'C']) }] : []),
        ]);
        await control(
          { op: 'write', model: CYLINDER, ids: [id], fields: Object.keys(vals) },
          { op: 'write', model: CYLINDER, ids: [id], vals },
        );
        return;
      }
      case 'write-valve': {
        if (valves.length === 0) return;
        const { id } = random.pick(valves);
        const vals = random.pick<Record<string, unknown>>([
          { x_name: `Valve ${n}` },
          { x_pressure_bar: random.int(0, 3_000) / 100 },
          { x_open: random.chance(0.5) },
        ]);
        await control(
          { op: 'write', model: VALVE, ids: [id], fields: Object.keys(vals) },
          { op: 'write', model: VALVE, ids: [id], vals },
        );
        return;
      }
      case 'create-bc': {
        const count = random.int(0, 3);
        const vals = {
          partner_id: random.pick(shadow.partners),
          origin: `created ${n}`,
          line_ids: Array.from({ length: count }, (_, i) => [
            0,
            0,
            {
              name: `new line ${n}.${i}`,
              product_qty: random.int(1, 9),
              price_unit: random.int(1, 500),
            },
          ]),
        };
        const id = (await control(
          { op: 'create', model: BC, ids: [], detail: { lines: count } },
          { op: 'create', model: BC, vals },
        )) as number;
        shadow.bcs.set(id, { lines: await lineIds(source, id), active: true });
        return;
      }
      case 'create-line': {
        if (bcs.length === 0) return;
        const bc = random.pick(bcs);
        const id = (await control(
          { op: 'create', model: LINE, ids: [], detail: { bc } },
          {
            op: 'create',
            model: LINE,
            vals: {
              bc_id: bc,
              name: `added line ${n}`,
              product_qty: random.int(1, 9),
              price_unit: 10,
            },
          },
        )) as number;
        shadow.bcs.get(bc)!.lines.push(id);
        return;
      }
      case 'create-cylinder': {
        const count = random.int(0, 2);
        const vals = {
          x_name: `CYL new ${n}`,
          x_active: true,
          x_tag_ids: [[6, 0, random.shuffle(shadow.tags).slice(0, random.int(0, 2))]],
          x_valve_ids: Array.from({ length: count }, (_, i) => [
            0,
            0,
            { x_name: `valve ${n}.${i}` },
          ]),
        };
        const id = (await control(
          { op: 'create', model: CYLINDER, ids: [], detail: { valves: count } },
          { op: 'create', model: CYLINDER, vals },
        )) as number;
        const [created] = await source.odoo.control({
          op: 'records',
          model: CYLINDER,
          ids: [id],
          fields: ['x_valve_ids'],
          load: '',
        });
        shadow.cylinders.set(id, { valves: [...(created!.x_valve_ids as number[])], active: true });
        return;
      }
      case 'create-valve': {
        if (cylinders.length === 0) return;
        const cylinder = random.pick(cylinders);
        const id = (await control(
          { op: 'create', model: VALVE, ids: [], detail: { cylinder } },
          { op: 'create', model: VALVE, vals: { x_cylinder_id: cylinder, x_name: `valve ${n}` } },
        )) as number;
        shadow.cylinders.get(cylinder)!.valves.push(id);
        return;
      }
      case 'move-line': {
        if (lines.length === 0 || bcs.length < 2) return;
        const { id, bc: from } = random.pick(lines);
        const to = random.pick(bcs.filter((bc) => bc !== from));
        const bumpParent = random.chance(0.5);
        await control(
          { op: 'move', model: LINE, ids: [id], detail: { from, to, bumpParent } },
          { op: 'write', model: LINE, ids: [id], vals: { bc_id: to }, bumpParent },
        );
        const old = shadow.bcs.get(from)!;
        old.lines = old.lines.filter((line) => line !== id);
        shadow.bcs.get(to)!.lines.push(id);
        return;
      }
      case 'move-valve': {
        if (valves.length === 0 || cylinders.length < 2) return;
        const { id, cylinder: from } = random.pick(valves);
        const to = random.pick(cylinders.filter((cylinder) => cylinder !== from));
        await control(
          { op: 'move', model: VALVE, ids: [id], detail: { from, to } },
          { op: 'write', model: VALVE, ids: [id], vals: { x_cylinder_id: to } },
        );
        const old = shadow.cylinders.get(from)!;
        old.valves = old.valves.filter((valve) => valve !== id);
        shadow.cylinders.get(to)!.valves.push(id);
        return;
      }
      case 'delete-line': {
        if (lines.length === 0) return;
        const { id, bc } = random.pick(lines);
        const bumpParent = random.chance(0.7);
        await control(
          { op: 'unlink', model: LINE, ids: [id], detail: { bc, bumpParent } },
          { op: 'unlink', model: LINE, ids: [id], bumpParent },
        );
        const root = shadow.bcs.get(bc)!;
        root.lines = root.lines.filter((line) => line !== id);
        return;
      }
      case 'delete-valve': {
        if (valves.length === 0) return;
        const { id, cylinder } = random.pick(valves);
        await control(
          { op: 'unlink', model: VALVE, ids: [id], detail: { cylinder } },
          { op: 'unlink', model: VALVE, ids: [id] },
        );
        const root = shadow.cylinders.get(cylinder)!;
        root.valves = root.valves.filter((valve) => valve !== id);
        return;
      }
      case 'delete-bc': {
        const deletable = bcs.filter((bc) =>
          shadow.bcs.get(bc)!.lines.every((line) => free(shadow, LINE, line)),
        );
        // Keep most of the records: the reconcile's safety stop must not be what the run tests.
        if (deletable.length < 10) return;
        const id = random.pick(deletable);
        await control(
          { op: 'unlink', model: BC, ids: [id] },
          { op: 'unlink', model: BC, ids: [id] },
        );
        shadow.bcs.delete(id);
        return;
      }
      case 'delete-cylinder': {
        const deletable = cylinders.filter((cylinder) =>
          shadow.cylinders.get(cylinder)!.valves.every((valve) => free(shadow, VALVE, valve)),
        );
        if (deletable.length < 10) return;
        const id = random.pick(deletable);
        await control(
          { op: 'unlink', model: CYLINDER, ids: [id] },
          { op: 'unlink', model: CYLINDER, ids: [id] },
        );
        shadow.cylinders.delete(id);
        return;
      }
      case 'archive':
      case 'unarchive': {
        const onBcs = random.chance(0.5);
        const model = onBcs ? BC : CYLINDER;
        const records = onBcs ? shadow.bcs : shadow.cylinders;
        const want = kind === 'unarchive';
        const candidates = (onBcs ? bcs : cylinders).filter(
          (id) => records.get(id)!.active !== want,
        );
        if (candidates.length === 0) return;
        const id = random.pick(candidates);
        await control({ op: kind, model, ids: [id] }, { op: kind, model, ids: [id] });
        records.get(id)!.active = want;
        return;
      }
      case 'many2many': {
        if (random.chance(0.5)) {
          if (lines.length === 0) return;
          const { id } = random.pick(lines);
          const taxes = random.shuffle(shadow.taxes).slice(0, random.int(0, 2));
          await control(
            { op: 'write', model: LINE, ids: [id], fields: ['taxes_id'], detail: { taxes } },
            {
              op: 'write',
              model: LINE,
              ids: [id],
              vals: { taxes_id: [[6, 0, taxes]] },
              bumpParent: true,
            },
          );
        } else {
          if (cylinders.length === 0) return;
          const id = random.pick(cylinders);
          const tag = random.pick(shadow.tags);
          const command = random.chance(0.5) ? [4, tag] : [3, tag];
          await control(
            { op: 'write', model: CYLINDER, ids: [id], fields: ['x_tag_ids'], detail: { command } },
            { op: 'write', model: CYLINDER, ids: [id], vals: { x_tag_ids: [command] } },
          );
        }
        return;
      }
      case 'late': {
        if (bcs.length === 0 || cylinders.length === 0) return;
        const bc = random.pick(bcs);
        const cylinder = random.pick(cylinders);
        const steps: SandboxLateStep[] = [
          { write: { model: BC, ids: [bc], vals: { origin: `late ${n}` } } },
          { write: { model: CYLINDER, ids: [cylinder], vals: { x_serial: `L${n}` } } },
        ];
        const held = random.int(3, 12);
        const { tx } = (await control(
          { op: 'late', model: BC, ids: [bc, cylinder], detail: { cylinder, held } },
          { op: 'late', steps },
        )) as { tx: number };
        const records = [`${BC}#${bc}`, `${CYLINDER}#${cylinder}`];
        for (const record of records) shadow.locked.set(record, n + held);
        shadow.late.push({ tx, dueAt: n + held, records });
        input.hooks.onLateCommit(source.name, tx, held);
        return;
      }
    }
  }

  /** The storm's special changes. */
  async function special(
    n: number,
    plannedMs: number,
    what: 'large' | 'add-field' | 'retype-field',
  ): Promise<void> {
    if (what === 'large') {
      const source = random.pick(input.sources);
      const shadow = shadows.get(source.name)!;
      const bcs = [...shadow.bcs.keys()].filter((id) => free(shadow, BC, id));
      const id = random.pick(bcs);
      // Past a megabyte a value travels by reference; past half a page of the API it is cut.
      const bytes = random.int(2_500_000, 4_000_000);
      await change(
        n,
        plannedMs,
        source,
        { op: 'large-value', model: BC, ids: [id], fields: ['notes'], detail: { bytes } },
        { op: 'write', model: BC, ids: [id], vals: { notes: largeText(random, bytes) } },
      );
      return;
    }
    if (what === 'add-field') {
      const source = input.sources[0]!;
      await change(
        n,
        plannedMs,
        source,
        { op: 'add-field', model: CYLINDER, ids: [], fields: [ADDED_FIELD.name] },
        { op: 'addField', model: CYLINDER, field: ADDED_FIELD, default: 'A' },
      );
      shadows.get(source.name)!.added = true;
      migrated = input.hooks.migrate();
      return;
    }
    // A field changes type only once `migrate` made the added one's column: a migrate after it
    // would refuse the family (docs/models.md, "When a field changes type").
    await migrated;
    const source = input.sources[1] ?? input.sources[0]!;
    await change(
      n,
      plannedMs,
      source,
      {
        op: 'retype-field',
        model: CYLINDER,
        ids: [],
        fields: [RETYPED_FIELD],
        detail: { from: 'integer', to: 'char' },
      },
      { op: 'removeField', model: CYLINDER, name: RETYPED_FIELD },
    );
    await source.odoo.control({
      op: 'addField',
      model: CYLINDER,
      field: { name: RETYPED_FIELD, type: 'char', string: 'Fills', store: true, manual: true },
      default: 'unknown',
    });
    shadows.get(source.name)!.retyped = true;
  }

  const storm: Storm = {
    total,
    async run(untilMs, signal) {
      for (let n = made + 1; n <= total && !signal.aborted; n += 1) {
        const plannedMs = Math.round(n * intervalMs);
        if (plannedMs > untilMs) break;
        const wait = plannedMs - input.clock();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (signal.aborted) break;
        await commitDue(n);
        const what = specials.get(n);
        if (what !== undefined) await special(n, plannedMs, what);
        else await ordinary(n, plannedMs, random.pick(input.sources));
        made = n;
      }
    },
    async commitLate() {
      await commitDue(Infinity);
    },
    liveRoots(source, model) {
      const shadow = shadows.get(source)!;
      const records = model === BC ? shadow.bcs : shadow.cylinders;
      return [...records.entries()].filter(([, record]) => record.active).map(([id]) => id);
    },
    get made() {
      return made;
    },
  };
  return storm;
}

async function lineIds(source: StormSource, bc: number): Promise<number[]> {
  const [record] = await source.odoo.control({
    op: 'records',
    model: BC,
    ids: [bc],
    fields: ['line_ids'],
    load: '',
  });
  return [...(record!.line_ids as number[])];
}

function plannedDate(random: ChaosRandom): string {
  const day = random.int(1, 28);
  const hour = random.int(0, 23);
  return `2026-12-${String(day).padStart(2, '0')} ${String(hour).padStart(2, '0')}:00:00`;
}

function weighted<T extends string>(
  random: ChaosRandom,
  choices: ReadonlyArray<readonly [T, number]>,
): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let draw = random.next() * total;
  for (const [choice, weight] of choices) {
    draw -= weight;
    if (draw < 0) return choice;
  }
  return choices.at(-1)![0];
}
