/**
 * `POST /hooks/odoo/<token>`: where Odoo's automation rules ("Send Webhook Notification") post
 * when a record of a family copied changes — a root or one of its children (docs/odoo.md,
 * Webhooks); the event goes to its family by its model. The token in the path is the only
 * credential Odoo can carry, so it is long and random, configured as its SHA-256
 * (`ODOO_WEBHOOK_TOKENS`, several during a rotation) and compared in constant time; a bad one is a
 * 404, like any unknown URL, and counts against the caller's address in the rate limiter. Each
 * source's Odoo posts with tokens of its own (its `webhookTokens`, docs/sources.md): the token says
 * which source's copy of the model the event is for. No log
 * line, error or metric label shows the token: the logger masks it (lib/redact-url), the route's
 * metric label is its pattern.
 *
 * The route keeps the event in PostgreSQL's webhook inbox, then queues its jobs
 * (src/queues/webhook-jobs.ts), and answers: Odoo waits at most 1 s for the answer, and posts from
 * inside its transaction, so nothing can be read yet anyway. Odoo never sends an event again: the
 * inbox keeps it until a read has shown its change, and a worker queues it again if Redis lost
 * its job, was away when it came, or the transaction committed late (src/sync/webhook-inbox.ts).
 * Only a PostgreSQL away makes the answer a 503. The payload's data is never trusted: it names a
 * record; the job reads it from Odoo. A rule for deletions adds `?event=deleted` to its URL: the
 * job then waits until Odoo confirms the root is gone, and archives it.
 *
 * What one source's token can cost the others: nothing. Each source's tokens have their own rate
 * bucket (src/http/app.ts), its events their own queues and bound in the inbox (inbox-bound.ts:
 * past it, a 429 `WEBHOOK_INBOX_FULL`). A stamp is Odoo's `write_date` form or the request is a
 * 400; a stamp later than the API's clock by more than the skew the sync allows between clocks
 * (src/sync/settled.ts) is one no transaction can carry — Odoo reads it inside the transaction,
 * before it posts — so the event is kept without it, and read twice as an event without a stamp
 * is: a job never waits, and no event stays unsettled, for a stamp that cannot come. Refusing it
 * instead would drop a real event from an Odoo whose clock runs ahead.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import type { Db } from '../../../db/create-db.js';
import type { Queues } from '../../../queues/queues.js';
import { queueWebhookEvent } from '../../../queues/webhook-jobs.js';
import { countKeptWebhooks, keepWebhook, markNotQueued } from '../../../sync/webhook-inbox.js';
import { CLOCK_SKEW_MARGIN_SECONDS } from '../../../sync/settled.js';
import { ODOO_WEBHOOK_PATH_PREFIX } from '../../../lib/redact-url.js';
import type { Families } from '../../../families/registry.js';
import { familyModels } from '../../../families/family.js';
import { DEFAULT_SOURCE, splitFamilyKey } from '../../../sources/family-key.js';
import { HttpError } from '../../http-error.js';
import { errorBody } from '../../schemas/common.js';
import { createInboxBound } from './inbox-bound.js';

/** The route as the router knows it (`request.routeOptions.url`): the token is its parameter. */
export const ODOO_WEBHOOK_ROUTE = `${ODOO_WEBHOOK_PATH_PREFIX}:token`;

/** Odoo's payload is an id, a few names and the fields a rule chose: small. */
const BODY_LIMIT_BYTES = 16 * 1024;

/** A token Odoo posts with, as its SHA-256, and the source whose Odoo it is given to. */
export interface WebhookToken {
  readonly source: string;
  readonly sha256: string;
}

export interface OdooWebhookOptions {
  db: Db;
  families: Families;
  tokens: readonly WebhookToken[];
  debounceMs: number;
  /** ODOO_WEBHOOK_INBOX_MAX_EVENTS: events of one source kept at most. */
  inboxMaxEvents: number;
  queues?: Queues;
  registry: Registry;
}

