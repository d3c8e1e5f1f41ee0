/**
 * The chaos run's schedule of faults, drawn from its seed alone: which fault of which class, when
 * (milliseconds into the storm), for how long, on which target. The same seed, minutes and queues
 * give the same schedule on any machine; the run writes it out before it starts (plan.json).
 * Every kind a run's queues allow comes at least once, in an order the seed draws; more are drawn
 * on top, about four a minute. docs/chaos.md lists the kinds and what each does.
 */
import { chaosRandom, type ChaosRandom } from './chaos-random.js';

/** Where the queues are: one Redis server, Redis behind Sentinel, or PostgreSQL. */
export type ChaosQueues = 'redis' | 'sentinel' | 'postgres';
export const CHAOS_QUEUES: readonly ChaosQueues[] = ['redis', 'sentinel', 'postgres'];

/** The fault classes the docs say erp-bridge survives, and their kinds. */
export const FAULT_KINDS = {
  processes: ['worker-kill', 'worker-stop', 'api-restart'],
  stores: [
    'redis-restart',
    'redis-wipe',
    'sentinel-failover',
    'postgres-restart',
    'postgres-terminate',
  ],
  odoo: [
    'odoo-5xx',
    'odoo-timeout',
    'odoo-slow',
    'odoo-auth',
    'odoo-clock-skew',
    'odoo-record-rule',
    'odoo-late-commit',
    'webhook-drop',
    'webhook-duplicate',
    'webhook-reorder',
  ],
  consumers: ['receiver-failing', 'receiver-slow', 'receiver-down', 'sse-disconnect'],
} as const;

export type FaultClass = keyof typeof FAULT_KINDS;
export type FaultKind = (typeof FAULT_KINDS)[FaultClass][number];
export const FAULT_CLASSES = Object.keys(FAULT_KINDS) as FaultClass[];

export function classOf(kind: FaultKind): FaultClass {
  return FAULT_CLASSES.find((name) => (FAULT_KINDS[name] as readonly string[]).includes(kind))!;
}

/** The kinds a run on these queues can throw: a store it has none of has no fault. */
export function kindsFor(queues: ChaosQueues): FaultKind[] {
  const unavailable = new Set<FaultKind>(
    queues === 'redis'
      ? ['sentinel-failover']
      : queues === 'sentinel'
        ? ['redis-restart', 'redis-wipe']
        : ['redis-restart', 'redis-wipe', 'sentinel-failover'],
  );
  // A late commit is the storm's (chaos-storm.ts): its place among the changes must replay.
  unavailable.add('odoo-late-commit');
  return FAULT_CLASSES.flatMap((name) => FAULT_KINDS[name]).filter(
    (kind) => !unavailable.has(kind),
  );
}

/** One fault of the schedule. */
export interface PlannedFault {
  /** Its place in the schedule, from 1. */
  readonly n: number;
  readonly kind: FaultKind;
  readonly class: FaultClass;
  /** When it starts, in milliseconds from the storm's start. */
  readonly atMs: number;
  /** How long it lasts (0: a single blow). */
  readonly durationMs: number;
  /** The source it hits (Odoo faults), the worker (by index) or the receiver (by index). */
  readonly target?: string | number;
  /** Its figures: a share of calls hit, a latency, a skew… (docs/chaos.md). */
  readonly params: Readonly<Record<string, number>>;
}

export interface ChaosPlanInput {
  readonly seed: number;
  readonly minutes: number;
  readonly queues: ChaosQueues;
  readonly sources: readonly string[];
  readonly workers: number;
  readonly receivers: number;
  /** The Odoo timeout the deployment runs with: a timeout fault answers later than it. */
  readonly odooTimeoutMs: number;
}

export interface ChaosPlan {
  readonly seed: number;
  readonly minutes: number;
  readonly queues: ChaosQueues;
  readonly faults: readonly PlannedFault[];
}

/** Extra faults drawn per minute of storm, on top of one of each kind. */
const EXTRA_FAULTS_PER_MINUTE = 4;

