/**
 * A change as every consumer gets it — the pull route, the stream and the webhooks: what changed,
 * where, whose record it is (its source), and its position. It says which record changed and how,
 * not its values: the record is one read away at its `path` (its own source's route), at a version
 * at least as new.
 */
import { z } from 'zod';
import { AUDIT_ACTIONS } from '../db/schema/index.js';
import { recordsPath } from '../families/records-path.js';
import { splitFamilyKey } from '../sources/family-key.js';
import { encodePosition, POSITION_PATTERN } from './position.js';
import type { FeedChange } from './read-changes.js';

export const positionSchema = z
  .string()
  .regex(POSITION_PATTERN, 'a position is 32 hex digits, as the feed gave it')
  .describe(
    'a position in the change feed: opaque, as the feed gave it (changes after it follow in commit order)',
  );

export const changeBodySchema = z
  .object({
    id: z
      .string()
      .describe('the change\'s stable id ("chg_<n>"): the same in every answer and delivery'),
    position: positionSchema,
    source: z
      .string()
      .describe('the Odoo database the record is copied from (`default`: the ODOO_* one)'),
    family: z.string().describe('the record family (bcs, partners…)'),
    model: z.string().describe('the Odoo model of the record'),
    odooId: z.number().int(),
    rootOdooId: z
      .number()
      .int()
      .nullable()
      .describe("the root the record belongs to: a child's root, or the record itself"),
    action: z
      .enum(AUDIT_ACTIONS)
      .describe(
        'created, updated, archived (gone from Odoo), restored, deleted (a child Odoo no longer lists), drift (the copy healed to match Odoo, see reason)',
      ),
    changedFields: z
      .array(z.string())
      .describe('the Odoo fields whose values changed (updated, restored, drift); link fields too'),
    reason: z.string().nullable().describe("why: an archive's reason, a drift's"),
    odooWriteDate: z
      .string()
      .nullable()
      .describe("the record's write_date in the copy after the change"),
    at: z.string().describe("when the change was written to the copy (its transaction's start)"),
    trigger: z
      .string()
      .nullable()
      .describe('what made the change outside a run (webhook, resync); null within a run'),
    runId: z.number().int().nullable().describe('the run that made the change, if any'),
    path: z
      .string()
      .describe(
        "the record on the read API, its own source's route: key records by (source, model, odooId) and read them here",
      ),
  })
  .describe('Change');

export type ChangeBody = z.infer<typeof changeBodySchema>;

export const changeId = (change: FeedChange) => `chg_${change.auditId}`;

export function toChangeBody(change: FeedChange): ChangeBody {
  const { source, family } = splitFamilyKey(change.family);
  return {
    id: changeId(change),
    position: encodePosition(change.position),
    source,
    family,
    model: change.model,
    odooId: change.odooId,
    rootOdooId: change.rootOdooId,
    action: change.action,
    changedFields: [...change.changedFields],
    reason: change.reason,
    odooWriteDate: change.odooWriteDate?.toISOString() ?? null,
    at: change.at.toISOString(),
    trigger: change.trigger,
    runId: change.runId,
    path: `${recordsPath({ model: change.model, source })}/${change.odooId}`,
  };
}
