/** Schemas shared by every route: the error body and the answers of 4xx statuses. */
import { z } from 'zod';

export const errorBody = z
  .object({
    error: z.string().describe('stable error code'),
    message: z.string(),
    requestId: z.string().optional().describe('on a 5xx: the request id to find in the log'),
  })
  .describe('Error');

/** The error answers every authenticated route may give. */
export const authErrors = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  429: errorBody,
} as const;

/** A positive id that fits PostgreSQL's `integer`, so no forged value reaches a query. */
export const positiveId = () => z.coerce.number().int().positive().max(2_147_483_647);

export const odooIdParams = z.object({
  odooId: positiveId().describe('the Odoo id of the BC'),
});

export const pageLimit = (defaultLimit: number, maxLimit: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(maxLimit)
    .default(defaultLimit)
    .describe(`page size (1–${maxLimit})`);

/** What of each record an answer holds: `columns` leaves out `data`, the record as Odoo sent it. */
export const bodyFields = z
  .enum(['all', 'columns'])
  .default('all')
  .describe(
    'all: every typed column and data, the record as Odoo sent it; columns: the typed columns without data (lighter pages)',
  );
