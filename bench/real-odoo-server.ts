/**
 * The real Odoo the real-Odoo bench copies from, and what the bench does to it as Odoo's users
 * would: seeding records and changing some of them, through the administrator over JSON-RPC.
 *
 * The server is either started by a command of the operator's whose standard output is `KEY=VALUE`
 * lines in shell syntax (`ODOO_URL`, `ODOO_DB` or `ODOO_DATABASE`, `ODOO_USER` or
 * `ODOO_USERNAME`, `ODOO_PASSWORD`, `ODOO_ADMIN_USER` or `ODOO_ADMIN_USERNAME`,
 * `ODOO_ADMIN_PASSWORD`, `ODOO_PID`; `ODOO_API_KEY` when the sync user has one), and stopped by
 * another; or Odoo 19 from Debian's package (dev/services/odoo19-chroot.sh), which the bench starts
 * and stops itself.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { createOdooClient, type OdooClient } from '../src/clients/odoo/index.js';
import { startOdoo19 } from '../test/helpers/odoo19.js';
import { procStat } from './sync-bench.js';

const run = promisify(execFile);

export interface RealOdoo {
  readonly url: string;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  readonly apiKey: string | undefined;
  readonly admin: { readonly username: string; readonly password: string };
  /** Odoo's process (the prefork master with `workers` > 0): its CPU is Odoo's. */
  readonly pid: number;
  readonly version: string;
  stop(): Promise<void>;
}

/** Starts the server: with `start`, the operator's command; without, Odoo 19 (see above). */
export async function startRealOdoo(commands: {
  start?: string;
  stop?: string;
}): Promise<RealOdoo> {
  // Odoo 19's own handle has every field a real Odoo has here.
  if (!commands.start) return startOdoo19();
  // The shell reads the lines as it would after `eval`; `env -0` gives them back unquoted.
  const { stdout } = await run(
    'bash',
    ['-c', 'set -a; eval "$(bash -c "$0")"; env -0', commands.start],
    { maxBuffer: 16 * 1024 * 1024, timeout: 900_000 },
  );
  const env = Object.fromEntries(
    stdout
      .split('\0')
      .filter((entry) => entry.startsWith('ODOO_'))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  ) as Record<string, string | undefined>;
  const value = (...names: string[]): string => {
    const found = names.map((name) => env[name]).find((v) => v !== undefined && v !== '');
    if (found === undefined) throw new Error(`the start command printed no ${names.join(' or ')}`);
    return found;
  };
  return {
    url: value('ODOO_URL'),
    database: value('ODOO_DB', 'ODOO_DATABASE'),
    username: value('ODOO_USER', 'ODOO_USERNAME'),
    password: value('ODOO_PASSWORD'),
    apiKey: env.ODOO_API_KEY || undefined,
    admin: {
      username: value('ODOO_ADMIN_USER', 'ODOO_ADMIN_USERNAME'),
      password: value('ODOO_ADMIN_PASSWORD'),
    },
    pid: Number(value('ODOO_PID')),
    version: value('ODOO_VERSION'),
    async stop() {
      if (commands.stop) await run('bash', ['-c', commands.stop], { timeout: 120_000 });
    },
  };
}

/**
 * The CPU seconds every core of this machine has spent busy (user, nice, system, irq, softirq:
 * /proc/stat's first line, in clock ticks of 100 a second). Odoo, its
 * PostgreSQL, the worker and the bench share them here: a copy that kept the machine busy the
 * whole time was bound by the machine's CPU, not by what it waited for.
 */
export function machineBusyCpuSeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq] = ticks.map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) / 100;
}

/**
 * Odoo's CPU seconds: its process's, its children's that ended (`cutime`, `cstime`), and those of
 * its children alive (a prefork server's workers).
 */
export function odooCpuSeconds(pid: number): number {
  try {
    const own = procStat(pid);
    // Fields 14–17 of stat(5): utime, stime, cutime, cstime, in clock ticks (100 a second).
    let ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(own[i]), 0);
    for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const child = procStat(Number(entry));
        // Field 4: the parent's pid.
        if (Number(child[1]) === pid) ticks += Number(child[11]) + Number(child[12]);
      } catch {
        // Gone meanwhile.
      }
    }
    return ticks / 100;
  } catch {
    return 0;
  }
}

/**
 * The same Odoo started again with `workers` prefork workers: the same command line, working
 * directory and environment, with `--workers`, once its URL answers again. Only for a server the
 * operator's command started as a plain process on this machine (not Odoo 19's chroot).
 */
