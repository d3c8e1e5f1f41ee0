/**
 * The sandbox's control, for a process that drives a sandbox running in another one
 * (`--control-stdin`, dev/sandbox/cli.ts; dev/services/sandbox-process.ts): each command a JSON
 * object, applied to one database's control, answered with what it returned. The chaos run
 * (docs/chaos.md) makes its storm of Odoo changes, its Odoo faults and its reads of Odoo's truth
 * through these, so that each Odoo database is a process of its own. Not the sandbox's HTTP
 * surface: nothing of this is reachable over the network.
 */
import type { FieldSpec } from './models/field-spec.js';
import type { SandboxControl, SandboxTransaction } from './sandbox-control.js';
import type { SandboxFaultHandle, SandboxFaultRule } from './sandbox-faults.js';
import type {
  SandboxWebhookChaos,
  SandboxWebhookChaosCounts,
  SandboxWebhookTrigger,
} from './sandbox-webhooks.js';

type Ids = number | readonly number[];
/** A command that takes nothing but its op. */
type NoArgs = Record<never, never>;

/** One change of a transaction that commits late (`late`). */
export type SandboxLateStep =
  | { readonly create: { readonly model: string; readonly vals: Record<string, unknown> } }
  | {
      readonly write: {
        readonly model: string;
        readonly ids: Ids;
        readonly vals: Record<string, unknown>;
      };
    }
  | { readonly unlink: { readonly model: string; readonly ids: Ids } };

/** An automation rule as a command gives it: where it posts, on what, with which fields. */
export interface SandboxCommandWebhookRule {
  readonly url: string;
  readonly models?: readonly string[];
  readonly on?: readonly SandboxWebhookTrigger[];
  readonly fields?: readonly string[];
}

/** A stored field as `fields` answers it. */
export interface SandboxFieldInfo {
  readonly name: string;
  readonly type: string;
  readonly relation?: string;
}

/** Each command, by its `op`, and what it answers. */
export interface SandboxCommands {
  /** Answers the fault's number, for `removeFault`. */
  fault: { args: { rule: SandboxFaultRule }; result: number };
  removeFault: { args: { fault: number }; result: null };
  /** Removes every fault a command injected. */
  clearFaults: { args: NoArgs; result: null };
  password: { args: { password: string }; result: null };
  create: { args: { model: string; vals: Record<string, unknown> }; result: number };
  write: {
    args: { model: string; ids: Ids; vals: Record<string, unknown>; bumpParent?: boolean };
    result: null;
  };
  archive: { args: { model: string; ids: Ids }; result: null };
  unarchive: { args: { model: string; ids: Ids }; result: null };
  unlink: { args: { model: string; ids: Ids; bumpParent?: boolean }; result: null };
  hide: { args: { model: string; ids: Ids }; result: null };
  unhide: { args: { model: string; ids: Ids }; result: null };
  addField: { args: { model: string; field: FieldSpec; default?: unknown }; result: null };
  removeField: { args: { model: string; name: string }; result: null };
  /**
   * A transaction of these changes, its webhooks posted now, committed by `commitLate` (a late
   * commit the driver times, so that its order among the driver's other changes replays);
   * answers its number and the ids of the records it creates (reserved now, visible at commit).
   */
  late: { args: { steps: readonly SandboxLateStep[] }; result: { tx: number; created: number[] } };
  commitLate: { args: { tx: number }; result: null };
  webhooks: { args: { rules: readonly SandboxCommandWebhookRule[] }; result: null };
  webhookChaos: { args: { chaos?: SandboxWebhookChaos }; result: null };
  webhookChaosCounts: { args: NoArgs; result: SandboxWebhookChaosCounts };
  /** Odoo's clock (its database's and its web server's) this far from the machine's. */
  clockSkew: { args: { ms: number }; result: null };
  records: {
    args: { model: string; fields?: readonly string[]; ids?: readonly number[]; load?: '' };
    result: Array<Record<string, unknown> & { id: number }>;
  };
  ids: { args: { model: string }; result: number[] };
  fields: { args: { model: string }; result: SandboxFieldInfo[] };
  /**
   * Resolves once every change waiting behind a webhook or a late commit is committed: commit
   * the late ones first.
   */
  settled: { args: NoArgs; result: null };
  /**
   * Resolves once every change made so far is committed, late transactions aside: the answer an
   * Odoo client's call gets once its transaction, webhooks posted, committed.
   */
  committed: { args: NoArgs; result: null };
}

