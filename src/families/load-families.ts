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
import type { RecordFamily } from './family.js';
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

async function build(db: Db, config: FamiliesConfig): Promise<LoadedFamilies> {
  const layouts =
    config.configured.length > 0 ? await readLayouts(db) : new Map<string, FamilyLayout>();
  const available: RecordFamily[] = [];
  const unavailable: UnavailableFamily[] = [];
  for (const name of config.copied) {
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
): Promise<Families> {
  const loaded = await build(db, config);
  // Nothing at all to copy is a deployment mistake (migrate never ran): said at once, loudly.
  if (loaded.available.length === 0 && loaded.unavailable.length > 0)
    throw new FamiliesNotMigratedError(loaded.unavailable.map((family) => family.reason));
  for (const family of loaded.unavailable)
    logger?.warn(
      { family: family.name, code: 'FAMILY_NOT_MIGRATED' },
      `${family.reason}; the other families are copied meanwhile, and ${family.name} is as soon as migrate has run`,
    );
  const copiesConfigured = config.copied.some((name) =>
    config.configured.some((family) => family.name === name),
  );
  return createFamilies(loaded.available, {
    unavailable: loaded.unavailable,
    ...(copiesConfigured ? { reload: () => build(db, config) } : {}),
  });
}
