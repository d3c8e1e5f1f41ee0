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
import { bodySizeHint, prerendered, recordJson, type BodyFields } from '../../../record-bodies.js';

/** One BC's body as JSON text. */
export const bcJson = recordJson(bcsFamily.root);

/** One BC's body without `data` (fields=columns). */
export const bcColumnsJson = recordJson(bcsFamily.root, 'columns');

/** One line's body as JSON text, whole or without `data`. */
export const lineJson = (fields: BodyFields) => recordJson(bcsFamily.children[0]!, fields);

/** Lines without a sequence come last, as PostgreSQL sorts nulls. */
export const lineOrder = sql`coalesce(${line.sequence}, 2147483647)`;

/**
 * What a BC detail adds to the BC's object, as JSON text: `,"lines":[…],"linesNextCursor":…`,
 * its first `limit` lines in `lineOrder` and the lines route's cursor (`<sequence>_<odooId>` of
 * the last one) when there are more. The lines stop short of `limit` when their bodies reach what
 * the BC's own body leaves of `maxBytes`, one line at least; as in a list (bounded-page.ts), the
 * bodies of lines past the budget by their stored sizes are never built. A subquery of the
 * BC's own select, so a detail is one round trip to PostgreSQL, not two. Prerendered: in a select
 * list drizzle would leave the columns unqualified, and the correlation to the outer BC would
 * silently compare a line to itself.
 */
export const detailLinesJson = (
  limit: number,
  maxBytes: number,
  fields: BodyFields,
): SQL<string> => {
  const budget = sql`${sql.raw(String(maxBytes))} - octet_length(${fields === 'all' ? bcJson : bcColumnsJson})`;
  const hint = bodySizeHint(bcsFamily.children[0]!, fields);
  const kept = sql`page.body is not null and page.rank <= ${sql.raw(String(limit))}
    and (page.rank = 1 or page.bytes_through <= ${budget})`;
  return prerendered(sql`(
  select ',"lines":[' || coalesce(string_agg(page.body, ',' order by page.rank)
      filter (where ${kept}), '')
    || '],"linesNextCursor":'
    || case when count(*) > count(*) filter (where ${kept})
      then to_json((array_agg(page.cursor order by page.rank desc) filter (where ${kept}))[1])::text
      else 'null' end
  from (
    select ranked.*,
      sum(octet_length(ranked.body) + 1) over (order by ranked.rank rows unbounded preceding)
        as bytes_through
    from (
      select case when sum(${hint}) over lines - ${hint} <= ${budget} then ${lineJson(fields)} end
          as body,
        ${lineOrder}::text || '_' || ${line.odooId} as cursor,
        row_number() over lines as rank
      from ${line}
      where ${line.bcOdooId} = ${bc.odooId}
      window lines as (order by ${lineOrder}, ${line.odooId} rows unbounded preceding)
      order by ${lineOrder}, ${line.odooId}
      limit ${sql.raw(String(limit + 1))}
    ) as ranked
  ) as page)`);
};
