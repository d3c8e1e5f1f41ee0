/**
 * Throws the schedule's faults (chaos-plan.ts) at the deployment, each at its time on the storm's
 * clock, and ends each after its duration; `endAll` ends every fault still on at once (before a
 * quiet checkpoint). Each fault goes through the component's own interface: a signal to a
 * process, a server stopped and started, a session ended in PostgreSQL, a command to the
 * sandbox's control, a receiver or the stream reader told. Every start and end is written to the
 * fault log.
 */
import type { SandboxWebhookChaos } from '../sandbox/sandbox-webhooks.js';
import type { ChaosDeployment, ChaosSource } from './chaos-deployment.js';
import type { FaultClass, FaultKind, PlannedFault } from './chaos-plan.js';
import { chaosRandom } from './chaos-random.js';
import { BC, CYLINDER, type Storm } from './chaos-storm.js';
import type { SseReader } from './sse-reader.js';

/** A fault as the fault log keeps it. */
export interface FaultRecord {
  readonly n: number;
  readonly kind: FaultKind;
  readonly class: FaultClass;
  readonly target?: string | number;
  readonly params: Readonly<Record<string, number>>;
  readonly plannedMs: number;
  /** How long it was planned to last (a store's time down, for a restart). */
  readonly durationMs: number;
  startedMs?: number;
  endedMs?: number;
  /** What it did, when that is more than its kind says (the records hidden, the ports failed over). */
  detail?: string;
  /** Why it could not be thrown, if so: the run reports it and goes on. */
  error?: string;
}

/** What one fault does to a receiver. */
interface ReceiverChaos {
  readonly failureRate?: number;
  readonly latencyMs?: number;
  readonly down?: true;
}

export interface FaultRunner {
  /** Throws the faults planned up to `untilMs` on the storm's clock, each at its time. */
  run(untilMs: number, signal: AbortSignal): Promise<void>;
  /** Ends every fault still on, now. */
  endAll(): Promise<void>;
  /** Records a late commit the storm made: an Odoo fault of its own. */
  recordLateCommit(source: string, tx: number, heldOps: number): void;
  readonly records: readonly FaultRecord[];
}