export async function restartWithWorkers(odoo: RealOdoo, workers: number): Promise<RealOdoo> {
  const words = readFileSync(`/proc/${odoo.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const cwd = readlinkSync(`/proc/${odoo.pid}/cwd`);
  const env = Object.fromEntries(
    readFileSync(`/proc/${odoo.pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
  process.kill(odoo.pid, 'SIGTERM');
  while (existsSync(`/proc/${odoo.pid}`)) await new Promise((resolve) => setTimeout(resolve, 100));
  const child = spawn(
    words[0]!,
    [...words.slice(1).filter((word) => !word.startsWith('--workers')), `--workers=${workers}`],
    { cwd, env, detached: true, stdio: 'ignore' },
  );
  child.unref();
  for (let tries = 0; ; tries += 1) {
    const answer = await fetch(`${odoo.url}/web/webclient/version_info`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","params":{}}',
    }).catch(() => undefined);
    if (answer?.ok) break;
    if (tries > 600)
      throw new Error(`Odoo did not answer at ${odoo.url} with --workers=${workers}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pid = child.pid!;
  return {
    ...odoo,
    pid,
    async stop() {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Stopped already (started again with other workers).
      }
      while (existsSync(`/proc/${pid}`)) await new Promise((resolve) => setTimeout(resolve, 100));
      await odoo.stop();
    },
  };
}

/** An Odoo client as the product makes one (its transport chosen as `auto` chooses it). */
export function odooClientOf(
  odoo: RealOdoo,
  as: 'sync' | 'admin',
  timeoutMs = 300_000,
): OdooClient {
  const credentials =
    as === 'admin'
      ? { username: odoo.admin.username, password: odoo.admin.password }
      : {
          username: odoo.username,
          password: odoo.password,
          ...(odoo.apiKey ? { apiKey: odoo.apiKey } : {}),
        };
  return createOdooClient(
    {
      url: odoo.url,
      database: odoo.database,
      ...credentials,
      timeoutMs,
      retries: 0,
      // The administrator writes over JSON-RPC on every release: JSON-2 takes named arguments.
      protocol: as === 'admin' ? 'jsonrpc' : 'auto',
    },
    { logger: pino({ level: 'warn' }) },
  );
}

/** The bench's records carry this mark, so a server seeded once is seeded no more. */
export const SEED_MARK = 'erp-bridge-bench';

/** The models the bench copies, each as the product's family in code copies it. */
export type BenchModel = 'res.partner' | 'account.move';

/**
 * Seeds `count` records of `model` marked as the bench's (the ones a server already holds count),
 * moves with `linesPerMove` lines each for `partnerIds`; resolves with their ids, oldest first.
 */
export async function seed(
  admin: OdooClient,
  model: BenchModel,
  input: { count: number; linesPerMove: number; partnerIds: readonly number[] },
  progress: (done: number) => void,
): Promise<number[]> {
  const domain = [['ref', '=like', `${SEED_MARK}-%`]] as const;
  const existing = await admin.search(model, domain, { order: 'id asc' });
  // Odoo computes a move's taxes, totals and lines at its creation: fewer of them per call.
  const batch = model === 'res.partner' ? 500 : 50;
  for (let done = existing.length; done < input.count; done += batch) {
    const size = Math.min(batch, input.count - done);
    const values = Array.from({ length: size }, (_, i) =>
      model === 'res.partner'
        ? partnerValues(done + i)
        : moveValues(done + i, input.linesPerMove, input.partnerIds),
    );
    await admin.executeKw<number[]>(model, 'create', [values], {}, { retries: 0 });
    progress(done + size);
  }
  return (await admin.search(model, domain, { order: 'id asc' })).slice(0, input.count);
}

function partnerValues(n: number): Record<string, unknown> {
  return {
    name: `Bench partner ${n}`,
    ref: `${SEED_MARK}-${n}`,
    email: `partner${n}@example.com`,
    phone: `+33 1 23 45 ${String(n % 10_000).padStart(4, '0')}`,
    street: `${n} rue de la Paix`,
    city: ['Paris', 'Lyon', 'Marseille', 'Lille'][n % 4],
    zip: String(75_000 + (n % 20)),
    is_company: n % 5 === 0,
    comment: `<p>Seeded by the real-Odoo bench, record ${n}.</p>`,
  };
}

function moveValues(
  n: number,
  lines: number,
  partnerIds: readonly number[],
): Record<string, unknown> {
  return {
    move_type: 'out_invoice',
    ref: `${SEED_MARK}-${n}`,
    invoice_date: '2026-01-15',
    partner_id: partnerIds[n % partnerIds.length],
    invoice_line_ids: Array.from({ length: lines }, (_, line) => [
      0,
      0,
      { name: `Line ${line} of move ${n}`, quantity: 1 + (line % 4), price_unit: 10 + line },
    ]),
  };
}

/**
 * Changes a tenth of `ids` (the same tenth each round: a user's edits between two runs are not
 * the records the run before read again) as a user would edit them; returns how many changed.
 */
export async function changeTenth(
  admin: OdooClient,
  model: BenchModel,
  ids: readonly number[],
  round: number,
): Promise<number> {
  const changed = tenthOf(ids);
  await editNote(admin, model, changed, `<p>Changed in round ${round}.</p>`);
  return changed.length;
}

/**
 * Edits one of `ids` now, as a deployment's users go on editing: the first copy's watermark is
 * then Odoo's clock, and the rerun's window (an overlap before it) holds the last minutes'
 * changes, as a deployment's does, rather than every seed written within an overlap of the last
 * one (a burst, which a running deployment's watermark has long left behind).
 */
export async function editOneNow(
  admin: OdooClient,
  model: BenchModel,
  ids: readonly number[],
  round: number,
): Promise<void> {
  await editNote(admin, model, ids.slice(0, 1), `<p>Edited before round ${round}.</p>`);
}

async function editNote(
  admin: OdooClient,
  model: BenchModel,
  ids: readonly number[],
  note: string,
): Promise<void> {
  const field = model === 'res.partner' ? 'comment' : 'narration';
  for (let from = 0; from < ids.length; from += 500)
    await admin.executeKw(
      model,
      'write',
      [ids.slice(from, from + 500), { [field]: note }],
      {},
      { retries: 0 },
    );
}

/** The tenth of `ids` that `changeTenth` changes. */
export function tenthOf(ids: readonly number[]): number[] {
  return ids.filter((_, index) => index % 10 === 0);
}

/** The latest `write_date` of `ids`, by Odoo's clock. */
export async function latestStamp(
  admin: OdooClient,
  model: BenchModel,
  ids: readonly number[],
): Promise<Date> {
  const [latest] = await admin.searchRead<{ id: number; write_date: string }>(
    model,
    [['id', 'in', [...ids]]],
    { fields: ['write_date'], order: 'write_date desc', limit: 1 },
  );
  return new Date(`${latest!.write_date.replace(' ', 'T')}Z`);
}
