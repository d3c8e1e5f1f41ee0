/**
 * The change feed's subscriptions (admin): list them with how far behind each is, create one (its
 * secret is answered once, never again), replay one from a position (a dead letter's, a receiver's
 * request, the oldest change kept), delete one. Subscriptions of FEED_SUBSCRIPTIONS_FILE are the
 * file's: listed and replayed here, changed and deleted there.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SUBSCRIPTION_NAME, receiverUrl } from '../../../../config/feed-subscriptions-file.js';
import type { Db } from '../../../../db/create-db.js';
import type { Families } from '../../../../families/registry.js';
import { EVERY_SOURCE, splitFamilyKey } from '../../../../sources/family-key.js';
import { FeedPositionError } from '../../../../feed/position.js';
import { generateSecret, secretProblem } from '../../../../feed/secret.js';
import { viewSubscription, viewSubscriptions } from '../../../../feed/subscription-status.js';
import {
  createSubscription,
  deleteSubscription,
  readSubscription,
  replaySubscription,
  SubscriptionError,
} from '../../../../feed/subscriptions.js';
import { nudgeDeliveries } from '../../../../queues/feed-nudge.js';
import type { Queues } from '../../../../queues/queues.js';
import { AppError } from '../../../../lib/errors.js';
import type { SubscriptionSecrets } from '../../../../feed/secret.js';
import { HttpError } from '../../../http-error.js';
import { readsSource } from '../../../plugins/api-key-auth.js';
import { type Caller } from '../../../../fastify/key-matcher.js';
import { authErrors, errorBody } from '../../../schemas/common.js';
import {
  filterOf,
  startSchema,
  subscriptionSchema,
  toStart,
  toSubscriptionBody,
} from './feed-query.js';

export interface SubscriptionRoutesOptions {
  readonly db: Db;
  readonly families: Families;
  readonly queues?: Queues;
  /** Seals a new subscription's secret (FEED_SECRET_KEY). */
  readonly secrets: SubscriptionSecrets;
}

const nameParams = z.object({
  name: z.string().regex(SUBSCRIPTION_NAME, 'a subscription name'),
});

const notFound = (name: string) =>
  new HttpError(404, 'FEED_SUBSCRIPTION_NOT_FOUND', `no subscription named "${name}"`);

/** The subscription errors a client can act on, as answers. */
function asHttpError(error: unknown): unknown {
  if (error instanceof AppError && error.code === 'FEED_SECRET_KEY_MISSING')
    return new HttpError(409, error.code, error.message, { cause: error });
  if (error instanceof SubscriptionError)
    return new HttpError(409, error.code, error.message, { cause: error });
  if (error instanceof FeedPositionError)
    return new HttpError(400, 'BAD_REQUEST', `from: ${error.message}`, { cause: error });
  return error;
}

/**
 * Why a key limited to sources may not take this name, if it may not: a subscription's name is
 * the deployment's (unique across sources), so such a key takes names in its sources' own,
 * `<source>-…`, which another source's key cannot. A name taken (a 409) is then one of its own
 * sources' names, never news of another source's subscription (docs/sources.md).
 */
function namespaceProblem(caller: Caller | undefined, name: string): string | undefined {
  if (caller?.sources === undefined) return undefined;
  if (caller.sources.some((source) => name.startsWith(`${source}-`))) return undefined;
  return `the key "${caller.name}" is limited to sources: it names its subscriptions after one of them (${caller.sources.map((source) => `${source}-…`).join(', ')})`;
}

