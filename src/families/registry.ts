/**
 * The families the engine copies. Those declared in code are listed here; a deployment copies the
 * ones its configuration names (`SYNC_FAMILIES`), built once at boot into a `Families` that every
 * process hands down. A configured family `migrate` has not created as declared is known but
 * unavailable: the others are copied meanwhile, its jobs fail at once saying what to run, and it
 * becomes available at the first `refresh` that finds it migrated (no restart).
 */
import { AppError } from '../lib/errors.js';
import { bcsFamily } from './bcs/family.js';
import {
  familyModels,
  familyProblems,
  type ChildModel,
  type FamilySchedule,
  type ModelDeclaration,
  type RecordFamily,
} from './family.js';
import { movesFamily } from './moves/family.js';
import { DEFAULT_SOURCE, modelKey, splitFamilyKey } from '../sources/family-key.js';
import { partnersFamily } from './partners/family.js';

/** Every family declared in code, the BC family first. */
export const CODE_FAMILIES: readonly RecordFamily[] = [bcsFamily, partnersFamily, movesFamily];

/** Where a model stands in the families copied. */
export interface ModelPlace {
  readonly family: RecordFamily;
  readonly model: ModelDeclaration;
  /** Set for a child model. */
  readonly child?: ChildModel;
}

/** A family copied here that cannot be copied yet: it was not migrated as declared. */
export interface UnavailableFamily {
  readonly name: string;
  /** Its Odoo models as declared, the root first. */
  readonly models: readonly string[];
  /** Why, ending with what to do (`…: run migrate`). */
  readonly reason: string;
  /** Its schedule, kept while it waits: it runs as soon as it is migrated. */
  readonly schedule: FamilySchedule;
}

/** The families copied here, as one load found them. */
export interface LoadedFamilies {
  readonly available: readonly RecordFamily[];
  readonly unavailable: readonly UnavailableFamily[];
}

export interface Families {
  /** The families that can be copied, in the order they were given. */
  readonly all: readonly RecordFamily[];
  /** The families copied here that cannot be copied until `migrate` runs. */
  readonly unavailable: readonly UnavailableFamily[];
  /** Whether this process copies the family, available or not. */
  copies(name: string): boolean;
  byName(name: string): RecordFamily | undefined;
  /** @throws AppError `UNKNOWN_FAMILY`, or `FAMILY_NOT_MIGRATED` for an unavailable one */
  require(name: string): RecordFamily;
  /** The family of `model` in `source` (default: the default source). */
  ofModel(model: string, source?: string): ModelPlace | undefined;
  /**
   * Takes up the layouts `migrate` changed since (configured families, docs/models.md): run and
   * reconcile steps call it first, so a column added while the workers run is written from their
   * next run on, and a family migrated since becomes available. Nothing to do for families
   * declared in code.
   */
  refresh(): Promise<void>;
}

export class UnknownFamilyError extends AppError {
  constructor(name: string, known: readonly string[]) {
    super('UNKNOWN_FAMILY', `no family "${name}" is copied here (copied: ${known.join(', ')})`);
  }
}

/** A job or request for a family copied here that `migrate` has not created as declared. */
export class FamilyNotMigratedError extends AppError {
  constructor(family: UnavailableFamily) {
    super('FAMILY_NOT_MIGRATED', `${family.reason}; the other families are copied meanwhile`);
  }
}

/** The lookups over one set of families. */
function index(loaded: LoadedFamilies) {
  const families = loaded.available;
  const problems = families.flatMap(familyProblems);
  const byName = new Map<string, RecordFamily>();
  const places = new Map<string, ModelPlace>();
  for (const family of families) {
    if (byName.has(family.name)) problems.push(`two families are named ${family.name}`);
    byName.set(family.name, family);
    // A model is another source's copy of it in each source (docs/sources.md).
    const { source } = splitFamilyKey(family.name);
    for (const model of familyModels(family)) {
      const key = modelKey(source, model.model);
      const other = places.get(key);
      if (other) problems.push(`${key} is in both ${other.family.name} and ${family.name}`);
      const child = family.children.find((c) => c === model);
      places.set(key, { family, model, ...(child ? { child } : {}) });
    }
  }
  if (problems.length > 0) throw new Error(`unsound record families: ${problems.join('; ')}`);
  const unavailable = new Map(loaded.unavailable.map((family) => [family.name, family]));
  return {
    all: families,
    unavailable: loaded.unavailable,
    byName,
    unavailableByName: unavailable,
    places,
  };
}

/**
 * The families to copy. Two families may not share a name or a model. `reload` loads them again
 * (the same families, their layouts as they are now), for `refresh`; `unavailable` are those
 * copied here that cannot be copied yet.
 * @throws Error naming every problem of an unsound set
 */
export function createFamilies(
  families: readonly RecordFamily[],
  options: {
    unavailable?: readonly UnavailableFamily[];
    reload?: () => Promise<LoadedFamilies>;
  } = {},
): Families {
  let current = index({ available: families, unavailable: options.unavailable ?? [] });
  const names = [
    ...families.map((family) => family.name),
    ...(options.unavailable ?? []).map((family) => family.name),
  ];
  return {
    get all() {
      return current.all;
    },
    get unavailable() {
      return current.unavailable;
    },
    copies: (name) => names.includes(name),
    byName: (name) => current.byName.get(name),
    require(name) {
      const family = current.byName.get(name);
      if (family) return family;
      const unavailable = current.unavailableByName.get(name);
      if (unavailable) throw new FamilyNotMigratedError(unavailable);
      throw new UnknownFamilyError(name, names);
    },
    ofModel: (model, source = DEFAULT_SOURCE) => current.places.get(modelKey(source, model)),
    async refresh() {
      if (options.reload) current = index(await options.reload());
    },
  };
}