export function createFaultRunner(input: {
  readonly faults: readonly PlannedFault[];
  readonly deployment: ChaosDeployment;
  readonly storm: Storm;
  readonly stream: SseReader;
  readonly seed: number;
  /** The storm's clock, in milliseconds. */
  readonly clock: () => number;
  readonly onRecord: (record: FaultRecord, event: 'start' | 'end') => void;
}): FaultRunner {
  const { deployment, clock } = input;
  const records: FaultRecord[] = [];
  /** Faults on, each with what ends it. */
  const active = new Map<FaultRecord, { end: () => Promise<void>; timer?: NodeJS.Timeout }>();
  /** What each source's network does to its webhooks now, by the fault that said it. */
  const webhookChaos = new Map<string, Map<FaultRecord, SandboxWebhookChaos>>();
  /** What each receiver does now, by the fault that said it: faults on one receiver overlap. */
  const receiverChaos = new Map<number, Map<FaultRecord, ReceiverChaos>>();
  const receiversDown = new Set<number>();
  // One store fault at a time on a store: a restart is not started while another runs.
  const storeTurns = new Map<string, Promise<void>>();
  let next = 0;
  let lateCommits = 0;

  const sourceNamed = (name: string | number | undefined): ChaosSource =>
    deployment.sources.find((source) => source.name === name) ?? deployment.sources[0]!;

  const inTurn = (store: string, work: () => Promise<void>): Promise<void> => {
    const previous = storeTurns.get(store) ?? Promise.resolve();
    const turn = previous.then(work, work);
    storeTurns.set(
      store,
      turn.catch(() => undefined),
    );
    return turn;
  };

  /** The strongest of the faults on the receiver: the largest share failed, the longest delay. */
  const setReceiverChaos = async (target: number) => {
    const on = [...(receiverChaos.get(target)?.values() ?? [])];
    const { receiver } = deployment.subscriptions[target]!;
    receiver.setFailureRate(Math.max(0, ...on.map((chaos) => chaos.failureRate ?? 0)));
    receiver.setLatencyMs(Math.max(0, ...on.map((chaos) => chaos.latencyMs ?? 0)));
    const down = on.some((chaos) => chaos.down === true);
    if (down === receiversDown.has(target)) return;
    if (down) {
      receiversDown.add(target);
      await receiver.down();
    } else {
      receiversDown.delete(target);
      await receiver.up();
    }
  };
  const onReceiver = async (record: FaultRecord, chaos: ReceiverChaos) => {
    const target = Number(record.target);
    let on = receiverChaos.get(target);
    if (!on) receiverChaos.set(target, (on = new Map<FaultRecord, ReceiverChaos>()));
    on.set(record, chaos);
    await setReceiverChaos(target);
    return async () => {
      on.delete(record);
      await setReceiverChaos(target);
    };
  };

  const setWebhookChaos = async (source: ChaosSource) => {
    const on = [...(webhookChaos.get(source.name)?.values() ?? [])];
    const merged: SandboxWebhookChaos | undefined =
      on.length === 0
        ? undefined
        : on.reduce<SandboxWebhookChaos>(
            (all, one) => ({
              drop: Math.max(all.drop ?? 0, one.drop ?? 0),
              duplicate: Math.max(all.duplicate ?? 0, one.duplicate ?? 0),
              delay: Math.max(all.delay ?? 0, one.delay ?? 0),
              delayMs: Math.max(all.delayMs ?? 0, one.delayMs ?? 0),
            }),
            {},
          );
    await source.odoo.control({ op: 'webhookChaos', ...(merged ? { chaos: merged } : {}) });
  };

  /** Throws one fault; resolves with what ends it. */
  async function throwFault(record: FaultRecord): Promise<() => Promise<void>> {
    const { kind, params, target } = record;
    const nothing = () => Promise.resolve();
    switch (kind) {
      case 'worker-kill':
        deployment.workers[Number(target)]!.kill('SIGKILL');
        return nothing;
      case 'worker-stop': {
        const worker = deployment.workers[Number(target)]!;
        worker.freeze();
        return () => Promise.resolve(worker.thaw());
      }
      case 'api-restart':
        deployment.api.kill(params.kill === 1 ? 'SIGKILL' : 'SIGTERM');
        return nothing;
      case 'redis-restart':
      case 'redis-wipe':
        await inTurn('redis', () =>
          deployment.restartRedis(kind === 'redis-restart', record.durationMs),
        );
        return nothing;
      case 'sentinel-failover':
        await inTurn('redis', async () => {
          const { from, to } = await deployment.failOverRedis();
          record.detail = `primary ${from} → ${to}`;
        });
        return nothing;
      case 'postgres-restart':
        await inTurn('postgres', () => deployment.restartPostgres(record.durationMs));
        return nothing;
      case 'postgres-terminate':
        await inTurn('postgres', async () => {
          const ended = await deployment.terminateSessions(params.sessions ?? 1);
          record.detail = `${ended} sessions ended`;
        });
        return nothing;
      case 'odoo-5xx':
      case 'odoo-timeout':
      case 'odoo-slow': {
        const source = sourceNamed(target);
        const fault = await source.odoo.control({
          op: 'fault',
          rule:
            kind === 'odoo-5xx'
              ? { kind: 'html', status: params.status ?? 502, probability: params.share ?? 0.5 }
              : {
                  kind: 'latency',
                  latencyMs: params.latencyMs ?? 1_000,
                  probability: params.share ?? 1,
                },
        });
        return async () => {
          await source.odoo.control({ op: 'removeFault', fault });
        };
      }
      case 'odoo-auth': {
        const source = sourceNamed(target);
        await source.odoo.control({ op: 'password', password: `${source.password}-refused` });
        return async () => {
          await source.odoo.control({ op: 'password', password: source.password });
        };
      }
      case 'odoo-clock-skew': {
        const source = sourceNamed(target);
        await source.odoo.control({ op: 'clockSkew', ms: params.skewMs ?? 60_000 });
        return async () => {
          await source.odoo.control({ op: 'clockSkew', ms: 0 });
        };
      }
      case 'odoo-record-rule': {
        const source = sourceNamed(target);
        const pick = chaosRandom(input.seed, `hide-${record.n}`);
        const model = pick.chance(0.5) ? BC : CYLINDER;
        const live = input.storm.liveRoots(source.name, model);
        const ids = pick.shuffle(live).slice(0, params.records ?? 1);
        record.detail = `${model} ${ids.join(', ')} hidden`;
        await source.odoo.control({ op: 'hide', model, ids });
        return async () => {
          await source.odoo.control({ op: 'unhide', model, ids });
        };
      }
      case 'webhook-drop':
      case 'webhook-duplicate':
      case 'webhook-reorder': {
        const source = sourceNamed(target);
        const share = params.share ?? 0.3;
        const chaos: SandboxWebhookChaos =
          kind === 'webhook-drop'
            ? { drop: share }
            : kind === 'webhook-duplicate'
              ? { duplicate: share }
              : { delay: share, delayMs: params.delayMs ?? 2_000 };
        const on = webhookChaos.get(source.name) ?? new Map<FaultRecord, SandboxWebhookChaos>();
        webhookChaos.set(source.name, on);
        on.set(record, chaos);
        await setWebhookChaos(source);
        return async () => {
          on.delete(record);
          await setWebhookChaos(source);
        };
      }
      case 'receiver-failing':
        return onReceiver(record, { failureRate: params.share ?? 0.5 });
      case 'receiver-slow':
        return onReceiver(record, { latencyMs: params.latencyMs ?? 1_000 });
      case 'receiver-down':
        return onReceiver(record, { down: true });
      case 'sse-disconnect':
        input.stream.disconnect(record.durationMs);
        return nothing;
      case 'odoo-late-commit':
        return nothing;
    }
  }

  const end = async (record: FaultRecord) => {
    const on = active.get(record);
    if (!on) return;
    active.delete(record);
    if (on.timer) clearTimeout(on.timer);
    try {
      await on.end();
    } catch (error) {
      record.error = `ending it failed: ${(error as Error).message}`;
    }
    record.endedMs = Math.round(clock());
    input.onRecord(record, 'end');
  };

  const start = async (planned: PlannedFault) => {
    const record: FaultRecord = {
      n: planned.n,
      kind: planned.kind,
      class: planned.class,
      ...(planned.target === undefined ? {} : { target: planned.target }),
      params: planned.params,
      plannedMs: planned.atMs,
      durationMs: planned.durationMs,
    };
    records.push(record);
    record.startedMs = Math.round(clock());
    input.onRecord(record, 'start');
    try {
      const ender = await throwFault(record);
      active.set(record, { end: ender });
      if (planned.durationMs > 0 && !isStoreDown(planned.kind))
        active.get(record)!.timer = setTimeout(() => void end(record), planned.durationMs);
      else await end(record);
    } catch (error) {
      record.error = (error as Error).message;
      record.endedMs = Math.round(clock());
      input.onRecord(record, 'end');
    }
  };

  const running = new Set<Promise<void>>();
  return {
    records,
    async run(untilMs, signal) {
      while (next < input.faults.length && !signal.aborted) {
        const planned = input.faults[next]!;
        if (planned.atMs > untilMs) break;
        const wait = planned.atMs - clock();
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              resolve();
            });
          });
          if (signal.aborted) break;
        }
        next += 1;
        const started = start(planned).finally(() => running.delete(started));
        running.add(started);
      }
      await Promise.all([...running]);
    },
    async endAll() {
      await Promise.all([...running]);
      await Promise.all([...active.keys()].map((record) => end(record)));
    },
    recordLateCommit(source, tx, heldOps) {
      lateCommits += 1;
      const record: FaultRecord = {
        n: -lateCommits,
        kind: 'odoo-late-commit',
        class: 'odoo',
        target: source,
        params: { tx, heldOps },
        plannedMs: Math.round(clock()),
        durationMs: 0,
        startedMs: Math.round(clock()),
        endedMs: Math.round(clock()),
      };
      records.push(record);
      input.onRecord(record, 'start');
    },
  };
}

/** Faults whose duration is a store's time down, spent inside the fault itself. */
function isStoreDown(kind: FaultKind): boolean {
  return kind === 'redis-restart' || kind === 'redis-wipe' || kind === 'postgres-restart';
}
