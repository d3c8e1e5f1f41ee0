import { describe, expect, it } from 'vitest';
import { usageAnswer } from './command-usage.js';

const USAGE = 'Usage: npm run thing\n\nOptions:\n  -h, --help   this help';

describe('usageAnswer', () => {
  it('lets a command without arguments start', () => {
    expect(usageAnswer(USAGE, [])).toBeUndefined();
  });

  it.each([['--help'], ['-h']])('prints the usage on stdout for %s', (flag) => {
    expect(usageAnswer(USAGE, [flag])).toEqual({ exitCode: 0, stdout: `${USAGE}\n` });
  });

  it.each([
    [['--ful'], "Unknown option '--ful'"],
    [['run'], "Unexpected argument 'run'"],
    [['--help=yes'], "Option '-h, --help' does not take an argument"],
  ])('refuses %j: the reason, then the usage, exit 64', (args, reason) => {
    const answer = usageAnswer(USAGE, args);
    expect(answer).toMatchObject({ exitCode: 64 });
    const stderr = (answer as { stderr: string }).stderr;
    expect(stderr.startsWith(reason)).toBe(true);
    expect(stderr.endsWith(`\n\n${USAGE}\n`)).toBe(true);
  });
});
