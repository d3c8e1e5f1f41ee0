import { afterEach, describe, expect, it, vi } from 'vitest';
import { BenchUsageError, parseBenchArgs, readBenchArgs, renderUsage } from './bench-args.js';

const COMMAND = {
  command: 'npx tsx bench/some-bench.ts',
  about:
    'What something costs, measured on a server of its own: a first copy, then a second one after a tenth of the records changed.\n\nA second paragraph.',
  options: {
    orders: {
      type: 'string',
      value: 'N',
      default: '20000',
      number: 'whole',
      about: 'BCs copied',
    },
    rate: { type: 'string', value: 'R', number: 'decimal', about: 'edits a second' },
    queues: {
      type: 'string',
      value: 'redis|postgres',
      default: 'redis',
      choices: ['redis', 'postgres'],
      about: "where the worker's queues are",
    },
    'worker-env': {
      type: 'string',
      value: 'K=V',
      multiple: true,
      defaultText: 'none',
      about: "a setting for the worker's environment",
    },
    json: { type: 'boolean', about: 'print the result as JSON' },
  },
  examples: ['npx tsx bench/some-bench.ts --orders 2000'],
} as const;

const GROUPS = {
  command: 'npm run bench --',
  about: 'Every group.',
  options: {},
  positionals: {
    name: 'group',
    title: 'Groups',
    known: [
      { name: 'sync', about: 'the worker against the bare pipeline' },
      { name: 'feed-prune', about: "the feed's retention" },
    ],
  },
  examples: ['npm run bench', 'npm run bench -- sync'],
} as const;

/** The message readBenchArgs throws for these arguments. */
function usageError(args: readonly string[], command: typeof COMMAND | typeof GROUPS = COMMAND) {
  try {
    readBenchArgs(command, args);
  } catch (error) {
    expect(error).toBeInstanceOf(BenchUsageError);
    return (error as Error).message;
  }
  throw new Error(`no usage error for ${args.join(' ')}`);
}

describe('renderUsage', () => {
  it('gives the usage line, what it measures, each option with its value, default and repetition, and the examples', () => {
    expect(renderUsage(COMMAND)).toBe(
      [
        'Usage: npx tsx bench/some-bench.ts [options]',
        '',
        'What something costs, measured on a server of its own: a first copy, then a second one after a tenth',
        'of the records changed.',
        '',
        'A second paragraph.',
        '',
        'Options:',
        '  --orders N               BCs copied (default: 20000)',
        '  --rate R                 edits a second',
        "  --queues redis|postgres  where the worker's queues are (default: redis)",
        "  --worker-env K=V         a setting for the worker's environment (repeatable; default: none)",
        '  --json                   print the result as JSON',
        '  -h, --help               print this help and exit',
        '',
        'Example:',
        '  npx tsx bench/some-bench.ts --orders 2000',
      ].join('\n'),
    );
  });

  it('wraps a long text under its column and lists the known positionals in a section of their own', () => {
    const usage = renderUsage({
      ...GROUPS,
      options: {
        child: {
          type: 'string',
          value: 'GROUP',
          about:
            'run the group in this process and hand its rows back on the last line, for the parent that started it',
        },
      },
    });
    expect(usage).toBe(
      [
        'Usage: npm run bench -- [options] [group]…',
        '',
        'Every group.',
        '',
        'Options:',
        '  --child GROUP  run the group in this process and hand its rows back on the last line, for the',
        '                 parent that started it',
        '  -h, --help     print this help and exit',
        '',
        'Groups:',
        '  sync        the worker against the bare pipeline',
        "  feed-prune  the feed's retention",
        '',
        'Examples:',
        '  npm run bench',
        '  npm run bench -- sync',
      ].join('\n'),
    );
  });
});

