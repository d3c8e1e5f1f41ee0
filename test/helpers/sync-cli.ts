/** `npm run sync -- …` as an operator runs it: a child process against real services. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import type { OdooSandbox } from '../../dev/sandbox/odoo-sandbox.js';
import { commandBaseEnv, commandFile } from './commands.js';

const run = promisify(execFile);

/** The CLI's environment: the test's database, the shared Redis under a prefix of its own, the sandbox's (first) database as the default source. */
export function syncCliEnv(databaseUrl: string, sandbox: OdooSandbox): Record<string, string> {
  return {
    ...commandBaseEnv(),
    DATABASE_URL: databaseUrl,
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: `cli-${randomBytes(4).toString('hex')}`,
    ODOO_URL: sandbox.url,
    ODOO_DATABASE: sandbox.database,
    ODOO_USERNAME: sandbox.username,
    ODOO_PASSWORD: sandbox.password,
    ODOO_RETRIES: '0',
    LOG_LEVEL: 'warn',
  };
}

/** Runs the CLI with `args` in `env`; resolves with its exit code and output, whatever the code. */
export function runSyncCli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [commandFile('workers/sync-cli.ts'), ...args], {
    env,
    timeout: 60_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}
