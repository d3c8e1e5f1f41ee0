/**
 * A file operators declare things in (YAML, or JSON by its extension), read and checked once at
 * boot against its schema: what it holds, or every problem named by its path in the file.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

export type DeclarationFile<T> = { ok: true; data: T } | { ok: false; problems: string[] };

export function readDeclarationFile<S extends z.ZodType>(
  path: string,
  schema: S,
): DeclarationFile<z.output<S>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, problems: [`cannot be read: ${(error as NodeJS.ErrnoException).code}`] };
  }
  const json = /\.json$/i.test(path);
  let raw: unknown;
  try {
    raw = json ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    return {
      ok: false,
      problems: [
        `is not valid ${json ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`,
      ],
    };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, data: parsed.data };
  return {
    ok: false,
    // The path of each problem, never the value: a secret may be what is wrong.
    problems: parsed.error.issues.map(
      (issue) =>
        `${
          issue.path
            .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
            .join('')
            .replace(/^\./, '') || '(file)'
        }: ${issue.message}`,
    ),
  };
}
