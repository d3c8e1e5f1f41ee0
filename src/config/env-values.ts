/**
 * How an environment value is checked and read: the parsers env-schema.ts builds every key from.
 * Each one turns a string into the typed value or an issue that names what it must be.
 */
import { z } from 'zod';
import { parseDurationMs } from './duration.js';

export const blankToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

export const optionalText = () => z.preprocess(blankToUndefined, z.string().trim().optional());

export const withDefault = <T extends z.ZodType>(inner: T, fallback: string) =>
  z.preprocess((value) => blankToUndefined(value) ?? fallback, inner);

export const wholeNumber = (what: string, min: number, max: number) =>
  z
    .string({ error: `must be ${what}` })
    .trim()
    .regex(/^\d+$/, { error: `must be ${what}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: `must be ${what} between ${min} and ${max}` });

/**
 * A secret from which an AES key is derived: at least 32 characters, or unset. `replaced` names
 * the key a previous secret stood for, for the error of a short one.
 */
export const secretKeyText = (replaced?: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .min(32, {
        error: replaced
          ? `must be at least 32 characters, as ${replaced} was`
          : 'must be at least 32 characters (e.g. openssl rand -base64 32)',
      })
      .optional(),
  );

export const ratio = () =>
  z
    .string()
    .trim()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, { error: 'must be a number between 0 and 1' })
    .transform(Number);

export const url = (protocols: readonly string[]) =>
  z
    .string()
    .trim()
    .refine(
      (text) => {
        try {
          return protocols.includes(new URL(text).protocol);
        } catch {
          return false;
        }
      },
      { error: `must be a URL (${protocols.join(' or ')})` },
    );

export const optionalUrl = (protocols: readonly string[]) =>
  z.preprocess(blankToUndefined, url(protocols).optional());

/** A duration of at least a second, in milliseconds. */
export const duration = (message = 'must be a duration such as 30s, 5m or 1h (at least 1s)') =>
  z
    .string()
    .trim()
    .transform((text, ctx) => {
      const ms = parseDurationMs(text);
      if (ms === undefined || ms < 1_000) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return ms;
    });

/**
 * An instant as ISO 8601: a date (`2026-12-31`, midnight UTC) or a date-time; without an offset it
 * is UTC, as Odoo shows its dates to the API.
 */
export const instant = () =>
  z
    .string()
    .trim()
    .transform((text, ctx) => {
      const match =
        /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/.exec(
          text,
        );
      const date = match
        ? new Date(`${match[1]}T${match[2] ?? '00:00:00'}${match[3] ?? 'Z'}`)
        : undefined;
      if (date === undefined || Number.isNaN(date.getTime())) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a date or date-time such as 2026-12-31 or 2026-12-31T08:00:00Z',
        });
        return z.NEVER;
      }
      return date;
    });

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });

export const booleanText = () =>
  z
    .string()
    .trim()
    .toLowerCase()
    .refine((text) => ['true', 'false', '1', '0', 'yes', 'no'].includes(text), {
      error: 'must be true or false',
    })
    .transform((text) => ['true', '1', 'yes'].includes(text));

export const list = () =>
  z.string().transform((text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

/** Comma-separated `host:port` pairs (Redis Sentinel's sentinels, Redis Cluster's nodes). */
export const hostPorts = () =>
  list().pipe(
    z.array(
      z
        .string()
        .regex(/^[^\s:,]+:\d{1,5}$/, { error: 'must be host:port pairs, comma-separated' })
        .transform((pair) => {
          const at = pair.lastIndexOf(':');
          return { host: pair.slice(0, at), port: Number(pair.slice(at + 1)) };
        })
        .refine((address) => address.port > 0 && address.port < 65_536, {
          error: 'must name ports between 1 and 65535',
        }),
    ),
  );

/**
 * Which proxies to believe about the client's address: `false` (the peer is the client), `true`
 * (any), a number of hops, or addresses and CIDR ranges.
 */
export const trustProxy = () =>
  z
    .string()
    .trim()
    .transform((text, ctx): boolean | number | string[] => {
      if (/^(false|off|no|0)$/i.test(text)) return false;
      if (/^(true|on|yes)$/i.test(text)) return true;
      if (/^\d{1,2}$/.test(text)) return Number(text);
      const items = text.split(',').map((item) => item.trim());
      if (items.every((item) => /^[0-9A-Fa-f.:]+(\/\d{1,3})?$/.test(item))) return items;
      ctx.addIssue({
        code: 'custom',
        message: 'must be false, true, a number of proxy hops, or addresses/CIDR ranges',
      });
      return z.NEVER;
    });

/**
 * An Odoo context as a mapping (ODOO_CONTEXT's JSON, a source's `context`); `active_test` is the
 * sync's own and cannot be overridden.
 */
export const odooContextObject = (error: string) =>
  z.record(z.string(), z.unknown(), { error }).refine((context) => !('active_test' in context), {
    error: 'must not set active_test: the sync always reads archived BCs too',
  });

const JSON_OBJECT = 'must be a JSON object such as {"lang":"fr_FR"}';

/** ODOO_CONTEXT: an Odoo context as a JSON object. */
export const odooContext = () =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: JSON_OBJECT });
        return z.NEVER;
      }
    })
    .pipe(odooContextObject(JSON_OBJECT));