export type SandboxCommandOp = keyof SandboxCommands;

/** A command on the wire: its id, its op and the op's arguments. */
export type SandboxCommand = {
  [Op in SandboxCommandOp]: { readonly op: Op } & SandboxCommands[Op]['args'];
}[SandboxCommandOp];

/** What the commands drive: one database's control, and the clock the process owns. */
export interface SandboxCommandTarget {
  readonly control: SandboxControl;
  setClockSkewMs(ms: number): void;
}

/** Applies commands to `target`, keeping the faults they injected for `clearFaults`. */
export function createCommandRunner(target: SandboxCommandTarget): {
  run(command: SandboxCommand): Promise<unknown>;
} {
  const { control } = target;
  const injected = new Map<number, SandboxFaultHandle>();
  const lateCommits = new Map<number, () => void>();
  let numbers = 0;
  return {
    async run(command) {
      switch (command.op) {
        case 'fault':
          numbers += 1;
          injected.set(numbers, control.injectFault(command.rule));
          return numbers;
        case 'removeFault':
          injected.get(command.fault)?.remove();
          injected.delete(command.fault);
          return null;
        case 'clearFaults':
          for (const handle of injected.values()) handle.remove();
          injected.clear();
          return null;
        case 'password':
          control.setPassword(command.password);
          return null;
        case 'create':
          return control.create(command.model, command.vals);
        case 'write':
          control.write(command.model, command.ids, command.vals, {
            ...(command.bumpParent === undefined ? {} : { bumpParent: command.bumpParent }),
          });
          return null;
        case 'unlink':
          control.unlink(command.model, command.ids, {
            ...(command.bumpParent === undefined ? {} : { bumpParent: command.bumpParent }),
          });
          return null;
        case 'archive':
        case 'unarchive':
        case 'hide':
        case 'unhide':
          control[command.op](command.model, command.ids);
          return null;
        case 'addField':
          control.addField(command.model, command.field, { default: command.default });
          return null;
        case 'removeField':
          control.removeField(command.model, command.name);
          return null;
        case 'late': {
          numbers += 1;
          const tx = numbers;
          const committed = new Promise<void>((resolve) => lateCommits.set(tx, resolve));
          return { tx, created: late(control.begin(), command.steps, committed) };
        }
        case 'commitLate':
          lateCommits.get(command.tx)?.();
          lateCommits.delete(command.tx);
          return null;
        case 'webhooks':
          control.setWebhook(command.rules.map((rule) => ({ ...rule })));
          return null;
        case 'webhookChaos':
          control.setWebhookChaos(command.chaos);
          return null;
        case 'webhookChaosCounts':
          return control.webhookChaosCounts();
        case 'clockSkew':
          target.setClockSkewMs(command.ms);
          return null;
        case 'records':
          return control.records(command.model, {
            ...(command.fields === undefined ? {} : { fields: command.fields }),
            ...(command.ids === undefined ? {} : { ids: command.ids }),
            ...(command.load === undefined ? {} : { load: command.load }),
          });
        case 'ids':
          return control.ids(command.model);
        case 'fields':
          return control.storedFields(command.model).map((name) => {
            const field = control.field(command.model, name)!;
            return {
              name,
              type: field.type,
              ...(field.relation === undefined ? {} : { relation: field.relation }),
            };
          });
        case 'settled':
          await control.settled();
          return null;
        case 'committed':
          await control.committed();
          return null;
      }
    },
  };
}

function late(
  tx: SandboxTransaction,
  steps: readonly SandboxLateStep[],
  committed: Promise<void>,
): number[] {
  const created: number[] = [];
  try {
    for (const step of steps) {
      if ('create' in step) created.push(tx.create(step.create.model, step.create.vals));
      else if ('write' in step) tx.write(step.write.model, step.write.ids, step.write.vals);
      else tx.unlink(step.unlink.model, step.unlink.ids);
    }
  } catch (error) {
    tx.rollback();
    throw error;
  }
  tx.commit({ after: committed });
  return created;
}

/**
 * A command's answer as JSON: binaries (Buffers) as base64, as JSON-RPC carries them, and dates
 * as their ISO text.
 */
export function commandResultJson(result: unknown): string {
  return JSON.stringify(result ?? null, (_key, value: unknown) =>
    value !== null &&
    typeof value === 'object' &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
      ? Buffer.from((value as { data: number[] }).data).toString('base64')
      : value,
  );
}
