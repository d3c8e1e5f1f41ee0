/**
 * `GET /api/changes/stream`: the change feed as server-sent events, for a browser's EventSource or
 * a light consumer. Each change is an event `change` whose id is its position; a client that
 * reconnects sends the last one as `Last-Event-ID` and resumes right after it, seeing each change
 * once. When a filter skips changes, a bare `id:` line moves the client's last id past them, and a
 * comment every 15 s keeps proxies from closing a quiet stream. Woken when a writer commits; no
 * tight poll. A position older than the retention is a 410 before the stream starts, or an event
 * `gone` that ends it.
 *
 * The stream holds one of its key's requests in flight until it closes (API_MAX_IN_FLIGHT_PER_KEY),
 * and a database connection only while it reads.
 */
import { PassThrough } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../../../db/create-db.js';
import type { Families } from '../../../../families/registry.js';
import { positionSchema, toChangeBody } from '../../../../feed/change-body.js';
import { FeedPositionGoneError } from '../../../../feed/feed-errors.js';
import type { FeedSignal } from '../../../../feed/feed-signal.js';
import {
  comparePositions,
  decodePosition,
  encodePosition,
  type FeedPosition,
} from '../../../../feed/position.js';
import {
  readChanges,
  readHead,
  refusePastHead,
  type FeedFilter,
  type FeedPage,
} from '../../../../feed/read-changes.js';
import { authErrors } from '../../../schemas/common.js';
import {
  badPosition,
  filterOf,
  filterQuery,
  goneBody,
  positionParameter,
  sendGone,
} from './feed-query.js';

/** A quiet stream sends a comment this often. */
const HEARTBEAT_MS = 15_000;
/** Changes per read. */
const STREAM_PAGE = 200;
/** How long a browser waits before it reconnects (the `retry` field). */
const RECONNECT_MS = 3_000;
/** Committed changes held back behind a running transaction are read again this soon. */
const HELD_BACK_MS = 250;

export interface StreamOptions {
  /** Where the changes are read: the replica when the API has one. */
  readonly db: Db;
  /** The primary: a position past the replica's head is judged against its head. */
  readonly primary: Db;
  readonly families: Families;
  readonly signal: FeedSignal;
  /** Aborted when the app closes: every stream ends. */
  readonly closing: AbortSignal;
}

const changeEvent = (page: FeedPage) =>
  page.changes
    .map(
      (change) =>
        `id: ${encodePosition(change.position)}\nevent: change\ndata: ${JSON.stringify(toChangeBody(change))}\n\n`,
    )
    .join('');

export const changeStreamRoute: FastifyPluginAsyncZod<StreamOptions> = (app, options) => {
  const { db, families, signal } = options;
  app.get(
    '/api/changes/stream',
    {
      onRequest: app.authorize('reader'),
      schema: {
        tags: ['changes'],
        summary: 'The changes as server-sent events, resumable with Last-Event-ID',
        description:
          'Events `change` (data: a Change, id: its position), in commit order. Reconnect with `Last-Event-ID` (EventSource does) to resume right after the last event seen; without it and without `after`, the stream starts now. A bare `id:` line moves the last id past changes a filter skipped. An event `gone` (data: oldest, head) ends a stream whose position fell behind the retention.',
        headers: z.object({
          'last-event-id': positionSchema
            .optional()
            .describe('the id of the last event received: the stream resumes right after it'),
        }),
        querystring: z
          .object({
            after: positionParameter
              .optional()
              .describe('start after this position (default: now)'),
            ...filterQuery,
          })
          .strict(),
        response: {
          200: {
            description: 'text/event-stream',
            content: { 'text/event-stream': { schema: z.string() } },
          },
          410: goneBody,
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { filter } = filterOf(families, request.query, request.caller);
      const lastEventId = request.headers['last-event-id'];
      const start =
        (lastEventId === undefined ? undefined : decodePosition(lastEventId)) ??
        request.query.after ??
        (await readHead(db));
      await signal.start();
      const seen = signal.generation();
      let first: FeedPage;
      try {
        first = await readChanges(db, start, filter, STREAM_PAGE);
      } catch (error) {
        if (error instanceof FeedPositionGoneError) return sendGone(reply, error);
        throw error;
      }
      await refusePastHead(options.primary, start, first.head).catch(
        badPosition(lastEventId === undefined ? 'after' : 'last-event-id'),
      );
      const out = new PassThrough();
      const ended = new AbortController();
      reply.raw.once('close', () => ended.abort());
      const abort = AbortSignal.any([ended.signal, options.closing]);
      abort.addEventListener('abort', () => out.end(), { once: true });
      void follow({ db, filter, signal, out, abort }, start, first, seen).catch(
        (error: unknown) => {
          request.log.warn({ err: error }, 'change stream ended on an error');
          out.end();
        },
      );
      return (
        reply
          .header('content-type', 'text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache, no-transform')
          .header('x-accel-buffering', 'no')
          // The schema types the body as the text it streams; Fastify pipes the stream as is.
          .send(out as unknown as string)
      );
    },
  );
  return Promise.resolve();
};

interface Follow {
  readonly db: Db;
  readonly filter: FeedFilter;
  readonly signal: FeedSignal;
  readonly out: PassThrough;
  readonly abort: AbortSignal;
}

/** Writes the stream: each page of changes, then waits for the next commit or a heartbeat. */
async function follow(
  { db, filter, signal, out, abort }: Follow,
  start: FeedPosition,
  first: FeedPage,
  firstSeen: number,
): Promise<void> {
  const write = async (text: string) => {
    if (!out.write(text) && !abort.aborted)
      await new Promise<void>((resolve) => {
        out.once('drain', resolve);
        abort.addEventListener('abort', () => resolve(), { once: true });
      });
  };
  await write(`retry: ${RECONNECT_MS}\n\n`);
  let page = first;
  let seen = firstSeen;
  let lastId = start;
  let quietSinceMs = Date.now();
  for (;;) {
    if (abort.aborted) return;
    if (page.changes.length > 0) {
      await write(changeEvent(page));
      lastId = page.changes.at(-1)!.position;
      quietSinceMs = Date.now();
    }
    if (page.changes.length < STREAM_PAGE) {
      const heartbeatDue = Date.now() - quietSinceMs >= HEARTBEAT_MS;
      if (heartbeatDue) {
        // Past what a filter skipped: a reconnect resumes there, not before.
        const moved = comparePositions(page.next, lastId) > 0;
        await write(moved ? `id: ${encodePosition(page.next)}\n\n` : ': keep-alive\n\n');
        if (moved) lastId = page.next;
        quietSinceMs = Date.now();
      }
      await signal.wait(
        seen,
        page.heldBack ? HELD_BACK_MS : HEARTBEAT_MS - (Date.now() - quietSinceMs),
        abort,
      );
    }
    if (abort.aborted) return;
    seen = signal.generation();
    try {
      page = await readChanges(db, page.next, filter, STREAM_PAGE);
    } catch (error) {
      if (!(error instanceof FeedPositionGoneError)) throw error;
      await write(
        `event: gone\ndata: ${JSON.stringify({ oldest: encodePosition(error.oldest), head: encodePosition(error.head) })}\n\n`,
      );
      out.end();
      return;
    }
  }
}
