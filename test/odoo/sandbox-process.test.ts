/**
 * The sandbox in a process of its own (dev/services/sandbox-process.ts) ends with the process that
 * started it: a bench or a test that dies without stopping it (a crash, a SIGKILL, a fork the
 * runner killed) closes the sandbox's standard input, and the sandbox stops instead of serving on,
 * unseen, until the machine restarts.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

/** The sandbox CLI with `flag`, its standard input a pipe left open; resolves once it serves. */
async function startWith(flag: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'dev/sandbox/cli.ts', '--orders', '1', '--lines', '1', '--port', '0', flag],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let url: string | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    url ??= /^ODOO_URL=(.+)$/.exec(line)?.[1];
    if (line.startsWith('ODOO_PASSWORD=')) break;
  }
  return {
    child,
    exited,
    url: url ?? '',
    stderr: () => stderr,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const FLAGS = [['--stop-with-stdin'], ['--control-stdin']];

describe('a sandbox process that watches its standard input', () => {
  it.each(FLAGS)('with %s, stops and exits 0 when it ends', async (flag) => {
    const sandbox = await startWith(flag);
    try {
      expect(sandbox.url, sandbox.stderr()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${sandbox.url}/web/version`)).status).toBe(200);

      sandbox.child.stdin.end();
      expect(await sandbox.exited).toEqual([0, null]);
      expect(sandbox.stderr()).toContain('odoo sandbox: standard input ended, closing');
      await expect(fetch(`${sandbox.url}/web/version`)).rejects.toThrow();
    } finally {
      await sandbox.kill();
    }
  });

  it.each(FLAGS)('with %s, still stops and exits 0 on SIGTERM, its input open', async (flag) => {
    const sandbox = await startWith(flag);
    try {
      sandbox.child.kill('SIGTERM');
      expect(await sandbox.exited).toEqual([0, null]);
      expect(sandbox.stderr()).toContain('odoo sandbox: SIGTERM, closing');
    } finally {
      await sandbox.kill();
    }
  });
});
