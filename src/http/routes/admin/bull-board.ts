/**
 * bull-board at `/admin/queues`, in its own encapsulated plugin behind HTTP basic auth: any user
 * name, an admin API key as the password. Browsers show their own login prompt for it.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';
import type { ErrorBody } from '../../http-error.js';
import { basicPassword } from '../../plugins/api-key-auth.js';

export const BULL_BOARD_PATH = '/admin/queues';

export interface BullBoardOptions {
  queues: readonly Queue[];
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
    request.caller = caller;
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: options.queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'erp-bridge' } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
};