describe('readBenchArgs', () => {
  it('gives the values as parseArgs does: defaults, repeated options, inline values', () => {
    expect(readBenchArgs(COMMAND, [])).toEqual({
      values: { orders: '20000', queues: 'redis' },
      positionals: [],
    });
    expect(
      readBenchArgs(COMMAND, [
        '--orders',
        '500',
        '--rate=2.5',
        '--queues',
        'postgres',
        '--worker-env',
        'A=1',
        '--worker-env=B=2',
        '--json',
      ]),
    ).toEqual({
      values: {
        orders: '500',
        rate: '2.5',
        queues: 'postgres',
        'worker-env': ['A=1', 'B=2'],
        json: true,
      },
      positionals: [],
    });
    expect(readBenchArgs(GROUPS, ['feed-prune', 'sync'])).toEqual({
      values: {},
      positionals: ['feed-prune', 'sync'],
    });
  });

  it('answers -h and --help, even beside a malformed value', () => {
    expect(readBenchArgs(COMMAND, ['-h'])).toBe('help');
    expect(readBenchArgs(COMMAND, ['--help'])).toBe('help');
    expect(readBenchArgs(COMMAND, ['--orders', 'abc', '--help'])).toBe('help');
    expect(readBenchArgs(GROUPS, ['nope', '--help'])).toBe('help');
  });

  it('refuses an unknown option, a missing value, a value given to a flag, an argument it does not take, before --help', () => {
    expect(usageError(['--bogus'])).toBe('unknown option --bogus');
    expect(usageError(['--bogus=1'])).toBe('unknown option --bogus');
    expect(usageError(['--help', '--bogus'])).toBe('unknown option --bogus');
    expect(usageError(['-orders', '5'])).toBe('unknown option -o (in -orders)');
    expect(usageError(['--orders'])).toBe('--orders needs a value');
    expect(usageError(['--orders', '--json'])).toBe(
      '--orders needs a value (--orders=--json if "--json" is it)',
    );
    expect(usageError(['--json=yes'])).toBe('--json takes no value');
    expect(usageError(['20000'])).toBe('unexpected argument "20000"');
    expect(usageError(['--', '--orders'])).toBe('unexpected argument "--orders"');
  });

  it('refuses a malformed number, a value not among the choices, an unknown positional', () => {
    expect(usageError(['--orders', 'abc'])).toBe('--orders: "abc" is not a whole number');
    expect(usageError(['--orders', '20_000'])).toBe('--orders: "20_000" is not a whole number');
    expect(usageError(['--orders', '2.5'])).toBe('--orders: "2.5" is not a whole number');
    expect(usageError(['--orders=-1'])).toBe('--orders: "-1" is not a whole number');
    expect(usageError(['--orders', ''])).toBe('--orders: "" is not a whole number');
    expect(usageError(['--rate', '1e3'])).toBe('--rate: "1e3" is not a number');
    expect(usageError(['--queues', 'mysql'])).toBe(
      '--queues: "mysql" is not one of redis, postgres',
    );
    expect(usageError(['sync', 'nope'], GROUPS)).toBe('unknown group "nope"');
  });
});

describe('parseBenchArgs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** What each stream is written, process.exit throwing its code instead of exiting. */
  function capture() {
    const written = { stdout: '', stderr: '' };
    for (const stream of ['stdout', 'stderr'] as const)
      vi.spyOn(process[stream], 'write').mockImplementation((chunk) => {
        written[stream] += String(chunk);
        return true;
      });
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw Object.assign(new Error('exit'), { exitCode: code });
    });
    return written;
  }

  /** The exit code the call ended the process with. */
  function exitCodeOf(call: () => unknown): unknown {
    try {
      call();
    } catch (error) {
      return (error as { exitCode?: unknown }).exitCode;
    }
    throw new Error('the process was not ended');
  }

  it('prints the usage on stdout and exits 0 for --help', () => {
    const written = capture();
    expect(exitCodeOf(() => parseBenchArgs(COMMAND, ['--help']))).toBe(0);
    expect(written).toEqual({ stdout: `${renderUsage(COMMAND)}\n`, stderr: '' });
  });

  it('prints the error, a blank line and the usage on stderr and exits 64 for a usage error', () => {
    const written = capture();
    expect(exitCodeOf(() => parseBenchArgs(COMMAND, ['--orders', 'abc']))).toBe(64);
    expect(written).toEqual({
      stdout: '',
      stderr: `--orders: "abc" is not a whole number\n\n${renderUsage(COMMAND)}\n`,
    });
  });

  it("returns the values, and a fail that reports the script's own usage error the same way", () => {
    const written = capture();
    const { values, fail } = parseBenchArgs(COMMAND, ['--orders', '5']);
    expect(values.orders).toBe('5');
    expect(written).toEqual({ stdout: '', stderr: '' });
    expect(exitCodeOf(() => fail("--variant 'FOO': 'FOO' is not KEY=VALUE"))).toBe(64);
    expect(written.stderr).toBe(
      `--variant 'FOO': 'FOO' is not KEY=VALUE\n\n${renderUsage(COMMAND)}\n`,
    );
  });
});
