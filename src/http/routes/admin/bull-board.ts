/**
 * bull-board at `/admin/queues`, in its own encapsulated plugin behind HTTP basic auth: any user
 * name, an admin API key as the password. Browsers show their own login prompt for it.
 *
 * One board, shown to each key as its sources allow (docs/sources.md, "Keys limited to sources"):
 * an admin key of every source sees every queue and acts on them (retry, promote, clean, pause…);
 * a key limited to sources sees its sources' queues alone — never another source's, nor the
 * deployment's `feed` queue, nor Redis's details — and changes nothing: every write of the board
 * is refused to it here, before bull-board runs (adding a job or editing a job's data would skip
 * the API's checks, and a retry or a pause has the API's routes), and its queues are listed to it
 * read-only, so that the page offers none of them. Which queues a request sees is bull-board's
 * visibility guard, asked per queue and per request; bull-board answers 404 for a queue it hides,
 * whether it exists or not. Its own `readOnlyMode` is a queue's for every caller, and its server
 * does not hold `allowRetries` (a retry goes through with it off): the refusal is here.
 *
 * What one key can make the API read is bounded as for the API's own routes: each request of the
 * board's API takes one of the key's requests in flight (API_MAX_IN_FLIGHT_PER_KEY), and a read
 * is at most a page of BOARD_PAGE_MAX jobs (of each status, for `latest`) or a flow's one level
 * of children, read BOARD_PAGE_MAX of each kind (pending, done, failed, ignored): bull-board takes
 * any `jobsPerPage`, and reads a flow 10 levels deep unless told, `maxChildren` of each node's
 * children at every level (a run with its pages and their records' jobs would be read whole).
 * The page and its scripts are files, and take no slot: a browser fetches them at once.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';
import { queueOfName } from '../../../queues/source-queues.js';
import type { ErrorBody } from '../../http-error.js';
import { basicPassword, requestKey, type Caller } from '../../../fastify/key-matcher.js';

export const BULL_BOARD_PATH = '/admin/queues';

export interface BullBoardOptions {
  queues: readonly Queue[];
}

/** bull-board's route of Redis's own figures (INFO): the deployment's, as Redis is. */
const REDIS_STATS_PATH = `${BULL_BOARD_PATH}/api/redis/stats`;
/** Where bull-board's API routes are; the rest is its page and the files the page loads. */
const BOARD_API_PATH = `${BULL_BOARD_PATH}/api/`;
const FLOW_PATH = `${BULL_BOARD_PATH}/api/queues/:queueName/:jobId/flow`;

/** The most jobs a board request reads of one queue and status, or of one job's children. */
export const BOARD_PAGE_MAX = 100;
/** Levels of a flow one request reads: a job and its children (the page expands a child by itself). */
const FLOW_DEPTH_MAX = 2;

/** A query value as bull-board reads a number (`Number`: `1e5` is 100000 to it); none: undefined. */
const numberOf = (value: unknown): number | undefined =>
  typeof value === 'string' && value.trim() !== '' ? Number(value) : undefined;

/**
 * The page sizes of a board request, bounded in place (bull-board reads its query from the same
 * object): a size over the bound becomes the bound, as bull-board itself bounds a flow's window;
 * a flow's depth is the bound unless a smaller one is asked. What is no number is left to
 * bull-board's own validation (400, or its default, which is within the bound).
 */
function boundQuery(query: Record<string, unknown>, route: string | undefined): void {
  for (const name of ['jobsPerPage', 'maxChildren']) {
    const asked = numberOf(query[name]);
    if (asked !== undefined && asked > BOARD_PAGE_MAX) query[name] = String(BOARD_PAGE_MAX);
  }
  if (route === FLOW_PATH) {
    const depth = numberOf(query.depth);
    query.depth = String(
      depth !== undefined && Number.isInteger(depth) && depth >= 1
        ? Math.min(depth, FLOW_DEPTH_MAX)
        : FLOW_DEPTH_MAX,
    );
  }
}

/** Whether `caller` sees the queue of this name: its sources' own, or every one when unlimited. */
function shows(caller: Caller | undefined, queueName: string): boolean {
  if (caller === undefined) return false;
  if (caller.sources === undefined) return true;
  const queue = queueOfName(queueName);
  return queue !== undefined && queue.kind !== 'feed' && caller.sources.includes(queue.source);
}

export const bullBoardRoutes: FastifyPluginAsync<BullBoardOptions> = async (app, options) => {
  const challenge = { 'www-authenticate': 'Basic realm="erp-bridge admin", charset="UTF-8"' };
  // Answered here rather than thrown: bull-board's own error handler would reshape the body.
  app.addHook('onRequest', async (request, reply) => {
    const caller = basicPassword(request.headers.authorization) ? app.callerOf(request) : undefined;
    if (!caller) {
      const body: ErrorBody = {
        error: 'UNAUTHORIZED',
        message: 'bull-board needs an admin API key as the basic-auth password',
      };
      return reply.code(401).headers(challenge).send(body);
    }
    if (caller.role !== 'admin') {
      const body: ErrorBody = {
        error: 'FORBIDDEN',
        message: `bull-board needs the admin role; the key "${caller.name}" has ${caller.role}`,
      };
      return reply.code(403).send(body);
    }
    if (caller.sources !== undefined) {
      const writes = request.method !== 'GET' && request.method !== 'HEAD';
      // The route the router chose, never the raw URL: `/api/redis/%73tats` is this route too.
      if (writes || request.routeOptions.url === REDIS_STATS_PATH) {
        const body: ErrorBody = {
          error: 'FORBIDDEN',
          message: `bull-board is read-only, and shows the queues of ${caller.sources.join(', ')} alone, to the key "${caller.name}": it is limited to sources; act through the API's routes (docs/sources.md)`,
        };
        return reply.code(403).send(body);
      }
    }
    request.caller = caller;
    const route = request.routeOptions.url;
    if (!route?.startsWith(BOARD_API_PATH)) return;
    const refused = app.takeInFlight(request, reply, caller);
    if (refused) {
      const body: ErrorBody = { error: refused.code, message: refused.message };
      return reply.code(refused.statusCode).headers(refused.headers).send(body);
    }
    boundQuery(request.query as Record<string, unknown>, route);
  });

  // bull-board hands its guards the request's headers, the same object for every queue it asks
  // about: the key is matched once per request.
  const callers = new WeakMap<object, Caller | null>();
  const callerOf = (headers: Record<string, string | undefined>): Caller | undefined => {
    let caller = callers.get(headers);
    if (caller === undefined) {
      const key = requestKey({ headers });
      caller = (key === undefined ? undefined : app.identify(key)) ?? null;
      callers.set(headers, caller);
    }
    return caller ?? undefined;
  };
  const adapters = options.queues.map((queue) => {
    const adapter = new BullMQAdapter(queue);
    adapter.setVisibilityGuard((request) => shows(callerOf(request.headers), queue.name));
    return adapter;
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: adapters,
    serverAdapter,
    options: {
      uiConfig: { boardTitle: 'erp-bridge' },
      handlerHooks: {
        // The queues of a key limited to sources, listed read-only: the page offers no write.
        after: (context, result) => {
          if (context.route !== '/api/queues' || !callerOf(context.request.headers)?.sources)
            return result;
          const body = result.body as { queues?: object[] };
          return {
            ...result,
            body: {
              ...body,
              queues: (body.queues ?? []).map((queue) => ({
                ...queue,
                readOnlyMode: true,
                allowRetries: false,
                allowCompletedRetries: false,
              })),
            },
          };
        },
      },
    },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
};
