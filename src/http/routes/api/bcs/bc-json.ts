/**
 * The BC and line bodies (the shapes `bcSchema` and `bcLineSchema` describe), built by PostgreSQL
 * as JSON text from the BC family's declaration (record-bodies.ts), and a BC detail's first page
 * of lines.
 */
import { sql, type SQL } from 'drizzle-orm';
import { bcsFamily } from '../../../../families/bcs/family.js';
import {
  scrapDimagazBc as bc,
  scrapDimagazBcLine as line,
} from '../../../../families/bcs/tables.js';
import { prerendered, recordJson } from '../../../record-bodies.js';

/** One BC's body as JSON text. */
export const bcJson = recordJson(bcsFamily.root);

/** One line's body as JSON text. */
export const lineJson = recordJson(bcsFamily.children[0]!);

/** `[a,b,…]` from JSON texts. */
export const jsonArray = (items: readonly string[]): string => `[${items.join(',')}]`;

/** Lines without a sequence come last, as PostgreSQL sorts nulls. */
export const lineOrder = sql`coalesce(${line.sequence}, 2147483647)`;

/**
 * What a BC detail adds to the BC's object, as JSON text: `,"lines":[…],"linesNextCursor":…`,
 * its first `limit` lines in `lineOrder` and the lines route's cursor (`<sequence>_<odooId>` of
 * the last one) when there are more. A subquery of the BC's own select, so a detail is one round
 * trip to PostgreSQL, not two. Prerendered: in a select list drizzle would leave the columns
 * unqualified, and the correlation to the outer BC would silently compare a line to itself.
 */
export const detailLinesJson = (limit: number): SQL<string> =>
  prerendered(sql`(
  select ',"lines":[' || coalesce(string_agg(page.body, ',' order by page.rank)
      filter (where page.rank <= ${sql.raw(String(limit))}), '')
    || '],"linesNextCursor":'
    || case when count(*) > ${sql.raw(String(limit))}
      then to_json(max(page.cursor) filter (where page.rank = ${sql.raw(String(limit))}))::text
      else 'null' end
  from (
    select ${lineJson} as body,
      ${lineOrder}::text || '_' || ${line.odooId} as cursor,
      row_number() over (order by ${lineOrder}, ${line.odooId}) as rank
    from ${line}
    where ${line.bcOdooId} = ${bc.odooId}
    order by ${lineOrder}, ${line.odooId}
    limit ${sql.raw(String(limit + 1))}
  ) as page)`);
