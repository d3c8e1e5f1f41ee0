/**
 * Every model the sandbox serves, declared in models/ the way an Odoo module declares them: the
 * BC family, the reference models other records point at, `res.partner`, the journal entries and
 * two custom (Studio) models.
 */
import { ACCOUNT_MODELS } from './models/account-models.js';
import { BC, BC_LINE } from './models/bc-models.js';
import { CYLINDER, VALVE } from './models/cylinder-models.js';
import type { ModelSpec } from './models/field-spec.js';
import { PARTNER } from './models/partner-model.js';
import { REFERENCE_MODELS } from './models/reference-models.js';

export const SANDBOX_MODELS: readonly ModelSpec[] = [
  BC,
  BC_LINE,
  PARTNER,
  ...REFERENCE_MODELS,
  ...ACCOUNT_MODELS,
  CYLINDER,
  VALVE,
];
