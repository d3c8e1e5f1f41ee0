/**
 * One chaos run (docs/chaos.md): a deployment started on this machine, a storm of Odoo changes
 * and a schedule of faults from every class, both drawn from one seed, for some minutes; at each
 * quiet checkpoint and at the end, the faults ended, the deployment left to heal as the docs say
 * it does (its runs, a reconcile and a verify asked for over the API), and the oracle's verdict.
 *
 * Everything the run does is written to its directory: the plan (plan.json), the operation log
 * (operations.jsonl), the fault log (faults.jsonl), its notes (run.log), each process's output
 * (logs/) and the result (result.json). The same seed replays the same plan and the same changes.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { bundleCommands } from '../../build.js';
import { createApiClient, type ApiClient } from './chaos-api.js';
import { ODOO_TIMEOUT_MS, startChaosDeployment, type ChaosDeployment } from './chaos-deployment.js';
import { createFaultRunner, type FaultRecord, type FaultRunner } from './chaos-faults.js';
import { consultOracle, type Difference, type OracleFigures } from './chaos-oracle.js';
import {
  FAULT_CLASSES,
  planFaults,
  type ChaosPlan,
  type ChaosQueues,
  type FaultClass,
} from './chaos-plan.js';
import { createStorm, type StormOperation } from './chaos-storm.js';
import { startSseReader } from './sse-reader.js';

export interface ChaosOptions {
  readonly seed: number;
  readonly minutes: number;
  readonly queues: ChaosQueues;
  readonly sources: 2 | 3;
  readonly workers: number;
  /** Storm changes per second, over every source. */
  readonly opsPerSecond: number;
  /** Minutes between quiet checkpoints; the end is one in any case. */
  readonly checkpointEveryMinutes: number;
  /** Records of each Odoo database at the start. */
  readonly size: { readonly orders: number; readonly lines: number; readonly cylinders: number };
  /** The run's directory. */
  readonly dir: string;
  /** Where the operator commands are bundled; unset: bundled now, into `.chaos-commands/`. */
  readonly commandsDir?: string;
  /** Each line of the run's notes, as it is written (the CLI prints them). */
  readonly print?: (line: string) => void;
}

/** The shape of a run when the command is given none: the acceptance's ten-minute runs. */
export const CHAOS_DEFAULTS = {
  minutes: 10,
  sources: 2,
  workers: 2,
  opsPerSecond: 2,
  checkpointEveryMinutes: 5,
  size: { orders: 60, lines: 3, cylinders: 30 },
} as const satisfies Omit<ChaosOptions, 'seed' | 'queues' | 'dir'>;

/** The runs' table (docs/chaos.md, "Runs"): its header, and a run's row. */
export const CHAOS_TABLE_HEADER =
  '| seed | queues | minutes | operations | faults by class | restarted (by faults+by themselves) | differences | load |';

export function chaosTableRow(result: ChaosResult): string {
  const faults = FAULT_CLASSES.map((name) => `${name} ${result.faults[name]}`).join(', ');
  const restarts = Object.entries(result.restarts)
    .filter(([, counts]) => counts.byFaults + counts.own > 0)
    .map(([name, counts]) => `${name} ${counts.byFaults}+${counts.own}`)
    .join(', ');
  return `| ${result.seed} | ${result.queues} | ${result.minutes} | ${result.operations} | ${faults} | ${restarts || 'none'} | ${result.differences.length} | ${result.load.mean} (max ${result.load.max}) |`;
}

/** Per-fault-class counts, and each process's restarts. */
export interface ChaosResult {
  readonly seed: number;
  readonly queues: ChaosQueues;
  readonly minutes: number;
  readonly operations: number;
  readonly faults: Record<FaultClass, number>;
  readonly faultsByKind: Record<string, number>;
  /** Faults the run could not throw (with why, in the fault log). */
  readonly faultErrors: number;
  /** Each process's starts after its first: by a fault, or by itself. */
  readonly restarts: Record<string, { readonly byFaults: number; readonly own: number }>;
  readonly checkpoints: ReadonlyArray<{
    readonly atMs: number;
    readonly differences: number;
    /** Rounds of runs it took the copies to heal (1: the first). */
    readonly rounds: number;
    readonly figures: OracleFigures;
  }>;
  readonly differences: readonly Difference[];
  /** How long the webhook inbox took to empty after the storm (null: not within 2 minutes). */
  readonly inboxEmptyAfterMs: number | null;
  /**
   * What the inbox held of sources whose clock was set back: 2 minutes after the storm, or once
   * the last checkpoint was over and it held nothing else.
   */
  readonly inboxHeldAfterClockStep?: string;
  readonly peakRssMb: Record<string, number>;
  /** The machine's load during the run: mean and highest of the 1-minute average. */
  readonly load: { readonly mean: number; readonly max: number };
  readonly durationMs: number;
  readonly dir: string;
}

