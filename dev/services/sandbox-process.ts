/**
 * The Odoo sandbox in an OS process of its own (`dev/sandbox/cli.ts`), for runs whose data would
 * weigh on the process that drives them (millions of records take gigabytes), or whose CPU must
 * be told apart from the copier's: the benchmarks and the mass-update test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { SandboxSeries } from '../sandbox/sandbox-rpc-services.js';

export interface SandboxProcess {
  /** `ODOO_URL`, `ODOO_DATABASE`, `ODOO_USERNAME`, `ODOO_PASSWORD`, as the sandbox printed them. */
  readonly env: Record<string, string>;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startSandboxProcess(options: {
  orders: number;
  lines: number;
  /** Node options of the sandbox's process (a larger heap for millions of records). */
  nodeOptions?: readonly string[];
  /** The Odoo series it plays (default 19.0). */
  series?: SandboxSeries;
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
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const env: Record<string, string> = {};
  try {
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
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
  }
  return { env, pid: child.pid!, stop: () => stopChild(child) };
}

/** SIGTERM, then the exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
