/**
 * What the change feed's routes share: the filter and position parameters, the 410 a consumer
 * behind the retention gets, and the subscription's body.
 */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Families } from '../../../../families/registry.js';
import { EVERY_SOURCE, splitFamilyKey, unnamedSources } from '../../../../sources/family-key.js';
import { positionSchema } from '../../../../feed/change-body.js';
import type { FeedPositionGoneError } from '../../../../feed/feed-errors.js';
import { decodePosition, encodePosition, FeedPositionError } from '../../../../feed/position.js';
import type { FeedFilter } from '../../../../feed/read-changes.js';
import type { SubscriptionView } from '../../../../feed/subscription-status.js';
import { HttpError } from '../../../http-error.js';
import { readsSource, sourceRefused } from '../../../plugins/api-key-auth.js';
import { type Caller } from '../../../../fastify/key-matcher.js';

const nameList = (what: string, pattern = /^[a-z0-9_.,-]+$/) =>
  z
    .string()
    .max(2_000)
    .regex(pattern, `a comma-separated list of ${what}`)
    .transform((text) => text.split(',').filter((name) => name.length > 0))
    .optional();

export const filterQuery = {
  source: nameList(`source names, or ${EVERY_SOURCE}`, /^([a-z0-9_,]+|\*)$/).describe(
    `only the changes of these sources (the Odoo databases copied), comma-separated (default,acme), or ${EVERY_SOURCE} for every source the key reads; without it, the default source's alone (a key limited to sources: its sources'), as before a second source was added`,
  ),
  family: nameList('family names').describe(
    'only these families, comma-separated (bcs,partners), of every source asked for; every family copied without it',
  ),
  model: nameList('model names').describe(
    'only these Odoo models, comma-separated (dimagaz.bc,res.partner); every model without it',
  ),
};

export const positionParameter = positionSchema.transform((text) => decodePosition(text));

/** A position the feed refused, as the 400 naming the parameter that carried it; else rethrown. */
export const badPosition =
  (parameter: string) =>
  (error: unknown): never => {
    if (error instanceof FeedPositionError)
      throw new HttpError(400, 'BAD_REQUEST', `${parameter}: ${error.message}`, { cause: error });
    throw error;
  };

/** A request's filter, and the sources it chose. */
export interface ChosenFilter {
  /** The changes it passes: explicit families of the sources chosen. */
  readonly filter: FeedFilter;
  /** The sources chosen, by name. */
  readonly sources: readonly string[];
  /** Whether it asked for every source ({@link EVERY_SOURCE}): those added later too. */
  readonly everySource: boolean;
}

/**
 * The filter of a request, each name checked against the families copied here, among the families
 * this API serves and no other. Without `source`, the sources a consumer read before a second
 * source came (the default source, or a limited key's own): a consumer never receives another
 * source's records unless it names it, or every source (docs/feed.md, "Whose records"). A family
 * named is that family of every source chosen.
 */
export function filterOf(
  families: Families,
  query: {
    source?: string[] | undefined;
    family?: string[] | undefined;
    model?: string[] | undefined;
  },
  caller?: Caller,
): ChosenFilter {
  const everySource = query.source?.includes(EVERY_SOURCE) === true;
  const named = everySource ? [] : (query.source ?? []);
  // A key limited to sources reads their changes and no other's (docs/sources.md): another
  // source named is a 403 whether it is copied or not, and what an answer lists as copied is
  // what the key reads.
  const refused = named.find((source) => !readsSource(caller, source));
  if (refused !== undefined) throw sourceRefused(caller!, refused);
  // The families this API serves: the feed may hold another's (a family no longer copied, or
  // copied by workers this API is not configured for), which no route here answers.
  const served = [...families.all, ...families.unavailable]
    .map((family) => ({ key: family.name, ...splitFamilyKey(family.name) }))
    .filter((family) => readsSource(caller, family.source));
  const servedSources = [...new Set(served.map((family) => family.source))];
  const unknown = (what: 'source' | 'family', names: readonly string[] | undefined) => {
    const known = [...new Set(served.map((family) => family[what]))];
    const missing = (names ?? []).find((name) => !known.includes(name));
    if (missing !== undefined)
      throw new HttpError(
        400,
        'BAD_REQUEST',
        `${what}: "${missing}" is not copied here (copied: ${known.join(', ')})`,
      );
  };
  unknown('source', named);
  unknown('family', query.family);
  const sources = everySource
    ? servedSources
    : named.length > 0
      ? named
      : (caller?.sources?.filter((source) => servedSources.includes(source)) ??
        unnamedSources(servedSources));
  // An empty list asks for no filter, as an absent one (a subscription's body defaults to it).
  const wanted = query.family?.length ? query.family : undefined;
  const selected = served
    .filter(
      (family) =>
        sources.includes(family.source) && (wanted === undefined || wanted.includes(family.family)),
    )
    .map((family) => family.key);
  // No family at all would read as no filter: every change.
  if (selected.length === 0)
    throw caller?.sources
      ? new HttpError(
          403,
          'FORBIDDEN',
          `the key "${caller.name}" reads none of the families asked for`,
        )
      : new HttpError(400, 'BAD_REQUEST', 'no family copied here is of the sources asked for');
  for (const model of query.model ?? []) {
    const holders = servedSources.flatMap(
      (source) => families.ofModel(model, source)?.family.name ?? [],
    );
    if (holders.length === 0)
      throw new HttpError(400, 'BAD_REQUEST', `model: "${model}" is not copied here`);
    if (!holders.some((holder) => selected.includes(holder)))
      throw new HttpError(
        400,
        'BAD_REQUEST',
        `model: "${model}" belongs to the ${holders.join(', ')} family, not among family= and source=`,
      );
  }
  return {
    filter: { families: selected, models: query.model ?? [] },
    sources,
    everySource,
  };
}

