/**
 * What hangs on a record of a model with `mail.thread` / `mail.activity.mixin` (docs/odoo.md):
 * its followers (`mail.followers`), messages (`mail.message`) and activities (`mail.activity`),
 * each pointing at it through `(res_model | model, res_id)` — a many2one_reference, not a
 * foreign key — and how Odoo's mixins drop them with it (`unlink` of the thread deletes them:
 * the database cannot cascade through a many2one_reference).
 */
import type { ModelRules } from '../rules/model-rules.js';
import type { Row } from '../sandbox-domain.js';
import { deleteThroughForeignKeys } from '../sandbox-foreign-keys.js';
import type { SandboxTables } from '../sandbox-tables.js';

export const FOLLOWERS_MODEL = 'mail.followers';
export const MESSAGE_MODEL = 'mail.message';
export const ACTIVITY_MODEL = 'mail.activity';

/** The mail models and the field naming the record's model on each. */
const THREAD_MODELS: ReadonlyArray<readonly [string, string]> = [
  [FOLLOWERS_MODEL, 'res_model'],
  [MESSAGE_MODEL, 'model'],
  [ACTIVITY_MODEL, 'res_model'],
];

/** Whether a model's records are threads (followers, messages) or carry activities. */
export function isThreadModel(mixins: readonly string[] | undefined): boolean {
  return (mixins ?? []).some((mixin) => mixin === 'mail.thread' || mixin === 'mail.activity.mixin');
}

/** The rows of `mailModel` pointing at `(model, id)`, unordered; none when it is not served. */
export function threadRows(
  tables: Pick<SandboxTables, 'table'>,
  mailModel: string,
  model: string,
  id: number,
): Row[] {
  const table = tables.table(mailModel);
  const modelField = THREAD_MODELS.find(([name]) => name === mailModel)?.[1];
  if (table === undefined || modelField === undefined) return [];
  const index = table.index.get('res_id');
  const candidates =
    index === undefined
      ? table.rows.values()
      : [...(index.get(id) ?? [])].flatMap((rowId) => table.rows.get(rowId) ?? []);
  const rows: Row[] = [];
  for (const row of candidates) if (row.res_id === id && row[modelField] === model) rows.push(row);
  return rows;
}

/** A thread deleted takes its messages, followers and activities with it (`MailThread.unlink`). */
export function threadRules(model: string): ModelRules {
  return {
    unlinked(rows, ctx) {
      for (const [mailModel] of THREAD_MODELS) {
        const table = ctx.tables.table(mailModel);
        if (table === undefined) continue;
        const doomed = rows.flatMap((row) => threadRows(ctx.tables, mailModel, model, row.id));
        if (doomed.length > 0) deleteThroughForeignKeys(ctx.tables, table, doomed);
      }
    },
  };
}