export const subscriptionRoutes: FastifyPluginAsyncZod<SubscriptionRoutesOptions> = (
  app,
  { db, families, queues, secrets },
) => {
  const admin = app.authorize('admin');
  const wake = async (id: number) => {
    if (queues) await nudgeDeliveries({ db, queues }, id);
  };
  /**
   * Whether a key limited to sources sees a subscription (docs/sources.md): one that follows its
   * sources alone, never one of every source.
   */
  const seenBy = (
    caller: Caller | undefined,
    followed: { readonly sources: readonly string[]; readonly families: readonly string[] },
  ) =>
    caller?.sources === undefined ||
    (followed.sources.every((source) => readsSource(caller, source)) &&
      followed.families.every((family) => readsSource(caller, splitFamilyKey(family).source)));
  /** The subscription of that name, as the caller may see it: 404 for one it may not. */
  const visible = async (request: FastifyRequest, name: string) => {
    const row = await readSubscription(db, { name });
    if (!row || !seenBy(request.caller, row)) throw notFound(name);
    return row;
  };

  app.get(
    '/api/changes/subscriptions',
    {
      onRequest: admin,
      schema: {
        tags: ['changes'],
        summary: 'The subscriptions the feed is pushed to, with how far behind each is',
        response: { 200: z.object({ items: z.array(subscriptionSchema) }), ...authErrors },
      },
    },
    async (request) => ({
      items: (await viewSubscriptions(db))
        .filter((view) => seenBy(request.caller, view))
        .map(toSubscriptionBody),
    }),
  );

  app.get(
    '/api/changes/subscriptions/:name',
    {
      onRequest: admin,
      schema: {
        tags: ['changes'],
        summary: 'One subscription',
        params: nameParams,
        response: { 200: subscriptionSchema, 404: errorBody, ...authErrors },
      },
    },
    async (request) =>
      toSubscriptionBody(await viewSubscription(db, await visible(request, request.params.name))),
  );

  app.post(
    '/api/changes/subscriptions',
    {
      onRequest: admin,
      schema: {
        tags: ['changes'],
        summary: 'Subscribe a receiver: each change is POSTed to it as a signed Standard Webhook',
        description:
          "Deliveries follow the Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature; verify them with the standardwebhooks library and the secret). In commit order, retried with backoff, at least once: deduplicate on each change's `id`. The secret is in this answer only.",
        body: z
          .object({
            name: z.string().regex(SUBSCRIPTION_NAME, 'lowercase letters, digits, - or _'),
            url: receiverUrl,
            secret: z
              .string()
              .optional()
              .describe('a whsec_ secret of your own; one is made when left out'),
            sources: z
              .array(z.string().max(64))
              .max(64)
              .default([])
              .describe(
                `the Odoo sources whose changes it takes, or [${EVERY_SOURCE}] for every source, those added later too; without it, the default source's alone (a key limited to sources: its sources')`,
              ),
            families: z.array(z.string()).max(64).default([]),
            models: z.array(z.string()).max(256).default([]),
            from: startSchema.default('now'),
          })
          .strict(),
        response: {
          201: z.object({
            subscription: subscriptionSchema,
            secret: z.string().describe('the signing secret: shown once, keep it'),
          }),
          409: errorBody,
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { name, url, sources: named, families: wanted, models, from } = request.body;
      const unnamed = namespaceProblem(request.caller, name);
      if (unnamed) throw new HttpError(400, 'BAD_REQUEST', `body.name: ${unnamed}`);
      const chosen = filterOf(
        families,
        { source: named, family: wanted, model: models },
        request.caller,
      );
      // The sources are kept by name, as chosen now: a source added later joins only a
      // subscription of every source, and a key limited to sources subscribes to its own.
      const sources =
        chosen.everySource && request.caller?.sources === undefined
          ? [EVERY_SOURCE]
          : chosen.sources;
      // Families named are each source's of that name, as on a pull; none: every family of the
      // sources, those added later too.
      const subscribed = wanted.length > 0 ? chosen.filter.families : [];
      const secret = request.body.secret ?? generateSecret();
      const problem = secretProblem(secret);
      if (problem) throw new HttpError(400, 'BAD_REQUEST', `body.secret: ${problem}`);
      const row = await createSubscription(
        db,
        { name, url, secret, sources, families: subscribed, models },
        toStart(from),
        secrets,
      ).catch((error: unknown) => {
        throw asHttpError(error);
      });
      await wake(row.id);
      return reply
        .code(201)
        .send({ subscription: toSubscriptionBody(await viewSubscription(db, row)), secret });
    },
  );

  app.post(
    '/api/changes/subscriptions/:name/replay',
    {
      onRequest: admin,
      schema: {
        tags: ['changes'],
        summary: "Deliver again from a position: after a dead letter, a receiver's loss, a resync",
        params: nameParams,
        body: z.object({ from: startSchema }).strict(),
        response: { 200: subscriptionSchema, 404: errorBody, ...authErrors },
      },
    },
    async (request) => {
      await visible(request, request.params.name);
      const row = await replaySubscription(
        db,
        request.params.name,
        toStart(request.body.from),
      ).catch((error: unknown) => {
        throw asHttpError(error);
      });
      if (!row) throw notFound(request.params.name);
      await wake(row.id);
      return toSubscriptionBody(await viewSubscription(db, row));
    },
  );

  app.delete(
    '/api/changes/subscriptions/:name',
    {
      onRequest: admin,
      schema: {
        tags: ['changes'],
        summary: 'Delete a subscription made through the API',
        params: nameParams,
        response: { 204: z.null(), 404: errorBody, 409: errorBody, ...authErrors },
      },
    },
    async (request, reply) => {
      await visible(request, request.params.name);
      const deleted = await deleteSubscription(db, request.params.name).catch((error: unknown) => {
        throw asHttpError(error);
      });
      if (!deleted) throw notFound(request.params.name);
      return reply.code(204).send(null);
    },
  );
  return Promise.resolve();
};