export const goneBody = z
  .object({
    error: z.literal('FEED_POSITION_GONE'),
    message: z.string(),
    oldest: positionSchema.describe('the oldest position the feed still answers from'),
    head: positionSchema.describe(
      'read the copy again (the records routes), then follow the feed from here',
    ),
  })
  .describe('FeedPositionGone');

export function sendGone(reply: FastifyReply, error: FeedPositionGoneError) {
  return reply.code(410).send({
    error: 'FEED_POSITION_GONE',
    message: error.message,
    oldest: encodePosition(error.oldest),
    head: encodePosition(error.head),
  });
}

export const startSchema = z
  .union([z.enum(['now', 'oldest']), positionSchema])
  .describe('now (the head: only changes from now on), oldest (every change kept), or a position');

export type StartText = z.infer<typeof startSchema>;

export const toStart = (start: StartText) =>
  start === 'now' || start === 'oldest' ? start : { position: start };

export const subscriptionSchema = z
  .object({
    name: z.string(),
    url: z.string().describe('the receiver (credentials masked)'),
    sources: z
      .array(z.string())
      .describe(`the Odoo sources whose changes it takes (${EVERY_SOURCE}: every source)`),
    families: z.array(z.string()),
    models: z.array(z.string()),
    source: z.enum(['file', 'api']).describe('FEED_SUBSCRIPTIONS_FILE or this API'),
    status: z
      .enum(['active', 'failing', 'ended', 'expired'])
      .describe(
        'active: delivering; failing: stopped on a dead letter (replay it); ended: its receiver answered 410; expired: behind the retention (resync, then replay from now)',
      ),
    statusReason: z.string().nullable(),
    cursor: positionSchema.describe('every change up to here was delivered'),
    lagChanges: z.number().int().describe('changes not delivered yet (counted up to 10,000)'),
    lagSeconds: z.number().int().describe('age of the oldest change not delivered yet'),
    deliveredChanges: z.number().int(),
    deliveredMessages: z.number().int(),
    failedAttempts: z.number().int(),
    consecutiveFailures: z.number().int(),
    lastError: z.string().nullable(),
    lastFailureAt: z.string().nullable(),
    lastDeliveredAt: z.string().nullable(),
    deadLetter: z
      .object({
        webhookId: z.string(),
        from: positionSchema,
        through: positionSchema,
        changes: z.number().int(),
        code: z.string(),
        message: z.string(),
        at: z.string(),
      })
      .nullable()
      .describe('the message that failed for good, where the subscription stopped'),
    createdAt: z.string(),
  })
  .describe('Subscription');

export function toSubscriptionBody(view: SubscriptionView): z.infer<typeof subscriptionSchema> {
  return {
    ...view,
    sources: [...view.sources],
    families: [...view.families],
    models: [...view.models],
    lastFailureAt: view.lastFailureAt?.toISOString() ?? null,
    lastDeliveredAt: view.lastDeliveredAt?.toISOString() ?? null,
    createdAt: view.createdAt.toISOString(),
  };
}
