/**
 * Runs `npm run demo` exactly as the README says, in a process group of its own, on PGlite (no
 * DATABASE_URL) with its data in a temp dir; then sends SIGINT to the demo process. (Ctrl-C sends
 * it to the whole group, and npm then reports 130 by convention whatever the demo did; sent to the
 * demo alone, npm passes on the demo's own exit code, which is what this test checks.)
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

function descendants(pid: number): number[] {
  let output: string;
  try {
    output = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const children = output
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((n) => n > 0);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** A process still running (a zombie waiting to be reaped has stopped: it counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Helpers of the demo's own tools (tsx's esbuild service) stop when their parent's pipe closes. */
async function gone(pids: readonly number[], withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    left = left.filter(alive);
  }
  return left;
}

describe('npm run demo', () => {
  let child: ChildProcess;
  let dataDir: string;
  let output = '';
  let exited: Promise<number | null>;
  const waitFor = (pattern: RegExp, timeoutMs = 120_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${pattern} in ${timeoutMs} ms:\n${output.slice(-3_000)}`)),
        timeoutMs,
      );
      const check = () => {
        const match = pattern.exec(output);
        if (match) {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          resolve(match);
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) =>
        reject(new Error(`demo exited (${code}) before ${pattern}:\n${output.slice(-3_000)}`)),
      );
      check();
    });

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'erp-bridge-demo-'));
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (
        value !== undefined &&
        !/^(DATABASE_URL|REDIS_URL|CACHE_REDIS_URL|ODOO_|TRYTON_|API_KEYS|PORT)/.test(key)
      )
        env[key] = value;
    }
    child = spawn('npm', ['run', 'demo'], {
      env: { ...env, PGLITE_DIR: join(dataDir, 'pglite'), PORT: '0', LOG_LEVEL: 'info' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => (output += chunk));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });

  afterAll(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs a first sync, serves BCs and bull-board, and stops cleanly on SIGINT', async () => {
    const [, api] = await waitFor(/API: +(http:\/\/\S+)\/api\/bcs/);
    const [, key] = await waitFor(/API key: (\S+)/);
    await waitFor(/first bcs sync succeeded: (\d+) BCs created/);
    expect(output).toMatch(/first bcs sync succeeded: 2500 BCs created/);
    // A second family beside the BCs: the contacts, with the link to their API.
    const [, partners] = await waitFor(
      /partners: +(http:\/\/\S+\/api\/models\/res\.partner\/records)/,
    );
    const [, created] = await waitFor(/first partners sync succeeded: (\d+) partners created/);
    expect(Number(created)).toBeGreaterThan(1_000);

    const bcs = await fetch(`${api}/api/bcs?limit=3`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(bcs.status).toBe(200);
    expect(((await bcs.json()) as { items: unknown[] }).items).toHaveLength(3);
    const contacts = await fetch(`${partners}?limit=3&sort=-odooWriteDate`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(contacts.status).toBe(200);
    expect(((await contacts.json()) as { items: unknown[] }).items).toHaveLength(3);

    const basic = `Basic ${Buffer.from(`admin:${key}`).toString('base64')}`;
    const board = await fetch(`${api}/admin/queues/api/queues?activeQueue=sync&status=completed`, {
      headers: { authorization: basic },
    });
    expect(board.status).toBe(200);
    const queues = (
      (await board.json()) as { queues: { name: string; counts: Record<string, number> }[] }
    ).queues;
    // 2,500 BCs in pages of at most ODOO_PAGE_SIZE's default, 1,000 roots, and the partners' pages.
    expect(queues.find((q) => q.name === 'sync-page')!.counts.completed).toBeGreaterThanOrEqual(4);
    expect(queues.find((q) => q.name === 'sync')!.counts.completed).toBeGreaterThanOrEqual(1);

    const processes = descendants(child.pid!);
    const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const demo = processes.find(
      (pid) => cmdline(pid)[0]!.endsWith('node') && cmdline(pid).includes('dev/demo/main.ts'),
    );
    expect(demo).toBeDefined();
    process.kill(demo!, 'SIGINT');
    expect(await exited).toBe(0);
    const left = await gone(processes, 5_000);
    expect(left.map((pid) => `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8')}`)).toEqual([]);
  }, 180_000);
});
