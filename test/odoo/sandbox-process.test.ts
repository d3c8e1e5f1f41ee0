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

describe('a sandbox process whose standard input ends', () => {
  it.each([['--stop-with-stdin'], ['--control-stdin']])(
    'with %s, stops and exits 0',
    async (flag) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'dev/sandbox/cli.ts',
          '--orders',
          '1',
          '--lines',
          '1',
          '--port',
          '0',
          flag,
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      try {
        let url: string | undefined;
        for await (const line of createInterface({ input: child.stdout })) {
          url ??= /^ODOO_URL=(.+)$/.exec(line)?.[1];
          if (line.startsWith('ODOO_PASSWORD=')) break;
        }
        expect(url, stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect((await fetch(`${url!}/web/version`)).status).toBe(200);

        child.stdin.end();
        expect(await exited).toEqual([0, null]);
        expect(stderr).toContain('odoo sandbox: standard input ended, closing');
        await expect(fetch(`${url!}/web/version`)).rejects.toThrow();
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
      }
    },
  );
});
