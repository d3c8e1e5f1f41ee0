/**
 * A bench script's command line: `node:util`'s `parseArgs` with a line of help per option, as the
 * product's CLI answers (workers/sync-cli.ts): `-h, --help` prints the usage on stdout and exits 0;
 * a usage error prints its message, a blank line and the usage on stderr and exits 64, before the
 * script builds or starts anything. Values keep `parseArgs`'s shapes (a number stays the text the
 * script converts), so a script's options read as they did; this module checks them only.
 */
import { parseArgs } from 'node:util';
import type { OdooProtocol } from '../src/clients/odoo/index.js';
import { ODOO_PROTOCOLS } from '../src/config/settings/copy-settings.js';

interface OptionBase {
  /** What the option does, for the usage. */
  readonly about: string;
  readonly multiple?: boolean;
  /** The default the script applies after parsing (none given to `parseArgs`), for the usage. */
  readonly defaultText?: string;
}

interface BenchFlag extends OptionBase {
  readonly type: 'boolean';
  readonly default?: boolean;
}

interface BenchValueOption extends OptionBase {
  readonly type: 'string';
  /** The value's name in the usage: `N`, `DIR`, `redis|postgres`. */
  readonly value: string;
  readonly default?: string;
  /** A number: whole (counts, milliseconds) or with decimals; never negative. */
  readonly number?: 'whole' | 'decimal';
  readonly choices?: readonly string[];
}

type BenchOption = BenchFlag | BenchValueOption;

type BenchOptions = Readonly<Record<string, BenchOption>>;

export interface BenchCommand<O extends BenchOptions> {
  /** How a user runs it, before its options: `npx tsx bench/sync-bench.ts`. */
  readonly command: string;
  /** What it measures, in a sentence or two; a blank line between paragraphs. */
  readonly about: string;
  readonly options: O;
  /** Arguments besides the options (run.ts's groups); without it, none is accepted. */
  readonly positionals?: {
    /** What one is called: the usage line's `[group]…`, the error's `unknown group "x"`. */
    readonly name: string;
    /** The usage's section of them, titled so. */
    readonly title: string;
    readonly known: readonly { readonly name: string; readonly about: string }[];
  };
  readonly examples: readonly string[];
}

type ValueOf<O extends BenchOption> = O['type'] extends 'boolean'
  ? boolean
  : O extends { readonly choices: readonly (infer C extends string)[] }
    ? C
    : string;

type BenchValues<O extends BenchOptions> = {
  -readonly [K in keyof O]:
    | (O[K] extends { readonly multiple: true } ? ValueOf<O[K]>[] : ValueOf<O[K]>)
    | (O[K] extends { readonly default: string | boolean } ? never : undefined);
};

interface BenchArgs<O extends BenchOptions> {
  readonly values: BenchValues<O>;
  readonly positionals: string[];
}

/** The transports a bench copies over: every ODOO_PROTOCOL but `auto`, which picks one of them. */
export const TRANSPORTS: readonly OdooProtocol[] = ODOO_PROTOCOLS.filter(
  (protocol): protocol is OdooProtocol => protocol !== 'auto',
);

/** The benches that build dist/ before they run the compiled product. */
export const BUILD_OPTIONS = {
  'no-build': { type: 'boolean', about: 'run dist/ as it is (otherwise built first)' },
} as const satisfies BenchOptions;

/** The size of a sandbox whose full copy a bench times: the goals' 20,000 BCs of 10 lines. */
export const COPY_SIZE_OPTIONS = {
  orders: {
    type: 'string',
    value: 'N',
    default: '20000',
    number: 'whole',
    about: 'BCs in the sandbox',
  },
  lines: { type: 'string', value: 'M', default: '10', number: 'whole', about: 'lines per BC' },
} as const satisfies BenchOptions;

/** A command line the script cannot run; the message names the option or argument at fault. */
export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

/** The usage's width, the product CLI's. */
const WIDTH = 100;

const HELP: BenchFlag = { type: 'boolean', about: 'print this help and exit' };

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

/** Rows of a label and its text, the texts in one column, wrapped within the width. */
function table(rows: readonly (readonly [string, string])[]): string[] {
  const column = 2 + Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.flatMap(([label, text]) =>
    wrap(text, WIDTH - column).map((line, i) =>
      i === 0 ? `  ${label.padEnd(column - 2)}${line}` : `${' '.repeat(column)}${line}`,
    ),
  );
}

function optionRow(name: string, option: BenchOption): [string, string] {
  if (option === HELP) return ['-h, --help', option.about];
  const label = option.type === 'string' ? `--${name} ${option.value}` : `--${name}`;
  const defaultText =
    option.defaultText ?? (typeof option.default === 'string' ? option.default : undefined);
  const notes = [
    ...(option.multiple ? ['repeatable'] : []),
    ...(defaultText === undefined ? [] : [`default: ${defaultText}`]),
  ];
  return [label, notes.length === 0 ? option.about : `${option.about} (${notes.join('; ')})`];
}