/** What the docs give a process at most (deploy/kubernetes: the API's and a worker's limit). */
const MEMORY_LIMIT_MB = { api: 512, worker: 768 } as const;
/** How long after the storm the webhook inbox must be empty (README, "Changes pushed by Odoo"). */
const INBOX_EMPTY_WITHIN_MS = 120_000;
/** Rounds of runs a quiet checkpoint asks for before it takes the copies' differences as final. */
const HEALING_ROUNDS = 3;

/** A clock of milliseconds that can be stopped: the storm's, still while the run is quiet. */
function pausableClock(): { now: () => number; pause: () => void; resume: () => void } {
  let offset = 0;
  let pausedAt: number | undefined;
  const start = Date.now();
  return {
    now: () => (pausedAt ?? Date.now()) - start - offset,
    pause() {
      pausedAt ??= Date.now();
    },
    resume() {
      if (pausedAt === undefined) return;
      offset += Date.now() - pausedAt;
      pausedAt = undefined;
    },
  };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const startedAt = Date.now();
  mkdirSync(options.dir, { recursive: true });
  const runClock = () => Date.now() - startedAt;
  const note = (line: string) => {
    const text = `[${(runClock() / 1_000).toFixed(1).padStart(7)} s] ${line}`;
    appendFileSync(join(options.dir, 'run.log'), `${text}\n`);
    options.print?.(text);
  };
  const loads: number[] = [];
  const loadSampler = setInterval(() => loads.push(loadavg()[0]!), 10_000);
  loads.push(loadavg()[0]!);
  note(
    `chaos run: seed ${options.seed}, ${options.minutes} min, queues ${options.queues}, ${options.sources} sources, ${options.workers} workers, load ${loadavg()[0]!.toFixed(1)}`,
  );

  const sourceNames = ['default', 'b19', 'c18'].slice(0, options.sources);
  const plan: ChaosPlan = planFaults({
    seed: options.seed,
    minutes: options.minutes,
    queues: options.queues,
    sources: sourceNames,
    workers: options.workers,
    receivers: 2,
    odooTimeoutMs: ODOO_TIMEOUT_MS,
  });
  writeFileSync(
    join(options.dir, 'plan.json'),
    `${JSON.stringify({ ...plan, opsPerSecond: options.opsPerSecond, size: options.size, sources: sourceNames, workers: options.workers }, null, 2)}\n`,
  );

  const commandsDir = options.commandsDir ?? '.chaos-commands';
  if (options.commandsDir === undefined) {
    note('bundling the operator commands');
    await bundleCommands(commandsDir);
  }

  const deployment = await startChaosDeployment({
    seed: options.seed,
    queues: options.queues,
    sources: options.sources,
    workers: options.workers,
    commandsDir,
    dir: options.dir,
    size: options.size,
    clock: runClock,
    note,
  });
  const api = createApiClient(deployment.apiUrl);
  const stormClock = pausableClock();
  stormClock.pause();
  const differences: Difference[] = [];
  const checkpoints: Array<ChaosResult['checkpoints'][number]> = [];
  const operations: StormOperation[] = [];
  let inboxEmptyAfterMs: number | null = null;
  let inboxHeldAfterClockStep: string | undefined;
  let endFaults: (() => Promise<void>) | undefined;
  // One position for the stream's start and the oracle's: the workers copy from their start, and
  // a change made between two reads of the head was streamed and then not expected.
  const streamFrom = (
    await api.get<{ position: string }>('/api/changes/head', deployment.keys.reader)
  ).position;
  const stream = startSseReader({
    apiUrl: deployment.apiUrl,
    key: deployment.keys.stream,
    after: streamFrom,
    note,
  });
  try {
    note('the first copies');
    await heal(deployment, api, note, ['sync']);

    const storm = await createStorm({
      seed: options.seed,
      minutes: options.minutes,
      opsPerSecond: options.opsPerSecond,
      sources: deployment.sources,
      clock: stormClock.now,
      hooks: {
        onOperation(operation) {
          operations.push(operation);
          appendFileSync(join(options.dir, 'operations.jsonl'), `${JSON.stringify(operation)}\n`);
        },
        onLateCommit: (source, tx, held) => faults.recordLateCommit(source, tx, held),
        async migrate() {
          note('migrate: Odoo gained a field');
          for (const text of await deployment.migrate())
            differences.push({ check: 'processes', text });
          note('migrate passed');
        },
      },
    });
    const faults: FaultRunner = createFaultRunner({
      faults: plan.faults,
      deployment,
      storm,
      stream,
      seed: options.seed,
      clock: stormClock.now,
      onRecord(record: FaultRecord, event) {
        appendFileSync(
          join(options.dir, 'faults.jsonl'),
          `${JSON.stringify({ event, ...record })}\n`,
        );
        if (event === 'start' && record.kind !== 'odoo-late-commit')
          note(
            `fault ${record.n} ${record.kind}${record.target === undefined ? '' : ` → ${record.target}`}${record.durationMs > 0 ? ` for ${(record.durationMs / 1_000).toFixed(1)} s` : ''}`,
          );
        if (record.error !== undefined) note(`fault ${record.n} ${record.kind}: ${record.error}`);
      },
    });

    endFaults = () => faults.endAll();

    const stormMs = options.minutes * 60_000;
    const everyMs = Math.max(1, options.checkpointEveryMinutes) * 60_000;
    const ends: number[] = [];
    for (let at = everyMs; at < stormMs; at += everyMs) ends.push(at);
    ends.push(stormMs);
    for (const end of ends) {
      note(`storm until ${(end / 60_000).toFixed(1)} min`);
      stormClock.resume();
      // A storm or a fault runner that fails stops the other before the run ends.
      const stop = new AbortController();
      const ran = await Promise.allSettled(
        [storm.run(end, stop.signal), faults.run(end, stop.signal)].map((running) =>
          running.catch((error: unknown) => {
            stop.abort();
            throw error;
          }),
        ),
      );
      for (const outcome of ran) if (outcome.status === 'rejected') throw outcome.reason;
      stormClock.pause();
      note(`quiet: ${storm.made} changes so far; ending the faults still on`);
      await faults.endAll();
      await storm.commitLate();
      await Promise.all(deployment.sources.map((source) => source.odoo.control({ op: 'settled' })));
      const quietAt = Date.now();
      const isEnd = end === stormMs;
      // Odoo's clock set back (a skew, or a skew's end) leaves a record's stamp behind an
      // event's: no read shows that event until the record is written again, and it is settled
      // unseen 31 minutes after it came (README, "Changes pushed by Odoo"). Noted for the sources
      // whose clock moved; any other source's events are a difference.
      const stepped = new Set(
        faults.records
          .filter((record) => record.kind === 'odoo-clock-skew')
          .map((record) => String(record.target)),
      );
      const isStepped = (family: string) => stepped.has(sourceOfFamily(family));
      let checked = false;
      const inbox = isEnd
        ? watchInbox(deployment, quietAt, (held) => checked && [...held.keys()].every(isStepped))
        : undefined;
      const verdict = await checkpoint(deployment, api, stream, streamFrom, note);
      checked = true;
      if (isEnd) {
        const watched = await inbox!;
        if ('emptyAfterMs' in watched) inboxEmptyAfterMs = watched.emptyAfterMs;
        else {
          const held = `the webhook inbox still held events ${Math.round(watched.afterMs / 1_000)} s after the storm`;
          const noted: InboxHeld = new Map();
          const counted: InboxHeld = new Map();
          for (const [family, entry] of watched.held)
            (isStepped(family) ? noted : counted).set(family, entry);
          if (noted.size > 0) {
            inboxHeldAfterClockStep = heldText(noted);
            note(`${held}, of sources whose clock was set back: ${inboxHeldAfterClockStep}`);
          }
          if (counted.size > 0)
            verdict.differences.push({
              check: 'inbox',
              text: `${held}: ${heldText(counted)}${await heldEvents(api, deployment, counted)}`,
            });
        }
      }
      checkpoints.push({
        atMs: end,
        differences: verdict.differences.length,
        rounds: verdict.rounds,
        figures: verdict.figures,
      });
      for (const difference of verdict.differences) differences.push(difference);
      note(
        `checkpoint at ${(end / 60_000).toFixed(1)} min: ${verdict.differences.length} differences (${verdict.rounds} rounds)`,
      );
    }

    // Every process alive, or started again by the supervisor; within its memory.
    for (const process of deployment.supervisor.processes) {
      if (process.pid === undefined || process.frozen)
        differences.push({
          check: 'processes',
          text: `${process.name} is not running at the end`,
        });
      const limit = process.name === 'api' ? MEMORY_LIMIT_MB.api : MEMORY_LIMIT_MB.worker;
      if (process.peakRssMb > limit)
        differences.push({
          check: 'memory',
          text: `${process.name} peaked at ${process.peakRssMb} MB, over its ${limit} MB`,
        });
    }

    const result: ChaosResult = {
      seed: options.seed,
      queues: options.queues,
      minutes: options.minutes,
      operations: storm.made,
      faults: Object.fromEntries(
        FAULT_CLASSES.map((name) => [
          name,
          faults.records.filter((record) => record.class === name).length,
        ]),
      ) as Record<FaultClass, number>,
      faultsByKind: faults.records.reduce<Record<string, number>>(
        (counts, record) => ({ ...counts, [record.kind]: (counts[record.kind] ?? 0) + 1 }),
        {},
      ),
      faultErrors: faults.records.filter((record) => record.error !== undefined).length,
      restarts: Object.fromEntries(
        deployment.supervisor.processes.map((process) => [
          process.name,
          {
            byFaults: process.exits.filter((exit) => exit.cause === 'fault').length,
            own: process.exits.filter((exit) => exit.cause === 'own').length,
          },
        ]),
      ),
      checkpoints,
      differences,
      inboxEmptyAfterMs,
      ...(inboxHeldAfterClockStep === undefined ? {} : { inboxHeldAfterClockStep }),
      peakRssMb: Object.fromEntries(
        deployment.supervisor.processes.map((process) => [process.name, process.peakRssMb]),
      ),
      load: {
        mean: Number((loads.reduce((a, b) => a + b, 0) / loads.length).toFixed(1)),
        max: Number(Math.max(...loads).toFixed(1)),
      },
      durationMs: Date.now() - startedAt,
      dir: options.dir,
    };
    writeFileSync(join(options.dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    if (differences.length > 0) note(firstDifference(differences[0]!, operations, faults.records));
    return result;
  } finally {
    clearInterval(loadSampler);
    await endFaults?.().catch((error: unknown) =>
      note(`ending the faults failed: ${String(error)}`),
    );
    stream.close();
    note('stopping the deployment');
    await deployment.stop();
  }
}

/**
 * The first difference, the storm's changes of its record, and the faults around them: where to
 * start looking.
 */
function firstDifference(
  difference: Difference,
  operations: readonly StormOperation[],
  faults: readonly FaultRecord[],
): string {
  const touched = operations.filter(
    (operation) =>
      difference.odooId !== undefined &&
      operation.source === difference.source &&
      operation.ids.includes(difference.odooId),
  );
  const from = (touched[0]?.atMs ?? Infinity) - 60_000;
  const to = (touched.at(-1)?.atMs ?? -Infinity) + 60_000;
  const around = faults.filter(
    (fault) =>
      fault.startedMs !== undefined &&
      (touched.length === 0 || (fault.startedMs >= from && fault.startedMs <= to)),
  );
  const shown = touched.length === 0 ? around.slice(-10) : around;
  return [
    `first difference: ${difference.text}`,
    ...touched.map(
      (operation) =>
        `  change ${operation.n} at ${(operation.atMs / 1_000).toFixed(1)} s: ${operation.op} ${operation.model} ${operation.ids.join(', ')}${operation.fields ? ` (${operation.fields.join(', ')})` : ''}`,
    ),
    `faults ${touched.length === 0 ? 'last before it' : 'within a minute of those changes'}:`,
    ...shown.map(
      (fault) =>
        `  fault ${fault.n} at ${((fault.startedMs ?? 0) / 1_000).toFixed(1)} s: ${fault.kind}${fault.target === undefined ? '' : ` → ${fault.target}`}${fault.detail ? ` (${fault.detail})` : ''}`,
    ),
  ].join('\n');
}

/**
 * Resolves with how long the inbox took to empty after `since`, or with what it still held
 * (events and the oldest one's age, by family): past the bound, or sooner once `settled` says that
 * waiting on could not change the verdict (every event left is one only noted).
 */
async function watchInbox(
  deployment: ChaosDeployment,
  since: number,
  settled: (held: InboxHeld) => boolean,
): Promise<{ emptyAfterMs: number } | { held: InboxHeld; afterMs: number }> {
  for (;;) {
    const held = await inboxEvents(deployment);
    const afterMs = Date.now() - since;
    if (held.size === 0) return { emptyAfterMs: afterMs };
    if (afterMs > INBOX_EMPTY_WITHIN_MS || settled(held)) return { held, afterMs };
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

/** Events the inbox holds and the oldest one's age, by family (of those that hold any). */
type InboxHeld = Map<string, { events: number; oldestSeconds: number }>;

const heldText = (held: InboxHeld) =>
  [...held]
    .map(([family, { events, oldestSeconds }]) => `${family} ${events} (oldest ${oldestSeconds} s)`)
    .join(', ');

/** The events held of these families, one line each, as an admin lists them. */
async function heldEvents(
  api: ApiClient,
  deployment: ChaosDeployment,
  held: InboxHeld,
): Promise<string> {
  const lines: string[] = [];
  for (const family of held.keys()) {
    const items = await api
      .get<{ items: HeldEvent[] }>(
        `/api/sync/webhooks?family=${family}&limit=20`,
        deployment.keys.reader,
      )
      .then(
        (page) => page.items,
        (error: unknown) => {
          lines.push(`\n  ${family}: the inbox's events could not be listed (${String(error)})`);
          return [];
        },
      );
    for (const event of items)
      lines.push(
        `\n  ${event.family} ${event.model} ${event.recordId}${event.rootId === null ? '' : ` (root ${event.rootId})`}: ${event.deleted ? 'deleted' : `stamp ${event.writeDate ?? 'none'}`}, received ${event.receivedAt}, ${event.unseenReads} reads did not show it, queued again ${event.requeues} times`,
      );
  }
  return lines.join('');
}

/** An event of `GET /api/sync/webhooks`. */
interface HeldEvent {
  readonly family: string;
  readonly model: string;
  readonly recordId: number;
  readonly rootId: number | null;
  readonly writeDate: string | null;
  readonly deleted: boolean;
  readonly receivedAt: string;
  readonly requeues: number;
  readonly unseenReads: number;
}

/** The source a family's key names (`b19.bcs`: b19; `bcs`: the default source). */
const sourceOfFamily = (family: string) =>
  family.includes('.') ? family.slice(0, family.indexOf('.')) : 'default';

/**
 * The webhook events the inbox holds, by family, as the workers' metrics count them (each family
 * once): those of a family that holds any.
 */
async function inboxEvents(deployment: ChaosDeployment): Promise<InboxHeld> {
  const byFamily: InboxHeld = new Map();
  for (const url of deployment.workerUrls) {
    const text = await createApiClient(url)
      .text('/metrics', deployment.keys.admin)
      .catch(() => '');
    for (const match of text.matchAll(
      /^erp_bridge_webhook_inbox_(events|oldest_seconds)\{([^}]*)\} ([\d.e+]+)/gm,
    )) {
      const family = /family="([^"]*)"/.exec(match[2]!)?.[1] ?? '';
      const value = Number(match[3]);
      const entry = byFamily.get(family) ?? { events: 0, oldestSeconds: 0 };
      if (match[1] === 'events') entry.events = Math.max(entry.events, value);
      else entry.oldestSeconds = Math.max(entry.oldestSeconds, Math.round(value));
      byFamily.set(family, entry);
    }
  }
  for (const [family, entry] of byFamily) if (entry.events === 0) byFamily.delete(family);
  return byFamily;
}

type RunKind = 'sync' | 'reconcile' | 'verify';

/** How long a heal waits for a family's run to end, and for the API to take its next one. */
const HEAL_WAIT_MS = 10 * 60_000;

/**
 * Asks for a run of each kind in turn, for every family, over the API, and waits for each to be
 * done; a family whose run failed or ended partial is asked again (three times at most).
 */
async function heal(
  deployment: ChaosDeployment,
  api: ApiClient,
  note: (line: string) => void,
  kinds: readonly RunKind[],
): Promise<void> {
  const key = deployment.keys.admin;
  const state = await api.get<{ families: Array<{ family: string }> }>('/api/sync/state', key);
  const families = state.families.map((family) => family.family);
  for (const kind of kinds) {
    await Promise.all(
      families.map(async (family) => {
        for (let attempt = 1; attempt <= 3; attempt += 1) {
          const asked = new Date(Date.now() - 1_000).toISOString();
          const route =
            kind === 'sync'
              ? `/api/sync/run?family=${family}`
              : kind === 'reconcile'
                ? `/api/sync/reconcile?family=${family}`
                : `/api/sync/verify?family=${family}&all=true`;
          const refusedUntil = Date.now() + HEAL_WAIT_MS;
          for (;;) {
            try {
              await api.post(route, key);
              break;
            } catch (error) {
              // 409: a run holds the lease, or one is queued: ask again once it is done.
              if ((error as { status?: number }).status !== 409) throw error;
              if (Date.now() > refusedUntil)
                throw new Error(
                  `${route} answered 409 for ${HEAL_WAIT_MS / 60_000} minutes: no run of ${family} ended meanwhile`,
                  { cause: error },
                );
              await new Promise((resolve) => setTimeout(resolve, 2_000));
            }
          }
          const status = await runDone(api, key, family, kind, asked);
          if (status === 'succeeded') return;
          note(`${kind} of ${family} ended ${status}: asking again`);
        }
      }),
    );
  }
}

/** Waits for a run of `kind` of `family` started after `asked` to end; resolves its status. */
async function runDone(
  api: ApiClient,
  key: string,
  family: string,
  kind: RunKind,
  asked: string,
): Promise<string> {
  const deadline = Date.now() + HEAL_WAIT_MS;
  while (Date.now() < deadline) {
    const runs = await api.get<{
      items: Array<{ kind: string; status: string; startedAt: string }>;
    }>(`/api/sync/runs?family=${family}&limit=20`, key);
    const done = runs.items.find(
      (run) =>
        run.kind === kind &&
        run.startedAt >= asked &&
        run.status !== 'running' &&
        run.status !== 'skipped',
    );
    if (done) return done.status;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return 'not done within 10 minutes';
}

/**
 * A quiet checkpoint: the runs, a reconcile and a verify asked for; the consumers caught up;
 * then the oracle. Differences in the copies left by a round are given another round (the jobs
 * a fault put off may still be backing off), up to three.
 */
async function checkpoint(
  deployment: ChaosDeployment,
  api: ApiClient,
  stream: ReturnType<typeof startSseReader>,
  streamFrom: string,
  note: (line: string) => void,
): Promise<{ differences: Difference[]; rounds: number; figures: OracleFigures }> {
  await Promise.all(deployment.supervisor.processes.map((process) => process.ready()));
  let rounds = 0;
  for (;;) {
    rounds += 1;
    note(`healing, round ${rounds}: runs, reconcile, verify, runs`);
    await heal(deployment, api, note, ['sync', 'reconcile', 'verify', 'sync']);
    const behind = await caughtUp(deployment, api, stream, streamFrom);
    if (behind !== undefined) note(`the consumers did not catch up within 2 minutes: ${behind}`);
    const report = await consultOracle({ deployment, api, stream, streamFrom });
    const copy = report.differences.filter((difference) => difference.check === 'copy');
    if (copy.length === 0 || rounds >= HEALING_ROUNDS)
      return { differences: [...report.differences], rounds, figures: report.figures };
    note(`${copy.length} copy differences after round ${rounds}; first: ${copy[0]!.text}`);
  }
}

/**
 * Waits until every subscription and the stream have the feed's head (two minutes at most);
 * resolves with what was still behind then, or undefined.
 */
async function caughtUp(
  deployment: ChaosDeployment,
  api: ApiClient,
  stream: ReturnType<typeof startSseReader>,
  streamFrom: string,
): Promise<string | undefined> {
  const key = deployment.keys.admin;
  const deadline = Date.now() + 120_000;
  let behind = '';
  while (Date.now() < deadline) {
    const head = (await api.get<{ position: string }>('/api/changes/head', key)).position;
    const subscriptions = await api.get<{
      items: Array<{ name: string; lagChanges: number; status: string; cursor: string }>;
    }>('/api/changes/subscriptions', key);
    const last = stream.changes.at(-1)?.position ?? streamFrom;
    const feedLast = await api.get<{ changes: Array<{ position: string }> }>(
      `/api/changes?source=*&limit=1&after=${last}`,
      key,
    );
    // A cursor stays at the last change it delivered, below the head: the lag says it is done.
    if (subscriptions.items.every((item) => item.lagChanges === 0) && feedLast.changes.length === 0)
      return undefined;
    behind = `head ${head}; the stream at ${last}; ${JSON.stringify(subscriptions.items)}`;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return behind;
}
