/**
 * The families an operator names, in the sync CLI (`--family`, `--source`) and the API's sync
 * controls (`family=`, `source=`): a family by its key (`acme.bcs`; the default source's by its
 * name, `bcs`), by its name within a source (`source=acme`, `family=bcs`), or every family of a
 * source. Not for the change feed, whose `family=` names a family of every source it reads.
 */
import { FAMILY_NAME } from '../families/family.js';
import { DEFAULT_SOURCE, SOURCE_NAME, familyKey, splitFamilyKey } from '../sources/family-key.js';
import { AppError } from '../lib/errors.js';

const unanchored = (pattern: RegExp) => pattern.source.replace(/^\^|\$$/g, '');

/** A family's key as `familyKey` writes it, a source's name and a dot before its own name, unanchored. */
export const FAMILY_KEY_PATTERN = `(?:${unanchored(SOURCE_NAME)}\\.)?${unanchored(FAMILY_NAME)}`;

export const FAMILY_KEY = new RegExp(`^${FAMILY_KEY_PATTERN}$`);

/** What an operator names; nothing: every family. */
export interface FamilySelection {
  /** A family's key, or its name within `source`. */
  readonly family?: string | undefined;
  /** A source: its families, or the one `family` names in it. */
  readonly source?: string | undefined;
}

type SelectionCode = 'UNKNOWN_FAMILY' | 'UNKNOWN_SOURCE' | 'FAMILY_NOT_OF_SOURCE';

/** A selection that names nothing copied here, or a family key of another source than `source`. */
export class FamilySelectionError extends AppError {
  constructor(
    code: SelectionCode,
    /** The option at fault, for the CLI's `--family:` and the API's `family:`. */
    readonly option: 'family' | 'source',
    message: string,
  ) {
    super(code, message);
  }
}

/**
 * The source a selection names, if any: its `source`, or its family key's (`default` for a bare
 * family name, the default source's).
 * @throws FamilySelectionError `FAMILY_NOT_OF_SOURCE` for a key of another source than `source`
 */
export function selectedSource(selection: FamilySelection): string | undefined {
  if (selection.family === undefined) return selection.source;
  const named = splitFamilyKey(selection.family);
  const keyed = named.family !== selection.family;
  if (keyed && selection.source !== undefined && named.source !== selection.source)
    throw new FamilySelectionError(
      'FAMILY_NOT_OF_SOURCE',
      'family',
      `"${selection.family}" is a family of ${named.source}, not of ${selection.source}: name it bare with the source, or by its key alone`,
    );
  return keyed ? named.source : (selection.source ?? DEFAULT_SOURCE);
}

/**
 * The keys, among `copied` (in its order), of the families a selection names: every one without
 * a family or a source. `default.bcs` is `bcs`.
 * @throws FamilySelectionError when it names a family or a source that `copied` has none of
 */
export function selectFamilies(
  copied: readonly string[],
  selection: FamilySelection,
): readonly string[] {
  const source = selectedSource(selection);
  if (selection.family !== undefined) {
    const key = familyKey(source!, splitFamilyKey(selection.family).family);
    if (!copied.includes(key))
      throw new FamilySelectionError(
        'UNKNOWN_FAMILY',
        'family',
        `"${key}" is not copied here (copied: ${copied.join(', ')})`,
      );
    return [key];
  }
  if (source === undefined) return copied;
  const ofSource = copied.filter((key) => splitFamilyKey(key).source === source);
  if (ofSource.length === 0) {
    const sources = [...new Set(copied.map((key) => splitFamilyKey(key).source))];
    throw new FamilySelectionError(
      'UNKNOWN_SOURCE',
      'source',
      `"${source}" is not copied here (copied: ${sources.join(', ')})`,
    );
  }
  return ofSource;
}
