/**
 * The Tryton gateway routes: `POST /api/tryton/rpc` forwards one allowlisted method to Tryton
 * through the shared client (read methods through the Redis cache), and `GET /api/tryton/ping`
 * reports the server's version and latency, cached for a few seconds so probes cannot flood
 * Tryton. Values Tryton types (Decimal, datetime, bytes…) are answered in Tryton's own
 * `__class__` JSON shape, so portal code can send them back unchanged.
 *
 * What a call may reach is the gateway policy's decision (least privilege: no model unless
 * listed), with the model's relation fields read from Tryton when a domain compares with text. Each forwarded call is logged with the calling key's name, the model and the method,
 * so the shared Tryton account keeps an audit trail.
 *
 * The plugin declares full paths: register it without a prefix. Authentication is the API's
 * job, and a required option: its operator-role check runs as `onRequest`, so a caller without a
 * key is refused before its body is even read. Without a client (Tryton not configured) every
 * route answers 503.
 */
import type { FastifyPluginAsync, FastifyReply, onRequestHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { TrytonClient, TrytonPing } from '../../../clients/tryton/tryton-client.js';
import { decodeTrytonValue, encodeTrytonValue } from '../../../clients/tryton/tryton-codec.js';
import { isReadOnlyTrytonMethod } from '../../../clients/tryton/tryton-read-only-methods.js';
import { HttpError } from '../../http-error.js';
import { sendJsonText } from '../../send-json-text.js';
import type { GatewayPolicy, GatewayVerdict } from './gateway-policy.js';
import { createRelationFields } from './relation-fields.js';
import { trytonHttpError } from './tryton-http-error.js';

export interface TrytonRoutesOptions {
  /** The shared client (built with its cache); undefined when Tryton is not configured. */
  client?: TrytonClient;
  /** What calls may reach (models, methods, bounds). */
  policy: GatewayPolicy;
  /** Cache lifetime of proxied read calls; 0 sends every call to Tryton. */
  cacheTtlSeconds: number;
  /** The API's authentication check (operator role), run before each route. */
  onRequest: onRequestHookHandler;
  /** How long a ping answer is reused; default 5 s. */
  pingCacheSeconds?: number;
}

const errorBody = z.object({
  error: z.string(),
  message: z.string(),
  requestId: z.string().optional(),
});
const errorResponses = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  502: errorBody,
  503: errorBody,
  504: errorBody,
};

const rpcBody = z.object({
  method: z
    .string()
    .max(200)
    .regex(
      /^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)+$/,
      'a dotted Tryton method name, e.g. model.party.party.search_read',
    ),
  params: z.array(z.unknown()).max(100).default([]),
});

const rpcAnswer = z.object({
  result: z
    .unknown()
    .describe(
      "Tryton's result; Decimal, datetime, date, time, timedelta and bytes in Tryton's __class__ shape",
    ),
});

const pingAnswer = z.object({
  version: z.string(),
  latencyMs: z.number(),
  cached: z.boolean(),
});

/**
 * Deepest nesting of lists and objects params may have: a domain nests at most
 * MAX_DOMAIN_DEPTH groups, with room for the clauses and values inside. Deeper params would
 * only reach the recursive value code (the codec, the cache key) to overflow its stack.
 */
const MAX_PARAMS_DEPTH = 64;

/** Whether a parsed JSON value nests deeper than `maxDepth`; iterative, so any depth is safe. */
function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.depth >= maxDepth) return true;
    for (const child of Object.values(next.value))
      pending.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}

function notConfigured(): HttpError {
  return new HttpError(
    503,
    'TRYTON_NOT_CONFIGURED',
    'The Tryton gateway is not configured on this server',
  );
}

/** Aborts when the HTTP client goes away before its answer is sent. */
function abortOnDisconnect(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('HTTP client disconnected'));
  });
  return controller.signal;
}

export const trytonRoutes: FastifyPluginAsync<TrytonRoutesOptions> = (fastify, options) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { client, cacheTtlSeconds } = options;
  const { policy } = options;
  const relationFields = client && createRelationFields(client);
  const pingCacheMs = (options.pingCacheSeconds ?? 5) * 1000;
  const auth = { onRequest: options.onRequest };
  let lastPing: { ping: TrytonPing; atMs: number } | undefined;
  let pingInFlight: Promise<TrytonPing> | undefined;

  app.post(
    '/api/tryton/rpc',
    {
      ...auth,
      schema: {
        summary: 'Call one allowlisted Tryton RPC method',
        tags: ['tryton'],
        body: rpcBody,
        response: { 200: rpcAnswer, ...errorResponses, 422: errorBody },
      },
    },
    async (request, reply) => {
      if (!client || !relationFields) throw notConfigured();
      const { method } = request.body;
      if (nestsDeeperThan(request.body.params, MAX_PARAMS_DEPTH))
        throw new HttpError(
          400,
          'TRYTON_BAD_PARAMS',
          `params nest lists and objects deeper than ${MAX_PARAMS_DEPTH} levels`,
        );
      let decoded: unknown[];
      try {
        decoded = decodeTrytonValue(request.body.params) as unknown[];
      } catch (error) {
        throw new HttpError(
          400,
          'TRYTON_BAD_PARAMS',
          `Invalid Tryton value in params: ${(error as Error).message}`,
        );
      }
      let verdict: GatewayVerdict;
      try {
        verdict = await policy.check(method, decoded, relationFields);
      } catch (error) {
        throw trytonHttpError(error);
      }
      request.log.info(
        { caller: request.caller?.name, tryton: { method, allowed: verdict.allowed } },
        'tryton call',
      );
      if (!verdict.allowed) throw new HttpError(verdict.status, verdict.code, verdict.message);
      const params = [...verdict.params];
      const signal = abortOnDisconnect(reply);
      try {
        if (cacheTtlSeconds > 0 && isReadOnlyTrytonMethod(method)) {
          const answer = await client.cachedCallJson(method, params, cacheTtlSeconds, {
            signal,
          });
          // The result's JSON text as the cache holds it: a hit is never parsed and encoded again.
          void reply.header('x-cache', answer.cache);
          return sendJsonText(reply, `{"result":${answer.json}}`);
        }
        const result = await client.call(method, params, { signal });
        void reply.header('x-cache', 'miss');
        return { result: encodeTrytonValue(result) };
      } catch (error) {
        throw trytonHttpError(error);
      }
    },
  );

  app.get(
    '/api/tryton/ping',
    {
      ...auth,
      schema: {
        summary: "Tryton's version and latency (cached a few seconds)",
        tags: ['tryton'],
        response: { 200: pingAnswer, ...errorResponses },
      },
    },
    async () => {
      if (!client) throw notConfigured();
      if (lastPing && performance.now() - lastPing.atMs < pingCacheMs)
        return { ...lastPing.ping, cached: true };
      // Concurrent probes share one ping.
      pingInFlight ??= client.ping().finally(() => {
        pingInFlight = undefined;
      });
      try {
        const ping = await pingInFlight;
        lastPing = { ping, atMs: performance.now() };
        return { ...ping, cached: false };
      } catch (error) {
        throw trytonHttpError(error);
      }
    },
  );
  return Promise.resolve();
};