export function renderUsage<O extends BenchOptions>(command: BenchCommand<O>): string {
  const operands = command.positionals ? ` [${command.positionals.name}]…` : '';
  const options: [string, BenchOption][] = [...Object.entries(command.options), ['help', HELP]];
  return [
    `Usage: ${command.command} [options]${operands}`,
    '',
    ...command.about
      .split('\n\n')
      .flatMap((paragraph, i) => [...(i === 0 ? [] : ['']), ...wrap(paragraph, WIDTH)]),
    '',
    'Options:',
    ...table(options.map(([name, option]) => optionRow(name, option))),
    ...(command.positionals
      ? [
          '',
          `${command.positionals.title}:`,
          ...table(command.positionals.known.map((known) => [known.name, known.about])),
        ]
      : []),
    '',
    command.examples.length === 1 ? 'Example:' : 'Examples:',
    ...command.examples.map((example) => `  ${example}`),
  ].join('\n');
}

const NUMBER = {
  whole: { pattern: /^\d+$/, what: 'a whole number' },
  decimal: { pattern: /^\d+(\.\d+)?$/, what: 'a number' },
} as const;

function checkValue(name: string, option: BenchValueOption, value: string): void {
  if (option.number && !NUMBER[option.number].pattern.test(value))
    throw new BenchUsageError(`--${name}: "${value}" is not ${NUMBER[option.number].what}`);
  if (option.choices && !option.choices.includes(value))
    throw new BenchUsageError(`--${name}: "${value}" is not one of ${option.choices.join(', ')}`);
}

/**
 * The command line read against the command's options: its values, or 'help' when it asks for the
 * usage. Throws BenchUsageError for an unknown option, a value missing or given to a flag, an
 * argument the command does not take (these before `--help` is looked at, as `parseArgs` would),
 * then for a malformed number, a value not among the choices, an unknown positional.
 */
export function readBenchArgs<const O extends BenchOptions>(
  command: BenchCommand<O>,
  args: readonly string[],
): BenchArgs<O> | 'help' {
  const options: Record<string, BenchOption> = { ...command.options, help: HELP };
  // Not strict: parseArgs's own errors are a sentence of advice, and an unknown option's does not
  // fit a line; its tokens say what each argument was, and the checks below word the errors.
  const { values, positionals, tokens } = parseArgs({
    args: [...args],
    options: Object.fromEntries(
      Object.entries(options).map(([name, option]) => [
        name,
        {
          type: option.type,
          ...(option.multiple === undefined ? {} : { multiple: option.multiple }),
          ...(option.default === undefined ? {} : { default: option.default }),
          ...(option === HELP ? { short: 'h' } : {}),
        },
      ]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === 'positional' && !command.positionals)
      throw new BenchUsageError(`unexpected argument "${token.value}"`);
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (!option) {
      // A single dash before a long name reads as short options: say which argument held it.
      const argument = args[token.index]!;
      const within =
        argument === token.rawName || argument.startsWith(`${token.rawName}=`)
          ? ''
          : ` (in ${argument})`;
      throw new BenchUsageError(`unknown option ${token.rawName}${within}`);
    }
    if (option.type === 'boolean' && token.value !== undefined)
      throw new BenchUsageError(`${token.rawName} takes no value`);
    if (option.type === 'string' && token.value === undefined)
      throw new BenchUsageError(`${token.rawName} needs a value`);
    // What follows a string option is its value, unless it looks like an option: `--orders --json`
    // forgot the number (parseArgs refuses it too), `--cli-node-args=--trace-gc` is one.
    if (
      option.type === 'string' &&
      !token.inlineValue &&
      token.value!.length > 1 &&
      token.value!.startsWith('-')
    )
      throw new BenchUsageError(
        `${token.rawName} needs a value (${token.rawName}=${token.value} if "${token.value}" is it)`,
      );
  }
  if (values.help) return 'help';
  for (const [name, option] of Object.entries(command.options)) {
    if (option.type !== 'string') continue;
    const value = values[name];
    for (const each of typeof value === 'string' ? [value] : Array.isArray(value) ? value : [])
      if (typeof each === 'string') checkValue(name, option, each);
  }
  const known = command.positionals?.known.map((each) => each.name) ?? [];
  const unknown = positionals.find((positional) => !known.includes(positional));
  if (unknown !== undefined)
    throw new BenchUsageError(`unknown ${command.positionals!.name} "${unknown}"`);
  return { values: values as BenchValues<O>, positionals };
}

/** Prints the message, a blank line and the usage on stderr; exits 64 (EX_USAGE), as the CLI. */
function exitWithUsage<O extends BenchOptions>(command: BenchCommand<O>, message: string): never {
  process.stderr.write(`${message}\n\n${renderUsage(command)}\n`);
  process.exit(64);
}

/**
 * The script's command line, read before it does anything: `--help` printed and a usage error
 * reported here, each ending the process. `fail` reports a usage error the script finds itself.
 */
export function parseBenchArgs<const O extends BenchOptions>(
  command: BenchCommand<O>,
  args: readonly string[] = process.argv.slice(2),
): BenchArgs<O> & { readonly fail: (message: string) => never } {
  let read: BenchArgs<O> | 'help';
  try {
    read = readBenchArgs(command, args);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    return exitWithUsage(command, error.message);
  }
  if (read === 'help') {
    process.stdout.write(`${renderUsage(command)}\n`);
    process.exit(0);
  }
  return { ...read, fail: (message) => exitWithUsage(command, message) };
}
