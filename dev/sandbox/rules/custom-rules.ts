/**
 * Custom (Studio) models compute nothing; Studio gives `x_active` a default of True (an
 * `ir.default`), so a new record is active.
 */
import type { ModelRules } from './model-rules.js';

export const CUSTOM_ARCHIVABLE_RULES: ModelRules = {
  defaults: () => ({ x_active: true }),
};
