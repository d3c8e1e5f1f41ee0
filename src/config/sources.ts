/**
 * The Odoo databases a deployment copies ("sources", docs/sources.md), each into a PostgreSQL
 * schema of its own: the one ODOO_* name, called `default`, in `public` as before sources
 * existed, and those SYNC_SOURCES_FILE declares (sources-file.ts reads it). Built once at boot
 * from what the file declares and the environment's settings; SYNC_SOURCES picks those a process
 * copies.
 *
 * Not for: running them. Which worker copies what, and in which schema, is the engine's.
 */
import { type SourcePlace } from '../families/source-family.js';
import { DEFAULT_SOURCE } from '../sources/family-key.js';
import type { Env } from './env-schema.js';
import { list } from './env-values.js';
import { odooConfigOf, odooLinkConfigFrom, type OdooConfig } from './odoo-config.js';

/** The default source's schema, which holds the sync's own tables too. */
export const DEFAULT_SCHEMA = 'public';

/** When a source's families run, unless a family's own declaration says otherwise. */
export interface SourceSchedule {
  /** The incremental sync's interval: the source's `schedule.every`, else SYNC_EVERY. */
  readonly everyMs: number;
  /** The reconcile's cron (UTC): the source's `schedule.reconcileCron`, else SYNC_RECONCILE_CRON. */
  readonly reconcileCron: string;
}

/** One Odoo database the deployment copies, and where (a SourcePlace, as the families take it). */
export interface SourceConfig extends SourcePlace {
  /** `default` (DEFAULT_SOURCE) for ODOO_*'s; a file's source's name otherwise (SOURCE_NAME). */
  readonly name: string;
  /** Its Odoo, as `odooConfigFrom` builds ODOO_*'s: one client factory serves every source. */
  readonly odoo: OdooConfig;
  /**
   * The families it copies, by name: its `families` (families of the deployment, which SYNC_FAMILIES
   * may leave to other processes), else those SYNC_FAMILIES copies.
   */
  readonly families: readonly string[];
  /** The PostgreSQL schema of its copy tables: `public` for the default source. */
  readonly schema: string;
  readonly schedule: SourceSchedule;
  /**
   * Jobs of each kind a worker takes of it at once, within the worker's SYNC_CONCURRENCY: while
   * sources compete for a worker's slots, each holds a share in proportion to it.
   */
  readonly concurrency: number;
  /** SHA-256 (lowercase hex) of the tokens its Odoo's webhook URLs carry. */
  readonly webhookTokenSha256: readonly string[];
}

/**
 * A source as SYNC_SOURCES_FILE declares it, its credentials read: what it leaves out is the
 * environment's.
 */
export interface DeclaredSource {
  readonly name: string;
  readonly odoo: {
    readonly url: string;
    readonly database: string;
    readonly username: string;
    /** The password, or the API key when only a key is given (Odoo takes keys as passwords). */
    readonly password: string;
    readonly apiKey?: string;
    /**
     * What its renewed key is sealed under, where the process reads its secrets: its own
     * `apiKeySecret`, else ODOO_API_KEY_SECRET (key-cipher.ts).
     */
    readonly apiKeySecret?: string;
    readonly apiKeySecretPrevious?: string;
    readonly protocol: OdooConfig['protocol'];
    readonly context?: Readonly<Record<string, unknown>>;
  };
  readonly families?: readonly string[];
  readonly budget: { readonly maxConcurrentCalls?: number; readonly maxCallsPerSecond?: number };
  readonly concurrency?: number;
  readonly schedule: { readonly everyMs?: number; readonly reconcileCron?: string };
  readonly schema: string;
  readonly webhookTokenSha256: readonly string[];
}

/**
 * The sources, the default one first when ODOO_* name an Odoo (`defaultOdoo`, as
 * `odooConfigFrom` built it). `copiedFamilies` are those SYNC_FAMILIES copies: a source that
 * names none copies them all.
 */
export function sourcesFrom(
  env: Env,
  defaultOdoo: OdooConfig | undefined,
  declared: readonly DeclaredSource[],
  copiedFamilies: readonly string[],
): SourceConfig[] {
  const schedule: SourceSchedule = {
    everyMs: env.SYNC_EVERY,
    reconcileCron: env.SYNC_RECONCILE_CRON,
  };
  const byDefault: SourceConfig[] = defaultOdoo
    ? [
        {
          name: DEFAULT_SOURCE,
          odoo: defaultOdoo,
          families: copiedFamilies,
          schema: DEFAULT_SCHEMA,
          schedule,
          concurrency: env.SYNC_CONCURRENCY,
          webhookTokenSha256: env.ODOO_WEBHOOK_TOKENS.map((hash) => hash.toLowerCase()),
        },
      ]
    : [];
  return [
    ...byDefault,
    ...declared.map((source): SourceConfig => ({
      name: source.name,
      odoo: odooConfigOf(env, {
        source: source.name,
        ...source.odoo,
        maxConcurrentCalls: source.budget.maxConcurrentCalls ?? env.ODOO_MAX_CONCURRENT_CALLS,
        maxCallsPerSecond: source.budget.maxCallsPerSecond ?? env.ODOO_MAX_CALLS_PER_SECOND,
      }),
      families: source.families ?? copiedFamilies,
      schema: source.schema,
      schedule: {
        everyMs: source.schedule.everyMs ?? schedule.everyMs,
        reconcileCron: source.schedule.reconcileCron ?? schedule.reconcileCron,
      },
      concurrency: Math.min(source.concurrency ?? env.SYNC_CONCURRENCY, env.SYNC_CONCURRENCY),
      webhookTokenSha256: source.webhookTokenSha256,
    })),
  ];
}

/**
 * The sources this process copies: SYNC_SOURCES, else every one. `declared` is undefined when
 * SYNC_SOURCES_FILE could not be read: that is the problem named, not the names it did not give.
 */
export function selectSources(
  env: Readonly<Record<string, string | undefined>>,
  parsed: Env | undefined,
  declared: readonly DeclaredSource[] | undefined,
  problems: { key: string; message: string }[],
): string[] {
  // An environment that did not parse is refused anyway: `default` is not named unknown then.
  // ODOO_* name it, whether or not this process reads its secret (the API never does).
  const known = [
    ...(parsed === undefined || odooLinkConfigFrom(parsed) ? [DEFAULT_SOURCE] : []),
    ...(declared ?? []).map((source) => source.name),
  ];
  const listed = [...new Set(list().parse(env.SYNC_SOURCES ?? ''))];
  if (listed.length === 0) return known;
  if (declared !== undefined)
    for (const name of listed.filter((listedName) => !known.includes(listedName)))
      problems.push({
        key: 'SYNC_SOURCES',
        message: `"${name}" is not a source (${known.length > 0 ? `known: ${known.join(', ')}` : 'none is configured'})`,
      });
  return listed;
}

/**
 * The sources a process copies (SYNC_SOURCES, `selected`): whether the default one, and each other
 * one, copied from its own Odoo (docs/sources.md).
 */
export function copiedSources(
  sources: readonly SourceConfig[],
  selected: readonly string[],
): { withDefault: boolean; others: SourceConfig[] } {
  return {
    withDefault: selected.includes(DEFAULT_SOURCE),
    others: sources.filter(
      (source) => source.name !== DEFAULT_SOURCE && selected.includes(source.name),
    ),
  };
}
