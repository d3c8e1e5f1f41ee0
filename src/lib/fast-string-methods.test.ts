/**
 * Whether `String.prototype` is a fast object is V8's own fact, read with its natives syntax in a
 * process of its own (the test runner's flags are not ours to change).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const moduleUrl = new URL('./fast-string-methods.ts', import.meta.url).href;

describe('restoreFastStringMethods', () => {
  it('puts String.prototype back on the fast path once ioredis has made it slow', async () => {
    const script = `
      import 'ioredis';
      const { restoreFastStringMethods } = await import(${JSON.stringify(moduleUrl)});
      const before = %HasFastProperties(String.prototype);
      restoreFastStringMethods();
      console.log(JSON.stringify([before, %HasFastProperties(String.prototype)]));`;
    const { stdout } = await run(
      process.execPath,
      ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '--eval', script],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)) },
    );
    expect(JSON.parse(stdout.trim())).toEqual([false, true]);
  });
});
