/**
 * `POST /hooks/odoo/<token>`: where Odoo's automation rules ("Send Webhook Notification") post
 * when a record of a family copied changes — a root or one of its children (docs/odoo.md,
 * Webhooks); the event goes to its family by its model. The token in the path is the only
 * credential Odoo can carry, so it is long and random, configured as its SHA-256
 * (`ODOO_WEBHOOK_TOKENS`, several during a rotation) and compared in constant time; a bad one is a
 * 404, like any unknown URL, and counts against the caller's address in the rate limiter. No log
 * line, error or metric label shows the token: the logger masks it (lib/redact-url), the route's
 * metric label is its pattern.
 *
 * The route only queues: Odoo waits at most 1 s for the answer, and posts from inside its
 * transaction, so nothing can be read yet anyway. Events for one root within
 * `ODOO_WEBHOOK_DEBOUNCE_MS` collapse into one job (BullMQ debounce: the last one's data wins).
 * The payload's data is never trusted: it names a record; the job reads it from Odoo. A rule
 * for deletions adds `?event=deleted` to its URL: the job then waits until Odoo confirms the root
 * is gone, and archives it.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import type { Queues } from '../../../queues/queues.js';
import { webhookKey } from '../../../queues/catalogue.js';
import { ODOO_WEBHOOK_PATH_PREFIX } from '../../../lib/redact-url.js';
import type { Families } from '../../../families/registry.js';
import { HttpError } from '../../http-error.js';
import { errorBody } from '../../schemas/common.js';

/** Odoo's payload is an id, a few names and the fields a rule chose: small. */
const BODY_LIMIT_BYTES = 16 * 1024;
/** Without a stamp to wait for, the BC is read once more this much later. */
export const RECHECK_DELAY_MS = 3_000;

export interface OdooWebhookOptions {
  families: Families;
  tokenSha256: readonly string[];
  debounceMs: number;
  queues?: Queues;
  registry: Registry;
}

/** Whether a token is one of the configured ones, in time independent of which (or none). */
export function createWebhookTokenMatcher(tokenSha256: readonly string[]) {
  const digests = tokenSha256.map((hex) => Buffer.from(hex, 'hex'));
  return (token: string): boolean => {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found = false;
    for (const candidate of digests) if (timingSafeEqual(candidate, digest)) found = true;
    return found;
  };
}

const id = z.number().int().positive().max(2_147_483_647);
const payload = z
  .object({
    _model: z.string().max(100),
    _id: id,
    _action: z.string().max(200).optional(),
    /** Sent when the rule includes it: `write_date` as read inside the transaction. */
    write_date: z.string().max(40).optional(),
  })
  .loose();

/** A child's link to its root as the rule sent it (`load=None`: a bare id); else undefined. */
function linkedRoot(value: unknown): number | undefined {
  return id.safeParse(value).success ? (value as number) : undefined;
}

const notFound = (url: string) =>
  new HttpError(404, 'NOT_FOUND', `no route POST ${url.split('?')[0]?.replace(/[^/]+$/, '…')}`);

export const odooWebhookRoutes: FastifyPluginAsyncZod<OdooWebhookOptions> = (app, options) => {
  const matches = createWebhookTokenMatcher(options.tokenSha256);
  const events = new Counter({
    name: 'erp_bridge_webhook_events_total',
    help: 'Odoo webhook events by outcome: queued, deduplicated (folded into a queued job), rejected',
    labelNames: ['outcome'] as const,
    registers: [options.registry],
  });

  app.post(
    `${ODOO_WEBHOOK_PATH_PREFIX}:token`,
    {
      bodyLimit: BODY_LIMIT_BYTES,
      onRequest: (request, _reply, done) => {
        // Before the body is read: a caller without a token learns nothing, not even a 400.
        const token = (request.params as { token?: string }).token ?? '';
        if (token.length > 200 || !matches(token)) {
          events.inc({ outcome: 'rejected' });
          done(notFound(request.url));
          return;
        }
        done();
      },
      schema: {
        tags: ['hooks'],
        summary:
          "Odoo's webhook: a record of a family copied changed (the token is the credential)",
        params: z.object({ token: z.string().max(200) }),
        querystring: z.object({ event: z.enum(['deleted']).optional() }).strict(),
        body: payload,
        response: {
          202: z.object({ queued: z.boolean(), deduplicated: z.boolean() }),
          400: errorBody,
          404: errorBody,
          413: errorBody,
          422: errorBody,
          429: errorBody,
          503: errorBody,
        },
      },
    },
    async (request, reply) => {
      const { queues, families } = options;
      const event = request.body;
      const place = families.ofModel(event._model);
      if (!place) {
        events.inc({ outcome: 'rejected' });
        throw new HttpError(
          422,
          'UNKNOWN_MODEL',
          `webhooks are taken for the models copied (${families.all
            .flatMap((family) => [family.root, ...family.children].map((model) => model.model))
            .join(', ')}), not ${event._model}`,
        );
      }
      if (!queues)
        throw new HttpError(
          503,
          'QUEUE_UNAVAILABLE',
          'this API instance has no job queue configured',
        );
      const { family, child } = place;
      const rootId = child ? linkedRoot(event[child.parentField]) : event._id;
      const data = {
        family: family.name,
        model: event._model,
        recordId: event._id,
        rootId,
        writeDate: event.write_date,
        deleted: request.query.event === 'deleted',
        receivedAtMs: Date.now(),
      };
      // Events for one root collapse, whichever of its records they name.
      const key = webhookKey(
        family.name,
        rootId !== undefined ? { rootId } : { model: event._model, odooId: event._id },
      );
      const jobId = `hook-${key}-${randomUUID()}`;
      let deduplicated: boolean;
      try {
        // A job still waiting for this BC takes the event (for the metric; BullMQ decides).
        deduplicated =
          (await queues.byName['sync-webhook'].getDeduplicationJobId(`hook-${key}`)) !== null;
        await queues.add('webhook-record', data, {
          jobId,
          delay: options.debounceMs,
          deduplication: {
            id: `hook-${key}`,
            ttl: Math.max(options.debounceMs, 1),
            extend: true,
            replace: true,
          },
        });
        if (data.writeDate === undefined && !data.deleted)
          await queues.add('webhook-record', data, {
            jobId: `${jobId}-recheck`,
            delay: options.debounceMs + RECHECK_DELAY_MS,
            deduplication: {
              id: `hook-${key}-recheck`,
              ttl: RECHECK_DELAY_MS,
              extend: true,
              replace: true,
            },
          });
      } catch (error) {
        throw new HttpError(503, 'QUEUE_UNAVAILABLE', 'the job queue (Redis) is not reachable', {
          cause: error,
        });
      }
      events.inc({ outcome: deduplicated ? 'deduplicated' : 'queued' });
      return reply.code(202).send({ queued: true, deduplicated });
    },
  );
  return Promise.resolve();
};
