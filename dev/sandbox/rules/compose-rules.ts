/**
 * Several rule sets acting on one model, as Odoo's modules each add their own computes and
 * overrides to a model: every hook runs in turn, in the order given; defaults of a later set see
 * those of the earlier ones as given (they fill only what is still missing); the first set that
 * names a record wins its display name.
 */
import type { ModelRules } from './model-rules.js';

export function composeRules(...sets: readonly ModelRules[]): ModelRules {
  const used = sets.filter((rules) => Object.keys(rules).length > 0);
  if (used.length <= 1) return used[0] ?? {};
  const each = <K extends keyof ModelRules>(key: K): Array<NonNullable<ModelRules[K]>> =>
    used.flatMap((rules) => (rules[key] === undefined ? [] : [rules[key]]));
  const displayName = each('displayName')[0];
  const tracked = [...new Set(each('tracked').flat())];
  return {
    defaults(given, ctx) {
      const merged: Record<string, unknown> = {};
      for (const defaults of each('defaults'))
        for (const [name, value] of Object.entries(defaults({ ...merged, ...given }, ctx)))
          if (!(name in merged)) merged[name] = value;
      return merged;
    },
    computeNew: (row, ctx) => each('computeNew').forEach((hook) => hook(row, ctx)),
    created: (rows, ctx, options) => each('created').forEach((hook) => hook(rows, ctx, options)),
    checkWrite: (rows, values, tables) =>
      each('checkWrite').forEach((hook) => hook(rows, values, tables)),
    ...(tracked.length === 0 ? {} : { tracked }),
    written: (rows, changed, ctx, options, before) =>
      each('written').forEach((hook) => hook(rows, changed, ctx, options, before)),
    unlinked: (rows, ctx, options) => each('unlinked').forEach((hook) => hook(rows, ctx, options)),
    referenceCleared: (rows, field, ctx) =>
      each('referenceCleared').forEach((hook) => hook(rows, field, ctx)),
    recomputeStored: (rows, tables) =>
      each('recomputeStored').forEach((hook) => hook(rows, tables)),
    ...(displayName === undefined ? {} : { displayName }),
  };
}