/**
 * The source of a token that is one of the configured ones (undefined for none), in time
 * independent of which.
 */
export function createWebhookTokenMatcher(tokens: readonly WebhookToken[]) {
  const digests = tokens.map((token) => ({
    source: token.source,
    digest: Buffer.from(token.sha256, 'hex'),
  }));
  return (token: string): string | undefined => {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: string | undefined;
    for (const candidate of digests)
      if (timingSafeEqual(candidate.digest, digest)) found = candidate.source;
    return found;
  };
}

const id = z.number().int().positive().max(2_147_483_647);
const ODOO_STAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?$/;

/**
 * Whether a stamp of Odoo's form names an instant: `9999-99-99 99:99:99` has the form, parses to
 * nothing, and would be read again for half an hour, shown by no record.
 */
function isCalendarStamp(stamp: string): boolean {
  const parts = ODOO_STAMP.exec(stamp);
  if (!parts) return false;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const at = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    at.getUTCFullYear() === year &&
    at.getUTCMonth() === month - 1 &&
    at.getUTCDate() === day &&
    at.getUTCHours() === hour &&
    at.getUTCMinutes() === minute &&
    at.getUTCSeconds() === second
  );
}
const payload = z
  .object({
    _model: z.string().max(100),
    _id: id,
    _action: z.string().max(200).optional(),
    /** Sent when the rule includes it: `write_date` as read inside the transaction, in UTC. */
    write_date: z
      .string()
      .regex(ODOO_STAMP, { error: "write_date is not Odoo's form (YYYY-MM-DD HH:MM:SS[.ffffff])" })
      .refine(isCalendarStamp, {
        error:
          'write_date is no date and time of the calendar (a month, day, hour or minute out of range)',
      })
      .optional(),
  })
  .loose();

/** Whether a stamp is later than `nowMs` by more than the skew allowed between clocks. */
const pastAnyClock = (stamp: string, nowMs: number) =>
  Date.parse(`${stamp.replace(' ', 'T')}Z`) > nowMs + CLOCK_SKEW_MARGIN_SECONDS * 1_000;

/** A child's link to its root as the rule sent it (`load=None`: a bare id); else undefined. */
function linkedRoot(value: unknown): number | undefined {
  return id.safeParse(value).success ? (value as number) : undefined;
}

const notFound = (url: string) =>
  new HttpError(404, 'NOT_FOUND', `no route POST ${url.split('?')[0]?.replace(/[^/]+$/, '…')}`);

