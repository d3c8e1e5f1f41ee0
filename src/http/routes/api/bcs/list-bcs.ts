/**
 * `/api/bcs`'s list parameters, as the portal has always sent them, mapped onto the BC model's
 * list (src/http/records/model-list.ts), which the read engine filters, sorts, pages and writes:
 * `state=a,b` is the state's `in`, `partnerId` the partner's equality, `orderedFrom` and
 * `orderedTo` a range of `date_order`, `q` the BC's declared search (family.ts). Its sorts and
 * cursors are the engine's, under the same names.
 */
import { z } from 'zod';
import { OPERATORS_ONLY } from '../../../plugins/archived-access.js';
import { bcsFamily } from '../../../../families/bcs/family.js';
import { bool } from '../../../records/api-columns.js';
import type { PageQuery } from '../../../records/bounded-page.js';
import {
  modelList,
  pagingQuery,
  type ListQuery as ModelQuery,
} from '../../../records/model-list.js';
import { instant, trigramNeedle } from '../../../records/postgres-values.js';

const bcList = modelList(bcsFamily.root);

export const SORT_FIELDS = bcList.sortNames;

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
    ...pagingQuery(SORT_FIELDS),
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

/** The BC list's parameters as the BC model's list takes them. */
export function bcModelQuery(query: ListQuery): ModelQuery {
  const { state, partnerId, orderedFrom, orderedTo, q, ...paging } = query;
  return {
    ...paging,
    [parameter.state]: state?.split(',').map((value) => value.trim()),
    [parameter.partnerId]: partnerId,
    [parameter.orderedFrom]: orderedFrom,
    [parameter.orderedTo]: orderedTo,
    [parameter.q]: q,
  };
}

/** The list's page query, unrun, as the reader runs it (its plan is checked in the tests). */
export const listBcsQuery = (query: ListQuery): PageQuery => bcList.pageQuery(bcModelQuery(query));
