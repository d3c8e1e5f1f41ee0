/**
 * Named prepared statements for drizzle's queries on postgres.js.
 *
 * drizzle's postgres.js session runs every query it was not given a name for as
 * `unsafe(text, params, { prepare: false })`, whatever the client's own `prepare` setting
 * (drizzle-orm issue 6096, open in 0.45). postgres.js then sends each query with parameters in two
 * round trips — Parse and Describe, wait for the parameter types, then Bind and Execute — and
 * PostgreSQL parses and plans its text again every time. A sync page runs about ten such
 * statements; on a busy machine each round trip waits for the other process to be scheduled
 * (docs/performance.md).
 *
 * This view of the client prepares them: the first run of a text on a connection is described
 * once, later runs are one round trip and reuse the parsed statement. postgres.js keeps a
 * connection's statements for the connection's life (it never deallocates one), so the number of
 * texts prepared is bounded: past `maxTexts` distinct texts, new texts run unprepared as before.
 * Texts stay few when lists travel as one array parameter (`= any($1::int[])`) rather than one
 * placeholder per item.
 *
 * A request shapes the text of a list's query (which filters, which operators, which sort): a
 * caller can send thousands of shapes. Those queries go through a view of their own, with a budget
 * of its own ({@link MAX_SHAPED_TEXTS}, create-db.ts's `shapedDb`): however many shapes come, the
 * product's fixed queries keep theirs, and no connection holds more than both budgets.
 *
 * Not for PgBouncer in transaction mode before 1.21, which cannot hold named statements:
 * `DATABASE_PREPARED_STATEMENTS=false` turns this off.
 */
import type postgres from 'postgres';
import { clientView } from './client-view.js';

/** Distinct query texts a pool prepares: far more than the product's fixed queries. */
export const MAX_PREPARED_TEXTS = 512;

/** Distinct texts of queries a request shapes (the API's lists) a pool prepares: the common ones. */
export const MAX_SHAPED_TEXTS = 64;

export function preparingStatements(
  client: postgres.Sql,
  maxTexts = MAX_PREPARED_TEXTS,
): postgres.Sql {
  const prepared = new Set<string>();
  const shouldPrepare = (text: string) => {
    if (prepared.has(text)) return true;
    if (prepared.size >= maxTexts) return false;
    prepared.add(text);
    return true;
  };
  return clientView(client, (sql, text, params, options) =>
    sql.unsafe(text, params, {
      ...options,
      prepare: options?.prepare === true || shouldPrepare(text),
    }),
  );
}
