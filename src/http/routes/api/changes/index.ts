/**
 * The change feed (docs/feed.md): every change the copy commits, in commit order, with a position
 * to continue from. `GET /api/changes` pulls a page (and long-polls with `wait`), `/stream` is the
 * same as server-sent events, `/head` the position of now; `/subscriptions` (admin) are the
 * receivers it is pushed to. Reader role for the first three.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../../../db/create-db.js';
import type { Families } from '../../../../families/registry.js';
import { changeBodySchema, positionSchema, toChangeBody } from '../../../../feed/change-body.js';
import { FeedPositionGoneError } from '../../../../feed/feed-errors.js';
import type { FeedSignal } from '../../../../feed/feed-signal.js';
import { encodePosition } from '../../../../feed/position.js';
import {
  readChanges,
  readHead,
  readHorizon,
  refusePastHead,
} from '../../../../feed/read-changes.js';
import type { Queues } from '../../../../queues/queues.js';
import { authErrors, pageLimit } from '../../../schemas/common.js';
import {
  badPosition,
  filterOf,
  filterQuery,
  goneBody,
  positionParameter,
  sendGone,
} from './feed-query.js';
import { changeStreamRoute } from './stream.js';
import type { SubscriptionSecrets } from '../../../../feed/secret.js';
import { subscriptionRoutes } from './subscriptions.js';

export interface ChangesRoutesOptions {
  /** Where the subscriptions are written. */
  readonly db: Db;
  /**
   * Where the changes are read: the replica of `db` when the API has one. The head, the horizon
   * and the pages come from one server, so a position it hands out is one its reads agree with.
   */
  readonly readDb: Db;
  readonly families: Families;
  /** Wakes waiting requests when the copy commits. */
  readonly signal: FeedSignal;
  /** To wake a replayed subscription's delivery at once; the pump does it within 10 s without. */
  readonly queues?: Queues;
  /** Seals a new subscription's secret (FEED_SECRET_KEY). */
  readonly secrets: SubscriptionSecrets;
}

/** The longest a request waits for a change (below the usual 60 s of proxies' idle timeouts). */
export const MAX_WAIT_SECONDS = 30;
/** Changes held back behind a running transaction: read again this soon, then less often. */
const HELD_BACK_FIRST_MS = 100;
const HELD_BACK_MAX_MS = 1_000;

export const changesRoutes: FastifyPluginAsyncZod<ChangesRoutesOptions> = async (app, options) => {
  const { readDb, families, signal } = options;
  const reader = app.authorize('reader');
  // Requests waiting for a change end at once when the app closes (they answer what they have).
  const closing = new AbortController();
  app.addHook('preClose', (done) => {
    closing.abort();
    done();
  });
  app.addHook('onClose', async () => {
    await signal.close();
  });

  app.get(
    '/api/changes',
    {
      onRequest: reader,
      schema: {
        tags: ['changes'],
        summary: 'The changes the copy committed after a position, in commit order',
        description:
          'Every change of the copy — created, updated (with its fields), archived, restored, a child deleted, drift healed — in commit order: a consumer that read up to `next` never later finds a change before it. Keep `next` and ask again with `after=next`; with `wait`, the answer waits for a change (woken when a writer commits). A position older than the retention answers 410: read the copy again, then follow the feed from `head`.',
        querystring: z
          .object({
            after: positionParameter
              .optional()
              .describe(
                "a position the feed gave (`next`, a change's `position`); the oldest change kept without it",
              ),
            ...filterQuery,
            limit: pageLimit(100, 1_000),
            wait: z.coerce
              .number()
              .int()
              .min(0)
              .max(MAX_WAIT_SECONDS)
              .default(0)
              .describe(
                `seconds to wait for a change when there is none yet (0–${MAX_WAIT_SECONDS})`,
              ),
          })
          .strict(),
        response: {
          200: z.object({
            changes: z.array(changeBodySchema),
            next: positionSchema.describe('ask again after this position'),
            heldBack: z
              .boolean()
              .describe(
                'changes are committed after `next` but wait for an older transaction to end: ask again shortly',
              ),
          }),
          410: goneBody,
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { filter } = filterOf(families, request.query, request.caller);
      const { limit, wait } = request.query;
      await signal.start();
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const abort = AbortSignal.any([gone.signal, closing.signal]);
      const deadlineMs = Date.now() + wait * 1_000;
      let after = request.query.after ?? (await readHorizon(readDb));
      let heldBackMs = HELD_BACK_FIRST_MS;
      try {
        for (let read = 0; ; read += 1) {
          const seen = signal.generation();
          const page = await readChanges(readDb, after, filter, limit);
          // The client's position, once; every later one is a `next` this read gave.
          if (read === 0)
            await refusePastHead(options.db, after, page.head).catch(badPosition('after'));
          const leftMs = deadlineMs - Date.now();
          if (page.changes.length > 0 || leftMs <= 0 || abort.aborted)
            return {
              changes: page.changes.map(toChangeBody),
              next: encodePosition(page.next),
              heldBack: page.heldBack,
            };
          after = page.next;
          // Woken by the next commit; committed changes held back are read again shortly.
          await signal.wait(seen, page.heldBack ? Math.min(leftMs, heldBackMs) : leftMs, abort);
          heldBackMs = page.heldBack
            ? Math.min(HELD_BACK_MAX_MS, heldBackMs * 2)
            : HELD_BACK_FIRST_MS;
        }
      } catch (error) {
        if (error instanceof FeedPositionGoneError) return sendGone(reply, error);
        throw error;
      }
    },
  );

  app.get(
    '/api/changes/head',
    {
      onRequest: reader,
      schema: {
        tags: ['changes'],
        summary: 'The position of now: follow the feed from here to get only changes to come',
        description:
          'Take it before reading the copy in full (a first load, a resync), then follow the feed from it: no change made meanwhile is missed (some may come twice).',
        response: {
          200: z.object({
            position: positionSchema,
            oldest: positionSchema.describe('the oldest position the feed still answers from'),
          }),
          ...authErrors,
        },
      },
    },
    async () => ({
      position: encodePosition(await readHead(readDb)),
      oldest: encodePosition(await readHorizon(readDb)),
    }),
  );

  await app.register(changeStreamRoute, {
    db: readDb,
    primary: options.db,
    families,
    signal,
    closing: closing.signal,
  });
  await app.register(subscriptionRoutes, {
    db: options.db,
    families,
    secrets: options.secrets,
    ...(options.queues ? { queues: options.queues } : {}),
  });
};
