/** Which rules each model follows; a model without rules only stores what it is given. */
import { BC_LINE_MODEL, BC_MODEL } from '../models/bc-models.js';
import { MOVE_LINE_MODEL, MOVE_MODEL } from '../models/account-models.js';
import { CYLINDER_MODEL } from '../models/cylinder-models.js';
import { MOVE_LINE_RULES, MOVE_RULES } from './account-rules.js';
import { BC_LINE_RULES, BC_RULES } from './bc-rules.js';
import { CUSTOM_ARCHIVABLE_RULES } from './custom-rules.js';
import type { ModelRules } from './model-rules.js';
import { PARTNER_RULES } from './partner-rules.js';

const RULES: ReadonlyMap<string, ModelRules> = new Map([
  [BC_MODEL, BC_RULES],
  [BC_LINE_MODEL, BC_LINE_RULES],
  ['res.partner', PARTNER_RULES],
  [MOVE_MODEL, MOVE_RULES],
  [MOVE_LINE_MODEL, MOVE_LINE_RULES],
  [CYLINDER_MODEL, CUSTOM_ARCHIVABLE_RULES],
]);

const NO_RULES: ModelRules = {};

export function rulesFor(model: string): ModelRules {
  return RULES.get(model) ?? NO_RULES;
}
