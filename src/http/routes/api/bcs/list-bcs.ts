/**
 * `/api/bcs`'s list parameters, as the portal has always sent them, mapped onto the BC model's
 * generated list (../models/model-query.ts), which filters, sorts, pages and writes the bodies:
 * `state=a,b` is the state's `in`, `partnerId` the partner's equality, `orderedFrom` and
 * `orderedTo` a range of `date_order`, `q` the BC's declared search (family.ts). Its sorts and
 * cursors are the engine's, under the same names.
 */
import { z } from 'zod';
import { OPERATORS_ONLY } from '../../../plugins/archived-access.js';
import type { Db } from '../../../../db/create-db.js';
import { bcsFamily } from '../../../../families/bcs/family.js';
import { bool } from '../../../records/api-columns.js';
import { boundedPage, type PageQuery } from '../../../records/bounded-page.js';
import { instant, trigramNeedle } from '../../../records/postgres-values.js';
import { bodyFields } from '../../../schemas/common.js';
import { modelList } from '../../../records/model-list.js';

const bcList = modelList(bcsFamily.root);

export const SORT_FIELDS = bcList.sortNames;

const sortValues = [...SORT_FIELDS, ...SORT_FIELDS.map((field) => `-${field}`)] as [
  string,
  ...string[],
];

export const listQuery = z
  .object({
    state: z
      .string()
      .max(200)
      .regex(/^[a-z_ ]+(,[a-z_ ]+)*$/, 'a comma-separated list of states')
      .optional()
      .describe('comma-separated states, e.g. purchase,done'),
    partnerId: z.coerce.number().int().positive().max(2_147_483_647).optional(),
    orderedFrom: instant({ dayAlone: true }).optional().describe('date_order ≥ this'),
    orderedTo: instant({ dayAlone: true }).optional().describe('date_order < this'),
    updatedSince: instant({ dayAlone: false }).optional().describe('Odoo write_date ≥ this'),
    q: trigramNeedle(100)
      .optional()
      .describe(
        'text contained in the name or the origin: three letters or digits in a row at least',
      ),
    active: bool().optional().describe('Odoo active flag'),
    includeArchived: bool()
      .default(false)
      .describe(`include BCs that vanished from Odoo${OPERATORS_ONLY}`),
    sort: z
      .enum(sortValues)
      .default('odooId')
      .describe(`one of ${SORT_FIELDS.join(', ')}; prefix - for descending`),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    // Long enough for the cursor of a name of a few thousand characters.
    cursor: z.string().max(8_192).optional().describe('nextCursor of the previous page'),
    fields: bodyFields,
  })
  .strict();

export type ListQuery = z.infer<typeof listQuery>;

const parameter = {
  state: bcList.parameter('state', 'in'),
  partnerId: bcList.parameter('partner_id'),
  orderedFrom: bcList.parameter('date_order', 'gte'),
  orderedTo: bcList.parameter('date_order', 'lt'),
  q: bcList.parameter('q'),
};

/** The list's page query, unrun (its plan is checked against the indexes in the tests). */
export function listBcsQuery(query: ListQuery): PageQuery {
  const { state, partnerId, orderedFrom, orderedTo, q, ...paging } = query;
  return bcList.pageQuery({
    ...paging,
    [parameter.state]: state?.split(',').map((value) => value.trim()),
    [parameter.partnerId]: partnerId,
    [parameter.orderedFrom]: orderedFrom,
    [parameter.orderedTo]: orderedTo,
    [parameter.q]: q,
  });
}

/**
 * A page of the list within `maxBytes` (bounded-page.ts): its items as JSON text, and the cursor
 * to the next page.
 */
export function listBcs(
  db: Db,
  query: ListQuery,
  maxBytes: number,
): Promise<{ itemsJson: string; nextCursor: string | null }> {
  return boundedPage(db, listBcsQuery(query), maxBytes);
}
