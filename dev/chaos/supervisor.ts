/**
 * The chaos run's supervisor: it starts each process of the deployment (the API, the workers)
 * from its bundled command, as an orchestrator would, writes each one's output to a log file of
 * its own, and starts again any process that exits — whether a fault killed it or it exited by
 * itself (a worker that judged itself wedged exits 1 for its supervisor: README, "Operations").
 * It counts both, and samples each process's resident memory for the oracle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

/** Why a process exited: a fault the run threw at it, or itself. */
export type ExitCause = 'fault' | 'own';

export interface ExitRecord {
  /** Milliseconds on the run's clock. */
  readonly atMs: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly cause: ExitCause;
}

export interface ProcessSpec {
  readonly name: string;
  readonly script: string;
  readonly nodeArgs: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** Resolves once the process serves (its health route answers ready). */
  readonly ready: (signal: AbortSignal) => Promise<void>;
}

export interface Supervised {
  readonly name: string;
  readonly pid: number | undefined;
  /** Whether it is stopped by SIGSTOP. */
  readonly frozen: boolean;
  readonly exits: readonly ExitRecord[];
  /** The most resident memory it held, in MB, over all its lives. */
  readonly peakRssMb: number;
  /** Sends `signal`; an exit it causes is the fault's. */
  kill(signal: NodeJS.Signals): void;
  freeze(): void;
  thaw(): void;
  /** Resolves once its current life serves. */
  ready(): Promise<void>;
}

export interface Supervisor {
  start(spec: ProcessSpec): Promise<Supervised>;
  readonly processes: readonly Supervised[];
  /** Stops every process (SIGTERM, then SIGKILL after `graceMs`) and no longer restarts any. */
  stop(graceMs?: number): Promise<void>;
}

/** How long a process that exited waits before it is started again. */
const RESTART_DELAY_MS = 1_000;
const SAMPLE_EVERY_MS = 2_000;

function rssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1_024 : undefined;
  } catch {
    // Gone between the exit and the sample.
    return undefined;
  }
}

export function createSupervisor(options: {
  readonly logDir: string;
  /** The run's clock, in milliseconds. */
  readonly clock: () => number;
  readonly note: (line: string) => void;
}): Supervisor {
  const all: Array<Supervised & { stopLife(graceMs: number): Promise<void> }> = [];
  let stopping = false;
  const sampler = setInterval(() => {
    for (const process of all) sample(process);
  }, SAMPLE_EVERY_MS);
  const peaks = new Map<string, number>();
  const sample = (process: Supervised) => {
    const rss = process.pid === undefined ? undefined : rssMb(process.pid);
    if (rss !== undefined) peaks.set(process.name, Math.max(peaks.get(process.name) ?? 0, rss));
  };

  return {
    get processes() {
      return all;
    },
    async start(spec) {
      const log: WriteStream = createWriteStream(join(options.logDir, `${spec.name}.log`), {
        flags: 'a',
      });
      const exits: ExitRecord[] = [];
      let child: ChildProcess;
      let frozen = false;
      let faulted = false;
      let life = new AbortController();
      let readyNow: Promise<void>;

      const launch = () => {
        faulted = false;
        frozen = false;
        life = new AbortController();
        child = spawn(process.execPath, [...spec.nodeArgs, spec.script], {
          env: spec.env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        child.stdout!.pipe(log, { end: false });
        child.stderr!.pipe(log, { end: false });
        const signal = life.signal;
        readyNow = spec.ready(signal);
        // A life that ends before it served leaves its readiness to the next one.
        readyNow.catch(() => undefined);
        child.once('exit', (code, exitSignal) => {
          life.abort();
          const cause: ExitCause = faulted ? 'fault' : 'own';
          exits.push({ atMs: Math.round(options.clock()), code, signal: exitSignal, cause });
          if (stopping) return;
          options.note(
            `${spec.name} exited (${exitSignal ?? `code ${code}`}, ${cause === 'fault' ? 'a fault' : 'by itself'}): starting it again`,
          );
          setTimeout(() => {
            if (!stopping) launch();
          }, RESTART_DELAY_MS);
        });
      };
      launch();

      const supervised = {
        name: spec.name,
        get pid() {
          return child.exitCode === null && child.signalCode === null ? child.pid : undefined;
        },
        get frozen() {
          return frozen;
        },
        exits,
        get peakRssMb() {
          return Math.round(peaks.get(spec.name) ?? 0);
        },
        kill(signal: NodeJS.Signals) {
          faulted = true;
          if (frozen) child.kill('SIGCONT');
          child.kill(signal);
        },
        freeze() {
          frozen = true;
          child.kill('SIGSTOP');
        },
        thaw() {
          if (!frozen) return;
          frozen = false;
          child.kill('SIGCONT');
        },
        async ready() {
          // Each life gives its own readiness; a life that ends before it served hands over.
          for (;;) {
            const current = readyNow;
            try {
              await current;
              return;
            } catch (error) {
              if (stopping) throw error;
              await new Promise((resolve) => setTimeout(resolve, 200));
            }
          }
        },
        async stopLife(graceMs: number) {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          if (frozen) child.kill('SIGCONT');
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        },
      };
      all.push(supervised);
      sample(supervised);
      await supervised.ready();
      return supervised;
    },
    async stop(graceMs = 20_000) {
      stopping = true;
      clearInterval(sampler);
      await Promise.all(all.map((process) => process.stopLife(graceMs)));
    },
  };
}
