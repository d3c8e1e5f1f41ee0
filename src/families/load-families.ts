/**
 * The families a process copies, from the configuration: those declared in code as they are,
 * the configured ones built from the layouts `migrate` kept (docs/models.md). Every process
 * (workers, API, CLI) loads them once at boot. A configured family `migrate` never created, or
 * created under another declaration, is unavailable: the others are copied, it waits for
 * `migrate` (see registry.ts). Only a process that could copy nothing at all refuses to start.
 */
import type { Db } from '../db/create-db.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { readLayouts } from './configured/apply-layouts.js';
import { buildConfiguredFamily } from './configured/build.js';
import type { FamilyLayout } from './configured/layout.js';
import type { ConfiguredFamilySpec } from './configured/spec.js';
import { sql } from 'drizzle-orm';
import { rowsOf, textArray } from '../db/sql-rows.js';
import { familyModels, type FamilySchedule, type RecordFamily } from './family.js';
import { quotedTable } from './table-names.js';
import { familyInSource, sourceSpec, type SourcePlace } from './source-family.js';
import {
  createFamilies,
  type Families,
  type LoadedFamilies,
  type UnavailableFamily,
} from './registry.js';

/** The record families a process copies, as its configuration names them. */
export interface FamiliesConfig {
  /** The families copied, by name, in order (SYNC_FAMILIES); the first is the CLI's default. */
  readonly copied: readonly string[];
  /** The families declared in code among them. */
  readonly code: readonly RecordFamily[];
  /** Every family of SYNC_FAMILIES_FILE: `migrate` creates the tables of each. */
  readonly configured: readonly ConfiguredFamilySpec[];
}

export class FamiliesNotMigratedError extends AppError {
  constructor(problems: readonly string[]) {
    super('FAMILIES_NOT_MIGRATED', `record families not ready: ${problems.join('; ')}`);
  }
}

/**
 * Of the tables of families placed in sources' schemas, those that are not there (`migrate` makes
 * them): one query for every source, as each run's start reloads the families.
 */
async function missingTables(db: Db, families: readonly RecordFamily[]): Promise<Set<string>> {
  const tables = families.flatMap((family) =>
    familyModels(family).map((model) => quotedTable(model.table)),
  );
  if (tables.length === 0) return new Set();
  const rows = rowsOf<{ name: string }>(
    await db.execute(sql`
      select name from unnest(${textArray(tables)}::text[]) as wanted(name)
      where to_regclass(name) is null`),
  );
  return new Set(rows.map((row) => row.name));
}

/** Another source, as the families it copies are loaded for it (docs/sources.md). */
export interface FamiliesSource extends SourcePlace {
  /** The families it copies, by name: those the process copies too are loaded. */
  readonly families: readonly string[];
  readonly schedule?: FamilySchedule;
}

/** Which sources' families a process loads: the default source's and others (docs/sources.md). */
export interface SourcesLoaded {
  /** Whether it copies the default source's (SYNC_SOURCES names it, or is unset). */
  readonly withDefault: boolean;
  readonly others: readonly FamiliesSource[];
}

const DEFAULT_ONLY: SourcesLoaded = { withDefault: true, others: [] };

async function build(
  db: Db,
  config: FamiliesConfig,
  sources: SourcesLoaded,
): Promise<LoadedFamilies> {
  const layouts =
    config.configured.length > 0 ? await readLayouts(db) : new Map<string, FamilyLayout>();
  const available: RecordFamily[] = [];
  const unavailable: UnavailableFamily[] = [];
  for (const name of sources.withDefault ? config.copied : []) {
    const code = config.code.find((family) => family.name === name);
    if (code) {
      available.push(code);
      continue;
    }
    const spec = config.configured.find((family) => family.name === name);
    if (!spec) continue;
    const built = buildConfiguredFamily(spec, layouts.get(name));
    if (typeof built === 'string')
      unavailable.push({
        name,
        models: [spec.root.model, ...spec.children.map((child) => child.model)],
        reason: built,
        schedule: spec.schedule,
      });
    else available.push(built);
  }
  const others = sources.others.flatMap((source) =>
    source.families
      .filter((family) => config.copied.includes(family))
      .map((name) => {
        const code = config.code.find((family) => family.name === name);
        return { source, name, placed: code && familyInSource(code, source) };
      }),
  );
  const missing = await missingTables(
    db,
    others.flatMap(({ placed }) => (placed ? [placed] : [])),
  );
  for (const { source, name, placed } of others) {
    if (placed) {
      const absent = familyModels(placed)
        .map((model) => quotedTable(model.table))
        .filter((table) => missing.has(table));
      if (absent.length === 0) available.push(placed);
      else
        unavailable.push({
          name: placed.name,
          models: familyModels(placed).map((model) => model.model),
          reason: `${placed.name}: schema ${source.schema} has no table ${absent.join(', ')}: run migrate`,
          schedule: placed.schedule,
        });
      continue;
    }
    const spec = config.configured.find((family) => family.name === name);
    if (!spec) continue;
    // Planned by migrate from the source's own Odoo, its layout kept under its key.
    const keyed = sourceSpec(spec, source.name);
    const built = buildConfiguredFamily(keyed, layouts.get(keyed.name));
    if (typeof built === 'string')
      unavailable.push({
        name: keyed.name,
        models: [spec.root.model, ...spec.children.map((child) => child.model)],
        reason: built,
        schedule: spec.schedule,
      });
    else available.push(familyInSource(built, source));
  }
  return { available, unavailable };
}

/**
 * Loads the families copied; each unavailable one is named in a warning on `logger`.
 * @throws FamiliesNotMigratedError when families are copied and not one of them is available
 */
export async function loadFamilies(
  db: Db,
  config: FamiliesConfig,
  logger?: Logger,
  sources: SourcesLoaded = DEFAULT_ONLY,
): Promise<Families> {
  const loaded = await build(db, config, sources);
  // Nothing at all to copy is a deployment mistake (migrate never ran): said at once, loudly.
  if (loaded.available.length === 0 && loaded.unavailable.length > 0)
    throw new FamiliesNotMigratedError(loaded.unavailable.map((family) => family.reason));
  for (const family of loaded.unavailable)
    logger?.warn(
      { family: family.name, code: 'FAMILY_NOT_MIGRATED' },
      `${family.reason}; the other families are copied meanwhile, and ${family.name} is as soon as migrate has run`,
    );
  // Reloaded for the layouts migrate changes, and for another source's tables it makes.
  const copiesConfigured =
    sources.others.length > 0 ||
    config.copied.some((name) => config.configured.some((family) => family.name === name));
  return createFamilies(loaded.available, {
    unavailable: loaded.unavailable,
    ...(copiesConfigured ? { reload: () => build(db, config, sources) } : {}),
  });
}
