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
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';
import { queueOfName } from '../../../queues/source-queues.js';
import type { ErrorBody } from '../../http-error.js';
import { basicPassword, requestKey, type Caller } from '../../plugins/api-key-auth.js';

export const BULL_BOARD_PATH = '/admin/queues';

export interface BullBoardOptions {
  queues: readonly Queue[];
}

/** bull-board's route of Redis's own figures (INFO): the deployment's, as Redis is. */
const REDIS_STATS_PATH = `${BULL_BOARD_PATH}/api/redis/stats`;

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
