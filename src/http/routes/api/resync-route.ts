/**
 * The route that reads one root record fresh from Odoo (`operator` role of the record's source):
 * the BCs' own (`/api/bcs/{odooId}/resync`) and each root model's of every source
 * (`…/models/{model}/records/{odooId}/resync`) are this one route at their paths.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authErrors, errorBody, positiveId } from '../../schemas/common.js';
import type { SyncControl } from '../../sync-control.js';

type ZodApp = Parameters<FastifyPluginAsyncZod>[0];

/** What a record's resync answers: its job queued (202), or 503 while the queue is away. */
const resyncResponses = {
  202: z.object({ jobId: z.string() }),
  503: errorBody,
  ...authErrors,
};

export function resyncRoute(
  app: ZodApp,
  route: {
    readonly url: string;
    /** The family's key, and its source's name (who may ask). */
    readonly family: string;
    readonly source: string;
    readonly tags: string[];
    readonly summary: string;
    /** What the path's id is, as OpenAPI says it. */
    readonly idDescription: string;
    readonly syncControl: SyncControl;
  },
): void {
  app.post(
    route.url,
    {
      onRequest: app.authorize('operator', route.source),
      schema: {
        tags: route.tags,
        summary: route.summary,
        params: z.object({ odooId: positiveId().describe(route.idDescription) }),
        response: resyncResponses,
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(
          await route.syncControl.requestResync(
            route.family,
            request.params.odooId,
            request.caller?.name,
          ),
        ),
  );
}
