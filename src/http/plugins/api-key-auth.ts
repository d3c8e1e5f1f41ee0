/**
 * API keys: `Authorization: Bearer <key>`, checked against the SHA-256 hashes of `API_KEYS` in
 * constant time. Each key has a role; `app.authorize(role)` is the onRequest hook a route uses to
 * demand at least that role, before its body is read; `app.authorize(role, source)` for a route
 * that serves one source's copy, and `app.authorize(role, DEPLOYMENT)` for one that serves the
 * deployment's own (its metrics, the Tryton gateway), which a key limited to sources never reads
 * (docs/sources.md). No key → 401, too low a role or a key limited to other sources → 403, a key
 * with as many requests in flight as it may have → 429 (in-flight.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKeyEntry, ApiRole } from '../../config/api-keys.js';
import { bearerKey, createKeyMatcher, requestKey, type Caller } from '../../fastify/key-matcher.js';
import { HttpError } from '../http-error.js';
import { createInFlightLimit } from '../in-flight.js';

const RANK: Record<ApiRole, number> = { reader: 1, operator: 2, admin: 3 };

/** Whether a caller of `role` has at least `wanted`. */
export const hasRole = (role: ApiRole, wanted: ApiRole): boolean => RANK[role] >= RANK[wanted];

/** Whether `caller` may read what `source` copies. */
export const readsSource = (caller: Caller | undefined, source: string): boolean =>
  caller?.sources === undefined || caller.sources.includes(source);

/** The 403 of a caller limited to sources other than `source`. */
export const sourceRefused = (caller: Caller, source: string): HttpError =>
  new HttpError(
    403,
    'FORBIDDEN',
    `the key "${caller.name}" reads the sources ${caller.sources!.join(', ')} only, not ${source}`,
  );

/**
 * What serves the deployment as a whole, every source at once (its metrics, its API document, the
 * Tryton gateway, why a part is down): for a key of every source, never for one limited to some.
 */
export const DEPLOYMENT = Symbol('deployment');

/** Whether `caller` reads the deployment's own surfaces: a key of every source does. */
export const readsDeployment = (caller: Caller | undefined): boolean =>
  caller !== undefined && caller.sources === undefined;

/** The 403 of a caller limited to sources, on one of the deployment's own surfaces. */
export const deploymentRefused = (caller: Caller, what: string): HttpError =>
  new HttpError(
    403,
    'FORBIDDEN',
    `${what} is the deployment's, for a key of every source: the key "${caller.name}" reads the sources ${caller.sources!.join(', ')} only`,
  );

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * An onRequest hook that lets through callers with at least `role`; with `source`, only those
     * that read that source; with DEPLOYMENT, only those that read every source.
     */
    authorize(role: ApiRole, source?: string | typeof DEPLOYMENT): onRequestHookHandler;
    /** The caller a raw key belongs to, if any (for bull-board's basic auth). */
    identify(key: string): Caller | undefined;
    /**
     * The caller of a request's key, Bearer or Basic (for pages a browser opens), if any; worked
     * out once per request. API routes take Bearer only, through `authorize`.
     */
    callerOf(request: FastifyRequest): Caller | undefined;
    /**
     * Takes one of the caller's requests in flight for this request (in-flight.ts), for a route
     * that checks its key itself (bull-board's API); the 429 to answer when it has none left.
     */
    takeInFlight(
      request: FastifyRequest,
      reply: FastifyReply,
      caller: Caller,
    ): HttpError | undefined;
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}

export const apiKeyAuth = fp(
  (app: FastifyInstance, options: { keys: readonly ApiKeyEntry[]; maxInFlightPerKey: number }) => {
    const identify = createKeyMatcher(options.keys);
    const inFlight = createInFlightLimit(options.maxInFlightPerKey);
    // Every answer, an error's too, passes here once its work is done.
    app.addHook('onSend', (request, _reply, payload, done) => {
      inFlight.answered(request);
      done(null, payload);
    });
    // The rate limiter asks first, then the route's check: the key is hashed once per request.
    const identified = new WeakMap<FastifyRequest, Caller | null>();
    const callerOf = (request: FastifyRequest): Caller | undefined => {
      let caller = identified.get(request);
      if (caller === undefined) {
        const key = requestKey(request);
        caller = (key ? identify(key) : undefined) ?? null;
        identified.set(request, caller);
      }
      return caller ?? undefined;
    };
    app.decorateRequest('caller', undefined);
    app.decorate('identify', identify);
    app.decorate('callerOf', callerOf);
    app.decorate('takeInFlight', (request: FastifyRequest, reply: FastifyReply, caller: Caller) =>
      inFlight.take(request, reply, caller.name),
    );
    app.decorate(
      'authorize',
      (role: ApiRole, source?: string | typeof DEPLOYMENT): onRequestHookHandler => {
        return (request, reply, done) => {
          const key = bearerKey(request);
          const caller = key ? callerOf(request) : undefined;
          if (!caller) {
            done(
              new HttpError(
                401,
                'UNAUTHORIZED',
                key ? 'unknown API key' : 'an API key is required: Authorization: Bearer <key>',
                {
                  headers: { 'www-authenticate': 'Bearer' },
                },
              ),
            );
            return;
          }
          request.caller = caller;
          if (!hasRole(caller.role, role)) {
            done(
              new HttpError(
                403,
                'FORBIDDEN',
                `this route needs the ${role} role; the key "${caller.name}" has ${caller.role}`,
              ),
            );
            return;
          }
          if (source === DEPLOYMENT && !readsDeployment(caller)) {
            done(deploymentRefused(caller, `${request.method} ${request.routeOptions.url}`));
            return;
          }
          if (typeof source === 'string' && !readsSource(caller, source)) {
            done(sourceRefused(caller, source));
            return;
          }
          done(inFlight.take(request, reply, caller.name));
        };
      },
    );
  },
  { name: 'api-key-auth' },
);
