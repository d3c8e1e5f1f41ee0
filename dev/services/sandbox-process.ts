/**
 * The Odoo sandbox in an OS process of its own (`dev/sandbox/cli.ts`), for runs whose data would
 * weigh on the process that drives them (millions of records take gigabytes), or whose CPU must
 * be told apart from the copier's: the benchmarks, the mass-update test and the chaos run, each of
 * whose Odoo databases is a process (docs/chaos.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type {
  SandboxCommand,
  SandboxCommandOp,
  SandboxCommands,
} from '../sandbox/sandbox-commands.js';
import type { SandboxSeries } from '../sandbox/sandbox-rpc-services.js';

export interface SandboxProcess {
  /** `ODOO_URL`, `ODOO_DATABASE`, `ODOO_USERNAME`, `ODOO_PASSWORD`, as the sandbox printed them. */
  readonly env: Record<string, string>;
  readonly pid: number;
  /**
   * Resolves with what the sandbox answered once it applied `command` (with `control: true`
   * only); rejects with the sandbox's error when it refused it.
   */
  control<Op extends SandboxCommandOp>(
    command: { readonly op: Op } & SandboxCommands[Op]['args'],
  ): Promise<SandboxCommands[Op]['result']>;
  stop(): Promise<void>;
}

export async function startSandboxProcess(options: {
  orders: number;
  lines: number;
  /** Contacts beyond the vendors (default 0). */
  partners?: number;
  /** Custom `x_cylinder` records with their valves (default 0). */
  cylinders?: number;
  /** Seed of its data and of its probabilistic faults (default the sandbox's). */
  seed?: number;
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
      ...(options.partners === undefined ? [] : ['--partners', String(options.partners)]),
      ...(options.cylinders === undefined ? [] : ['--cylinders', String(options.cylinders)]),
      ...(options.seed === undefined ? [] : ['--seed', String(options.seed)]),
      ...(options.series === undefined ? [] : ['--series', options.series]),
      ...(options.database === undefined ? [] : ['--database', options.database]),
      // Either way it stops with this process: its standard input ends with it.
      ...(options.control === true ? ['--control-stdin'] : ['--stop-with-stdin']),
      ...(options.maxBodyBytes === undefined
        ? []
        : ['--max-body-bytes', String(options.maxBodyBytes)]),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const stdout = child.stdout;
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
  // Each command is answered CONTROL_DONE=<id> <result> once applied, CONTROL_FAILED=<id>
  // <message> when refused.
  const answers = new Map<number, { resolve(result: unknown): void; reject(error: Error): void }>();
  let pending = '';
  stdout.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const match = /^CONTROL_(DONE|FAILED)=(\d+) (.*)$/.exec(line);
      if (match === null) continue;
      const answer = answers.get(Number(match[2]));
      answers.delete(Number(match[2]));
      if (match[1] === 'DONE') answer?.resolve(JSON.parse(match[3]!));
      else answer?.reject(new Error(`the sandbox refused a command: ${JSON.parse(match[3]!)}`));
    }
  });
  child.once('exit', (code, signal) => {
    for (const answer of answers.values())
      answer.reject(new Error(`the sandbox exited (${signal ?? code}) before it answered`));
    answers.clear();
  });
  let commands = 0;
  return {
    env,
    pid: child.pid!,
    control(command) {
      if (options.control !== true)
        throw new Error('the sandbox was started without control: true');
      const id = (commands += 1);
      const applied = new Promise<never>((resolve, reject) =>
        answers.set(id, { resolve: resolve, reject }),
      );
      child.stdin.write(`${JSON.stringify({ id, ...(command as SandboxCommand) })}\n`);
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