export function planFaults(input: ChaosPlanInput): ChaosPlan {
  const random = chaosRandom(input.seed, 'faults');
  const stormMs = input.minutes * 60_000;
  const kinds = kindsFor(input.queues);
  // Each kind once, in a drawn order, one per slot of the storm's first 85 %; then the extras.
  const first = random.shuffle(kinds);
  const slot = (stormMs * 0.85) / first.length;
  const drawn = first.map((kind, i) => ({
    kind,
    atMs: Math.round(stormMs * 0.03 + slot * i + random.next() * slot * 0.8),
  }));
  const extras = Math.round(input.minutes * EXTRA_FAULTS_PER_MINUTE);
  for (let i = 0; i < extras; i += 1)
    drawn.push({
      kind: random.pick(kinds),
      atMs: Math.round(stormMs * (0.03 + random.next() * 0.85)),
    });
  drawn.sort((a, b) => a.atMs - b.atMs);
  const faults = drawn.map(({ kind, atMs }, index): PlannedFault => {
    const own = random.fork(`fault-${index + 1}`);
    const shape = shapeOf(kind, own, input);
    // Every fault is over before the storm ends: the quiet after it is the oracle's.
    const durationMs = Math.max(0, Math.min(shape.durationMs, stormMs - atMs - 1_000));
    return {
      n: index + 1,
      kind,
      class: classOf(kind),
      atMs,
      ...shape,
      durationMs,
    };
  });
  return { seed: input.seed, minutes: input.minutes, queues: input.queues, faults };
}

function seconds(random: ChaosRandom, min: number, max: number): number {
  return random.int(min * 1_000, max * 1_000);
}

/** A kind's target, duration and figures, drawn from its own stream. */
function shapeOf(
  kind: FaultKind,
  random: ChaosRandom,
  input: ChaosPlanInput,
): Pick<PlannedFault, 'durationMs' | 'target' | 'params'> {
  const source = () => random.pick(input.sources);
  switch (kind) {
    case 'worker-kill':
      return { durationMs: 0, target: random.int(0, input.workers - 1), params: {} };
    case 'worker-stop':
      return {
        durationMs: seconds(random, 5, 30),
        target: random.int(0, input.workers - 1),
        params: {},
      };
    case 'api-restart':
      // Half the time as a crash.
      return { durationMs: 0, params: { kill: random.int(0, 1) } };
    case 'redis-restart':
    case 'redis-wipe':
    case 'postgres-restart':
      return { durationMs: seconds(random, 0, 4), params: {} };
    case 'sentinel-failover':
      return { durationMs: 0, params: {} };
    case 'postgres-terminate':
      return { durationMs: 0, params: { sessions: random.int(1, 4) } };
    case 'odoo-5xx':
      return {
        durationMs: seconds(random, 5, 30),
        target: source(),
        params: { share: random.int(20, 60) / 100, status: random.pick([502, 503, 504]) },
      };
    case 'odoo-timeout':
      return {
        durationMs: seconds(random, 5, 20),
        target: source(),
        params: {
          share: random.int(10, 40) / 100,
          latencyMs: input.odooTimeoutMs + random.int(500, 3_000),
        },
      };
    case 'odoo-slow':
      return {
        durationMs: seconds(random, 5, 30),
        target: source(),
        params: { latencyMs: random.int(300, 2_000) },
      };
    case 'odoo-auth':
      return { durationMs: seconds(random, 5, 20), target: source(), params: {} };
    case 'odoo-clock-skew':
      return {
        durationMs: seconds(random, 10, 40),
        target: source(),
        // Ahead or behind, by half a minute to five minutes: inside the overlap, as NTP leaves it.
        params: { skewMs: (random.chance(0.5) ? 1 : -1) * seconds(random, 30, 300) },
      };
    case 'odoo-record-rule':
      return {
        durationMs: seconds(random, 10, 40),
        target: source(),
        params: { records: random.int(1, 3), pick: random.int(0, 1_000_000) },
      };
    case 'webhook-drop':
    case 'webhook-duplicate':
    case 'webhook-reorder':
      return {
        durationMs: seconds(random, 10, 40),
        target: source(),
        params: { share: random.int(20, 60) / 100, delayMs: random.int(500, 5_000) },
      };
    case 'receiver-failing':
      return {
        durationMs: seconds(random, 5, 30),
        target: random.int(0, input.receivers - 1),
        params: { share: random.int(30, 90) / 100 },
      };
    case 'receiver-slow':
      return {
        durationMs: seconds(random, 5, 30),
        target: random.int(0, input.receivers - 1),
        params: { latencyMs: random.int(500, 4_000) },
      };
    case 'receiver-down':
      return {
        durationMs: seconds(random, 5, 40),
        target: random.int(0, input.receivers - 1),
        params: {},
      };
    case 'sse-disconnect':
      return { durationMs: seconds(random, 0, 5), params: {} };
    case 'odoo-late-commit':
      throw new Error('a late commit is the storm’s, not the schedule’s');
  }
}
