/**
 * The usage of a command that takes no arguments (the API, the worker, migrate, the demo): `-h` or
 * `--help` prints it, and any other argument is a usage error, as the sync CLI and apikey answer
 * theirs (exit 64, EX_USAGE). Both before the configuration is read: `--help` on a machine
 * without one still helps.
 */
import { parseArgs } from 'node:util';
import { describeError } from './errors.js';

/** What a command's arguments ask of it before it starts: nothing when there are none. */
export type UsageAnswer =
  | { readonly exitCode: 0; readonly stdout: string }
  | { readonly exitCode: 64; readonly stderr: string };

export function usageAnswer(usage: string, args: readonly string[]): UsageAnswer | undefined {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    });
    return values.help ? { exitCode: 0, stdout: `${usage}\n` } : undefined;
  } catch (error) {
    return { exitCode: 64, stderr: `${describeError(error)}\n\n${usage}\n` };
  }
}

/** Answers `--help` or a usage error and exits; returns when the command may start. */
export function answerUsage(usage: string, args: readonly string[] = process.argv.slice(2)): void {
  const answer = usageAnswer(usage, args);
  if (answer === undefined) return;
  if (answer.exitCode === 0) process.stdout.write(answer.stdout);
  else process.stderr.write(answer.stderr);
  process.exit(answer.exitCode);
}
