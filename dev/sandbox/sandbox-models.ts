/**
 * Every model the sandbox serves, declared in models/ the way an Odoo module declares them: the
 * BC family, the reference models other records point at, `res.partner`, the journal entries and
 * two custom (Studio) models; and the catalogue a sandbox is built from (these models with their
 * rules, or a catalogue where some come from a real Odoo's dumps: real/real-catalogue.ts).
 */
import { ACCOUNT_MODELS } from './models/account-models.js';
import { BC, BC_LINE } from './models/bc-models.js';
import { CYLINDER, VALVE } from './models/cylinder-models.js';
import type { FieldSpec, ModelSpec } from './models/field-spec.js';
import { PARTNER } from './models/partner-model.js';
import { REFERENCE_MODELS } from './models/reference-models.js';
import type { ModelRules } from './rules/model-rules.js';
import { rulesFor } from './rules/rules-by-model.js';
import type { Row } from './sandbox-domain.js';
import type { SandboxTable, SandboxTables } from './sandbox-tables.js';

export const SANDBOX_MODELS: readonly ModelSpec[] = [
  BC,
  BC_LINE,
  PARTNER,
  ...REFERENCE_MODELS,
  ...ACCOUNT_MODELS,
  CYLINDER,
  VALVE,
];

/** The models a sandbox serves and what Odoo computes on each. */
export interface SandboxCatalogue {
  readonly models: readonly ModelSpec[];
  rules(spec: ModelSpec): ModelRules;
  /**
   * The value of a non-stored field of a model loaded from a dump, in internal form (a many2one
   * as its id, an x2many as its ids); the sandbox's own models compute theirs in their readers.
   */
  computeValue?(tables: SandboxTables, table: SandboxTable, field: FieldSpec, row: Row): unknown;
}

export const SANDBOX_CATALOGUE: SandboxCatalogue = {
  models: SANDBOX_MODELS,
  rules: (spec) => rulesFor(spec.name),
};
