/**
 * The families a process copies, from the configuration: those declared in code as they are,
 * the configured ones built from the layouts `migrate` kept (docs/models.md). Every process
 * (workers, API, CLI) loads them once at boot; a configured family `migrate` never created is a
 * boot error naming it.
 */
import type { FamiliesConfig } from '../config/config.js';
import type { Db } from '../db/create-db.js';
import { AppError } from '../lib/errors.js';
import { readLayouts } from './configured/apply-layouts.js';
import { buildConfiguredFamily } from './configured/build.js';
import type { FamilyLayout } from './configured/layout.js';
import type { RecordFamily } from './family.js';
import { createFamilies, type Families } from './registry.js';

export class FamiliesNotMigratedError extends AppError {
  constructor(problems: readonly string[]) {
    super('FAMILIES_NOT_MIGRATED', `record families not ready: ${problems.join('; ')}`);
  }
}

async function build(db: Db, config: FamiliesConfig): Promise<RecordFamily[]> {
  const layouts =
    config.configured.length > 0 ? await readLayouts(db) : new Map<string, FamilyLayout>();
  const problems: string[] = [];
  const families = config.copied.flatMap((name): RecordFamily[] => {
    const code = config.code.find((family) => family.name === name);
    if (code) return [code];
    const spec = config.configured.find((family) => family.name === name);
    if (!spec) return [];
    const built = buildConfiguredFamily(spec, layouts.get(name));
    if (typeof built === 'string') {
      problems.push(built);
      return [];
    }
    return [built];
  });
  if (problems.length > 0) throw new FamiliesNotMigratedError(problems);
  return families;
}

/** @throws FamiliesNotMigratedError naming each configured family not migrated as declared */
export async function loadFamilies(db: Db, config: FamiliesConfig): Promise<Families> {
  const copiesConfigured = config.copied.some((name) =>
    config.configured.some((family) => family.name === name),
  );
  return createFamilies(
    await build(db, config),
    copiesConfigured ? () => build(db, config) : undefined,
  );
}
