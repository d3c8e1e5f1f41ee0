/**
 * What the Tryton gateway exposes, as operators write it:
 *
 * - `TRYTON_MODELS=party.party,product.product:name|code`: the models whose read methods the
 *   gateway forwards, optionally with the only fields a caller may read, search or sort on. A
 *   field list naming `rec_name` is also what lets callers search that model by name, directly
 *   or through a relation compared with text: a name search is the model's own code, which may
 *   reach other models (docs/tryton.md, "Names").
 * - `TRYTON_ALLOWED_METHODS=common.server.version,model.party.party.create`: any other method,
 *   by pattern, where `*` stands for exactly one dotted segment.
 *
 * Both are checked here, at boot, so a typo is a refused configuration naming the key.
 */

export interface ExposedModel {
  readonly model: string;
  /** The only fields callers may touch; undefined: every field. */
  readonly fields?: readonly string[];
}

const NAME = /^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$/;
const FIELD = /^[A-Za-z0-9_]+$/;
const PATTERN = /^(?:\*|[A-Za-z0-9_]+)(?:\.(?:\*|[A-Za-z0-9_]+))*$/;

/** Parses `TRYTON_MODELS` entries; returns the models, or the problems (one per bad entry). */
export function parseExposedModels(entries: readonly string[]): {
  models: ExposedModel[];
  problems: string[];
} {
  const models: ExposedModel[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const [model = '', fieldText, ...rest] = entry.split(':');
    const fields = fieldText?.split('|').map((field) => field.trim());
    if (!NAME.test(model) || rest.length > 0) {
      problems.push(`"${entry}" is not a model name such as party.party or party.party:name|code`);
    } else if (fields && (fields.length === 0 || !fields.every((field) => FIELD.test(field)))) {
      problems.push(`"${entry}": fields are names separated by |, such as party.party:name|code`);
    } else if (models.some((known) => known.model === model)) {
      problems.push(`"${model}" is listed twice`);
    } else {
      models.push(fields ? { model, fields: [...new Set(fields)] } : { model });
    }
  }
  return { models, problems };
}

/** The `TRYTON_ALLOWED_METHODS` patterns that are malformed. */
export function badMethodPatterns(patterns: readonly string[]): string[] {
  return patterns
    .filter((pattern) => !PATTERN.test(pattern))
    .map((pattern) => `"${pattern}" is not a dotted method pattern (* stands for one segment)`);
}
