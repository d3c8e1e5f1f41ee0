/**
 * The families the engine copies. Those declared in code are listed here; a deployment copies the
 * ones its configuration names (`SYNC_FAMILIES`), built once at boot into a `Families` that every
 * process hands down.
 */
import { AppError } from '../lib/errors.js';
import { bcsFamily } from './bcs/family.js';
import {
  familyModels,
  familyProblems,
  type ChildModel,
  type ModelDeclaration,
  type RecordFamily,
} from './family.js';
import { movesFamily } from './moves/family.js';
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

export interface Families {
  /** In the order they were given. */
  readonly all: readonly RecordFamily[];
  byName(name: string): RecordFamily | undefined;
  /** @throws AppError `UNKNOWN_FAMILY` */
  require(name: string): RecordFamily;
  ofModel(model: string): ModelPlace | undefined;
  /**
   * Takes up the layouts `migrate` changed since (configured families, docs/models.md): run and
   * reconcile steps call it first, so a column added while the workers run is written from their
   * next run on. Nothing to do for families declared in code.
   */
  refresh(): Promise<void>;
}

export class UnknownFamilyError extends AppError {
  constructor(name: string, known: readonly string[]) {
    super('UNKNOWN_FAMILY', `no family "${name}" is copied here (copied: ${known.join(', ')})`);
  }
}

/** The lookups over one set of families. */
function index(families: readonly RecordFamily[]) {
  const problems = families.flatMap(familyProblems);
  const byName = new Map<string, RecordFamily>();
  const places = new Map<string, ModelPlace>();
  for (const family of families) {
    if (byName.has(family.name)) problems.push(`two families are named ${family.name}`);
    byName.set(family.name, family);
    for (const model of familyModels(family)) {
      const other = places.get(model.model);
      if (other) problems.push(`${model.model} is in both ${other.family.name} and ${family.name}`);
      const child = family.children.find((c) => c === model);
      places.set(model.model, { family, model, ...(child ? { child } : {}) });
    }
  }
  if (problems.length > 0) throw new Error(`unsound record families: ${problems.join('; ')}`);
  return { all: families, byName, places };
}

/**
 * The families to copy. Two families may not share a name or a model. `reload` builds them again
 * (the same families, their layouts as they are now), for `refresh`.
 * @throws Error naming every problem of an unsound set
 */
export function createFamilies(
  families: readonly RecordFamily[],
  reload?: () => Promise<readonly RecordFamily[]>,
): Families {
  let current = index(families);
  const names = families.map((family) => family.name);
  return {
    get all() {
      return current.all;
    },
    byName: (name) => current.byName.get(name),
    require(name) {
      const family = current.byName.get(name);
      if (!family) throw new UnknownFamilyError(name, names);
      return family;
    },
    ofModel: (model) => current.places.get(model),
    async refresh() {
      if (reload) current = index(await reload());
    },
  };
}