export const odooWebhookRoutes: FastifyPluginAsyncZod<OdooWebhookOptions> = (app, options) => {
  const matches = createWebhookTokenMatcher(options.tokens);
  /** The source each request's token is of, found before its body is read. */
  const sourceOf = new WeakMap<object, string>();
  const events = new Counter({
    name: 'erp_bridge_webhook_events_total',
    help: 'Odoo webhook events by outcome: queued, deduplicated (folded into a queued job), kept (in the inbox alone: Redis away), inbox_full (refused: its source has ODOO_WEBHOOK_INBOX_MAX_EVENTS kept), rejected',
    labelNames: ['outcome'] as const,
    registers: [options.registry],
  });
  const inboxFull = new Counter({
    name: 'erp_bridge_webhook_inbox_full_total',
    help: 'Odoo webhook events refused because the inbox held ODOO_WEBHOOK_INBOX_MAX_EVENTS of their source not yet read, by source',
    labelNames: ['source'] as const,
    registers: [options.registry],
  });
  const futureStamps = new Counter({
    name: 'erp_bridge_webhook_future_stamps_total',
    help: "Odoo webhook events whose write_date was later than the API's clock by more than a minute, kept without it, by source",
    labelNames: ['source'] as const,
    registers: [options.registry],
  });
  const familiesOf = (source: string) =>
    options.families.all
      .filter((family) => splitFamilyKey(family.name).source === source)
      .map((family) => family.name);
  const bound = createInboxBound({
    maxEvents: options.inboxMaxEvents,
    count: (source, cap) => countKeptWebhooks(options.db, familiesOf(source), cap),
  });
  const databaseAway = (error: unknown) =>
    new HttpError(503, 'DATABASE_UNAVAILABLE', 'the webhook inbox (PostgreSQL) is not reachable', {
      cause: error,
    });

  app.post(
    ODOO_WEBHOOK_ROUTE,
    {
      bodyLimit: BODY_LIMIT_BYTES,
      onRequest: (request, _reply, done) => {
        // Before the body is read: a caller without a token learns nothing, not even a 400.
        const token = (request.params as { token?: string }).token ?? '';
        const source = token.length > 200 ? undefined : matches(token);
        if (source === undefined) {
          events.inc({ outcome: 'rejected' });
          done(notFound(request.url));
          return;
        }
        sourceOf.set(request, source);
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
      const source = sourceOf.get(request) ?? DEFAULT_SOURCE;
      const place = families.ofModel(event._model, source);
      if (!place) {
        events.inc({ outcome: 'rejected' });
        throw new HttpError(
          422,
          'UNKNOWN_MODEL',
          `webhooks are taken for the models copied${source === DEFAULT_SOURCE ? '' : ` from ${source}`} (${families.all
            .filter((family) => splitFamilyKey(family.name).source === source)
            .flatMap((family) => familyModels(family).map((model) => model.model))
            .join(', ')}), not ${event._model}`,
        );
      }
      const { family, child } = place;
      const rootId = child ? linkedRoot(event[child.parentField]) : event._id;
      const receivedAtMs = Date.now();
      const stamp = event.write_date;
      const impossible = stamp !== undefined && pastAnyClock(stamp, receivedAtMs);
      const kept = {
        family: family.name,
        model: event._model,
        recordId: event._id,
        rootId,
        writeDate: impossible ? undefined : stamp,
        deleted: request.query.event === 'deleted',
      };
      const room = await bound.admit(source).catch((error: unknown) => {
        throw databaseAway(error);
      });
      if (!room.admitted) {
        events.inc({ outcome: 'inbox_full' });
        inboxFull.inc({ source });
        throw new HttpError(
          429,
          'WEBHOOK_INBOX_FULL',
          `the webhook inbox holds ${room.events} events of source ${source} not yet read (ODOO_WEBHOOK_INBOX_MAX_EVENTS): this one is left to ${source}'s next polling run`,
        );
      }
      let inboxId: number;
      try {
        inboxId = await keepWebhook(options.db, kept);
      } catch (error) {
        throw databaseAway(error);
      }
      bound.kept(source);
      if (impossible) futureStamps.inc({ source });
      const queued = await (
        queues
          ? queueWebhookEvent(queues, { ...kept, inboxId, receivedAtMs }, options.debounceMs)
          : Promise.reject(new Error('this API instance has no job queue configured'))
      ).catch((error: unknown) => {
        // Kept: a worker's next pass queues it (src/sync/webhook-inbox.ts).
        request.log.warn(
          { err: error, family: family.name, model: event._model, odooId: event._id },
          'a webhook event was kept in the inbox but not queued',
        );
        return undefined;
      });
      if (!queued) {
        // Unmarked, it is still queued again, a minute later: PostgreSQL holds it either way.
        await markNotQueued(options.db, inboxId).catch((error: unknown) =>
          request.log.warn({ err: error }, 'a kept webhook event could not be marked not queued'),
        );
        events.inc({ outcome: 'kept' });
        return reply.code(202).send({ queued: false, deduplicated: false });
      }
      const { deduplicated } = queued;
      events.inc({ outcome: deduplicated ? 'deduplicated' : 'queued' });
      return reply.code(202).send({ queued: true, deduplicated });
    },
  );
  return Promise.resolve();
};
