/**
 * A worker and migrate started before PostgreSQL answers (a host restarted, a stack started all at
 * once) wait for it, saying so, instead of exiting for their supervisor to start them again after
 * a growing pause; a bound ends the wait, and what waiting cannot mend (a database that does not
 * exist) ends it at once (src/db/wait-for-database.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOdooSandbox, type OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { freePort } from '../../dev/services/free-port.js';
import { commandBaseEnv, commandFile } from '../helpers/commands.js';
import { startRelay } from '../helpers/tcp-relay.js';
import { createTestDb, type TestDb } from '../helpers/test-db.js';
import { workerEnv } from '../helpers/worker-process.js';

interface Started {
  readonly child: ChildProcess;
  readonly output: string[];
  /** Resolves with the first line that holds `text`; rejects when the process exits first. */
  line(text: string): Promise<string>;
  exited: Promise<number | null>;
}

function run(entry: string, env: NodeJS.ProcessEnv): Started {
  const child = spawn(process.execPath, [commandFile(entry)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const waiting: Array<{ text: string; resolve: (line: string) => void }> = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      for (const wait of waiting.filter((one) => line.includes(one.text))) {
        waiting.splice(waiting.indexOf(wait), 1);
        wait.resolve(line);
      }
    });
  return {
    child,
    output,
    exited,
    line: (text) =>
      new Promise<string>((resolve, reject) => {
        const seen = output.find((line) => line.includes(text));
        if (seen !== undefined) return resolve(seen);
        waiting.push({ text, resolve });
        void exited.then((code) =>
          reject(new Error(`exited (${code}) before "${text}":\n${output.join('\n')}`)),
        );
      }),
  };
}

/** The message of the process's fatal log line. */
function fatalOf(started: Started): string | undefined {
  for (const line of started.output) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { level?: number; msg?: string };
    if (entry.level === 60) return entry.msg;
  }
  return undefined;
}

describe('PostgreSQL at boot', () => {
  let db: TestDb;
  let sandbox: OdooSandbox;
  const started: Started[] = [];
  const relays: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    db = await createTestDb();
    sandbox = createOdooSandbox({ orders: 2, linesPerOrder: 1, loginCooldown: false });
    await sandbox.start();
  }, 60_000);

  afterEach(async () => {
    for (const one of started.splice(0)) {
      if (one.child.exitCode === null && one.child.signalCode === null) one.child.kill('SIGKILL');
      await one.exited;
    }
    for (const one of relays.splice(0)) await one.close();
  });

  afterAll(async () => {
    await sandbox.stop();
    await db.dispose();
  });

  /** The test's database URL, on another port of 127.0.0.1. */
  const urlOn = (port: number) => {
    const url = new URL(db.url);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    return url.toString();
  };

  it('a worker waits for a PostgreSQL that answers late, says so, then starts', async () => {
    const port = await freePort();
    const worker = run(
      'workers/main.ts',
      workerEnv({
        databaseUrl: urlOn(port),
        prefix: `boot-${randomBytes(4).toString('hex')}`,
        odoo: sandbox,
      }),
    );
    started.push(worker);
    const refused = JSON.parse(await worker.line('PostgreSQL does not answer')) as {
      level: number;
      msg: string;
    };
    expect(refused.level).toBe(40);
    expect(refused.msg).toMatch(/ECONNREFUSED.*trying again in .* \(DATABASE_BOOT_WAIT_MS\)/);
    relays.push(await startRelay(new URL(db.url), port));
    await worker.line('PostgreSQL answers, after');
    await worker.line('worker started');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 60_000);

  it('a worker exits 1 naming PostgreSQL once DATABASE_BOOT_WAIT_MS is spent', async () => {
    const worker = run(
      'workers/main.ts',
      workerEnv(
        { databaseUrl: urlOn(await freePort()), prefix: 'boot-never', odoo: sandbox },
        { DATABASE_BOOT_WAIT_MS: '1000' },
      ),
    );
    started.push(worker);
    expect(await worker.exited).toBe(1);
    expect(fatalOf(worker)).toMatch(
      /^cannot start: DATABASE_UNREACHABLE: PostgreSQL did not answer within 1 s \(DATABASE_BOOT_WAIT_MS\): connect ECONNREFUSED/,
    );
    expect(worker.output.join('\n')).not.toContain('worker started');
  }, 60_000);

  it('a worker whose database does not exist exits at once, however long it may wait', async () => {
    const url = new URL(db.url);
    url.pathname = `/missing_${randomBytes(4).toString('hex')}`;
    const worker = run(
      'workers/main.ts',
      workerEnv(
        { databaseUrl: url.toString(), prefix: 'boot-missing', odoo: sandbox },
        // Longer than the test's own timeout: a wait would fail the test.
        { DATABASE_BOOT_WAIT_MS: '600000' },
      ),
    );
    started.push(worker);
    expect(await worker.exited).toBe(1);
    expect(worker.output.join('\n')).not.toContain('PostgreSQL does not answer');
    expect(fatalOf(worker)).toMatch(/^cannot start: .*does not exist/);
  }, 60_000);

  it('migrate waits for a PostgreSQL that answers late, then migrates', async () => {
    const blank = await createTestDb({ migrated: false });
    try {
      const port = await freePort();
      const url = new URL(blank.url);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      const migrate = run('src/cli/migrate.ts', {
        ...commandBaseEnv(),
        DATABASE_URL: url.toString(),
        LOG_LEVEL: 'info',
        LOG_PRETTY: 'false',
        ODOO_URL: sandbox.url,
        ODOO_DATABASE: sandbox.database,
        ODOO_USERNAME: sandbox.username,
        ODOO_PASSWORD: sandbox.password,
      });
      started.push(migrate);
      await migrate.line('PostgreSQL does not answer');
      relays.push(await startRelay(new URL(blank.url), port));
      expect(await migrate.exited).toBe(0);
      expect(migrate.output.join('\n')).toContain('migrations applied');
    } finally {
      await blank.dispose();
    }
  }, 120_000);
});
