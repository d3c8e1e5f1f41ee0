/**
 * What Odoo computes on a model loaded from a dump: the sandbox's own rules for that model when
 * it has some (a move's amounts and number, a contact's `complete_name`), then the defaults of
 * required fields, the stored related fields, and the mixins' (a thread deleted with its
 * followers, messages and activities).
 */
import type { ModelSpec } from '../models/field-spec.js';
import { composeRules } from '../rules/compose-rules.js';
import type { ModelRules } from '../rules/model-rules.js';
import { rulesFor } from '../rules/rules-by-model.js';
import { computeValue } from './computed-values.js';
import { isThreadModel, threadRules } from './mail-threads.js';
import { relatedFieldRules } from './related-fields.js';
import { requiredDefaults } from './required-defaults.js';

export function realRules(spec: ModelSpec): ModelRules {
  return composeRules(
    rulesFor(spec.name),
    requiredDefaults(spec),
    relatedFieldRules(spec.name, computeValue),
    isThreadModel(spec.mixins) ? threadRules(spec.name) : {},
  );
}
