import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { commandBaseEnv, commandFile } from '../helpers/commands.js';

const run = promisify(execFile);

describe('booting with a bad configuration', () => {
  it('the API exits non-zero with one message naming every bad key and no secret', async () => {
    const env = {
      ...commandBaseEnv(),
      ODOO_TIMEOUT_MS: 'abc',
      REDIS_URL: 'redis://:redis-s3cret@127.0.0.1:6379',
      ODOO_PASSWORD: 'odoo-s3cret',
      API_KEYS: 'front:reader:not-a-hash-s3cret',
    };
    const result = await run(process.execPath, [commandFile('src/server.ts')], {
      env,
      timeout: 30_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(1);
    const message = result.stderr;
    expect(message).toMatch(/DATABASE_URL: is required/);
    expect(message).toMatch(/ODOO_TIMEOUT_MS: must be a whole number of milliseconds/);
    expect(message).toMatch(/API_KEYS:/);
    expect(message.match(/Invalid configuration/g)).toHaveLength(1);
    expect(message).not.toMatch(/s3cret|abc/);
  });
});

describe('the arguments of a command that takes none', () => {
  const commands = [
    ['the API', 'src/server.ts', /^Usage: npm start /],
    ['the worker', 'workers/main.ts', /^Usage: npm run start:worker /],
    ['migrate', 'src/cli/migrate.ts', /^Usage: npm run start:migrate /],
  ] as const;
  // No configuration at all: the help needs none, and a usage error comes before the configuration's.
  const attempt = (entry: string, args: string[]) =>
    run(process.execPath, [commandFile(entry), ...args], {
      env: commandBaseEnv(),
      timeout: 30_000,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it.each(commands)('%s prints its usage for --help and exits 0', async (_name, entry, usage) => {
    const result = await attempt(entry, ['--help']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(usage);
    expect(result.stdout).toMatch(/-h, --help +this help\n$/);
  });

  it.each(commands)(
    '%s refuses an argument it does not take with its usage, exit 64',
    async (_name, entry, usage) => {
      const result = await attempt(entry, ['--ful']);
      expect(result).toMatchObject({ code: 64, stdout: '' });
      expect(result.stderr.split('\n\n')[0]).toBe("Unknown option '--ful'");
      expect(result.stderr.split('\n\n')[1]).toMatch(usage);
      expect(result.stderr).not.toMatch(/Invalid configuration/);
    },
  );
});
