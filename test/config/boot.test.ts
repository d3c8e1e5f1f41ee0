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
