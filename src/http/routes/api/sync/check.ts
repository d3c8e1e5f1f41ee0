/**
 * `GET /api/sync/check` (operator): what `npm run sync -- check --json` prints, for the sources
 * the key reads (`?source=` one of them), Tryton too for a key of every source without
 * `?source=`. The API holds no Odoo credentials: a worker copying each source checks its Odoo
 * (src/http/worker-check.ts); the API checks its own Tryton.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { checkReportSchema, reportOf, type CheckSection } from '../../../../check/check-report.js';
import { SOURCE_NAME } from '../../../../sources/family-key.js';
import { HttpError } from '../../../http-error.js';
import { readsSource, sourceRefused } from '../../../plugins/api-key-auth.js';
import { authErrors, errorBody } from '../../../schemas/common.js';

export const checkRoutes: FastifyPluginAsyncZod<{
  /** The sources whose Odoo may be checked, the default one first. */
  sources: readonly string[];
  /** A source's Odoo, checked by a worker; none without queues. */
  checkOdoo?: (source: string) => Promise<CheckSection>;
  /** The gateway's trytond, checked by this process; none without TRYTON_*. */
  checkTryton?: () => Promise<CheckSection>;
}> = (app, { sources, checkOdoo, checkTryton }) => {
  app.get(
    '/api/sync/check',
    {
      onRequest: app.authorize('operator'),
      schema: {
        tags: ['sync'],
        summary:
          "Each source's Odoo and the Tryton gateway proven before the first copy: a line per check, OK, WARN or FAIL, with what to do (npm run sync -- check --json)",
        querystring: z
          .object({
            source: z
              .string()
              .regex(SOURCE_NAME, 'a source name, e.g. acme')
              .optional()
              .describe(
                "one source's Odoo (and not Tryton); every source the key reads without it",
              ),
          })
          .strict(),
        response: { 200: checkReportSchema, 404: errorBody, 503: errorBody, ...authErrors },
      },
    },
    async (request) => {
      const { caller } = request;
      const { source } = request.query;
      if (source !== undefined && caller && !readsSource(caller, source))
        throw sourceRefused(caller, source);
      if (source !== undefined && !sources.includes(source))
        throw new HttpError(
          404,
          'UNKNOWN_SOURCE',
          `no source ${source} (sources: ${sources.join(', ')})`,
        );
      if (!checkOdoo)
        throw new HttpError(503, 'QUEUES_UNAVAILABLE', 'the job queues are not configured');
      const checked = (source === undefined ? sources : [source]).filter((name) =>
        readsSource(caller, name),
      );
      // The sources at once: one Odoo that hangs costs the request its wait once, not per source.
      const sections: CheckSection[] = await Promise.all(checked.map((name) => checkOdoo(name)));
      // The gateway is the deployment's: a key limited to sources is refused it.
      if (checkTryton && source === undefined && caller?.sources === undefined)
        sections.push(await checkTryton());
      return reportOf(sections);
    },
  );
  return Promise.resolve();
};
