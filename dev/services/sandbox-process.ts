/**
 * The Odoo sandbox in an OS process of its own (`dev/sandbox/cli.ts`), for runs whose data would
 * weigh on the process that drives them (millions of records take gigabytes), or whose CPU must
 * be told apart from the copier's: the benchmarks and the mass-update test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { SandboxFaultRule } from '../sandbox/sandbox-faults.js';
import type { SandboxSeries } from '../sandbox/sandbox-rpc-services.js';

/** What the sandbox's process is told on its stdin (`--control-stdin`, dev/sandbox/cli.ts). */
export type SandboxCommand =
  | { readonly fault: SandboxFaultRule }
  | { readonly clearFaults: true }
  | { readonly password: string };

export interface SandboxProcess {
  /** `ODOO_URL`, `ODOO_DATABASE`, `ODOO_USERNAME`, `ODOO_PASSWORD`, as the sandbox printed them. */
  readonly env: Record<string, string>;
  readonly pid: number;
  /** Resolves once the sandbox applied `command` (with `control: true` only). */
  control(command: SandboxCommand): Promise<void>;
  stop(): Promise<void>;
}

export async function startSandboxProcess(options: {
  orders: number;
  lines: number;
  /** Node options of the sandbox's process (a larger heap for millions of records). */
  nodeOptions?: readonly string[];
  /** The Odoo series it plays (default 19.0). */
  series?: SandboxSeries;
  /** Its database's name (default the sandbox's). */
  database?: string;
  /** Takes commands (`control`): faults and the password, as the in-process control does. */
  control?: boolean;
  /** The largest request it reads (default Odoo's 128 MiB): a bench writing larger values. */
  maxBodyBytes?: number;
  /**
   * Aborts the start: the process is killed if it has not printed its settings yet. A test's
   * afterAll aborts it, so that a hook that timed out while the sandbox built its data leaves no
   * process behind (one would keep the test run from exiting).
   */
  signal?: AbortSignal;
}): Promise<SandboxProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeOptions ?? []),
      '--import',
      'tsx',
      'dev/sandbox/cli.ts',
      '--orders',
      String(options.orders),
      '--lines',
      String(options.lines),
      '--port',
      '0',
      ...(options.series === undefined ? [] : ['--series', options.series]),
      ...(options.database === undefined ? [] : ['--database', options.database]),
      ...(options.control === true ? ['--control-stdin'] : []),
      ...(options.maxBodyBytes === undefined
        ? []
        : ['--max-body-bytes', String(options.maxBodyBytes)]),
    ],
    { stdio: [options.control === true ? 'pipe' : 'ignore', 'pipe', 'inherit'] },
  );
  // Piped, as stdio says.
  const stdout = child.stdout!;
  const env: Record<string, string> = {};
  const abort = () => child.kill('SIGKILL');
  if (options.signal?.aborted) abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      stdout.setEncoding('utf8');
      stdout.on('data', (chunk: string) => {
        buffer += chunk;
        for (const match of buffer.matchAll(/^(ODOO_\w+)=(.*)$/gm))
          env[match[1]!] = match[2]!.trim();
        if (env.ODOO_PASSWORD) resolve();
      });
      child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
    });
  } catch (error) {
    await stopChild(child);
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
  // Each command is answered CONTROL_DONE=<id> once applied.
  const done = new Map<number, () => void>();
  let pending = '';
  stdout.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const id = /^CONTROL_DONE=(\d+)$/.exec(line)?.[1];
      if (id === undefined) continue;
      done.get(Number(id))?.();
      done.delete(Number(id));
    }
  });
  let commands = 0;
  return {
    env,
    pid: child.pid!,
    control(command) {
      if (!child.stdin) throw new Error('the sandbox was started without control: true');
      const id = (commands += 1);
      const applied = new Promise<void>((resolve) => done.set(id, resolve));
      child.stdin.write(`${JSON.stringify({ id, ...command })}\n`);
      return applied;
    },
    stop: () => stopChild(child),
  };
}

/** SIGTERM, then the exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
