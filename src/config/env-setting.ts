/**
 * One configuration key, written once: how its value is parsed, its default, its documentation
 * and whether it is a secret. The parser (`envSchema`), `.env.example` and the README's table
 * (config-docs.ts) are all derived from these entries (env-schema.ts).
 */
import type { z } from 'zod';
import { withDefault } from './env-values.js';

export interface SettingDoc {
  readonly description: string;
  /** Values that must never be printed (URLs may hold passwords). */
  readonly secret?: boolean;
}

export interface Setting<T extends z.ZodType = z.ZodType> {
  readonly schema: T;
  readonly doc: SettingDoc & {
    /** The default as an operator would write it; undefined when there is none. */
    readonly default?: string;
  };
}

/**
 * A key without a default of its own. `shownDefault` is for the one whose default the
 * configuration applies itself, by role or mode (SYNC_FAMILIES), so that the docs still show it.
 */
export function setting<T extends z.ZodType>(
  schema: T,
  doc: SettingDoc & { readonly shownDefault?: string },
): Setting<T> {
  const { shownDefault, ...rest } = doc;
  return { schema, doc: shownDefault === undefined ? rest : { ...rest, default: shownDefault } };
}

/** A key whose unset or blank value reads as `fallback`. */
export function defaulted<T extends z.ZodType>(
  parse: T,
  fallback: string,
  doc: SettingDoc,
): Setting<ReturnType<typeof withDefault<T>>> {
  return { schema: withDefault(parse, fallback), doc: { ...doc, default: fallback } };
}
