/**
 * Anonymous clients already over their rate limit are refused before Fastify sees the request:
 * no routing, no query-string parsing, no hooks, no log line, no Redis round trip. A flood of
 * crafted URLs without a key then costs little more than reading them; a client's first refusal
 * still goes the whole way (the rate limiter in Redis, the 429 it logs), and marks its address
 * refused until the limiter's window ends.
 *
 * Only a request that has neither a valid key nor a route exempt from the limit (the health
 * probes, Odoo's webhooks with a valid token; its path read as the router will read it,
 * routed-path.ts) is refused here. Addresses are told apart as the
 * rate limiter tells them (client-address.ts); behind a trusted proxy, by the socket's address
 * and the whole X-Forwarded-For it sent: the same two give the same client address, so no other
 * client is ever refused in this one's place (a client whose proxy chain varies merely takes the
 * longer way).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import type { Caller } from '../fastify/key-matcher.js';
import { rateLimitAddress } from './client-address.js';
import type { MetricSource } from './metrics.js';

/** Addresses remembered at once; past it the oldest are forgotten (they take the longer way). */
const MAX_REFUSED_ADDRESSES = 10_000;

export interface EarlyRefusal {
  /** Answers a refused request (429) and says so; false lets it through to Fastify. */
  refuse(request: IncomingMessage, response: ServerResponse): boolean;
  /** The rate limiter refused this client: refuse it here until `untilMs` (epoch ms). */
  note(request: IncomingMessage, untilMs: number): void;
  readonly metrics: MetricSource;
}

export function createEarlyRefusal(input: {
  /** Whether X-Forwarded-For counts for the client's address (TRUST_PROXY set). */
  trustsProxy: boolean;
  /** The caller of a request's key (Bearer or Basic), if the key is valid. */
  callerOf: (request: IncomingMessage) => Caller | undefined;
  /** Requests the rate limit never counts, or counts in a bucket of their own, by URL. */
  exempt: (url: string) => boolean;
}): EarlyRefusal {
  const refusedUntilMs = new Map<string, number>();
  let refused = 0;
  const addressOf = (request: IncomingMessage) => {
    const socket = rateLimitAddress(request.socket.remoteAddress ?? '');
    if (!input.trustsProxy) return socket;
    const forwarded = request.headers['x-forwarded-for'];
    return `${socket}|${Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')}`;
  };
  return {
    refuse(request, response) {
      if (refusedUntilMs.size === 0) return false;
      const address = addressOf(request);
      const untilMs = refusedUntilMs.get(address);
      if (untilMs === undefined) return false;
      const leftMs = untilMs - Date.now();
      if (leftMs <= 0) {
        refusedUntilMs.delete(address);
        return false;
      }
      if (input.exempt(request.url ?? '') || input.callerOf(request)) return false;
      refused += 1;
      const seconds = Math.ceil(leftMs / 1_000);
      const body = JSON.stringify({
        error: 'RATE_LIMITED',
        message: `rate limit exceeded, retry in ${seconds} seconds`,
      });
      response.writeHead(429, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'retry-after': String(seconds),
      });
      response.end(body);
      return true;
    },
    note(request, untilMs) {
      const address = addressOf(request);
      refusedUntilMs.delete(address);
      if (refusedUntilMs.size >= MAX_REFUSED_ADDRESSES)
        refusedUntilMs.delete(refusedUntilMs.keys().next().value!);
      refusedUntilMs.set(address, untilMs);
    },
    metrics: {
      register(registry: Registry) {
        new Counter({
          name: 'erp_bridge_http_refused_early_total',
          help: 'Requests without a valid key refused before routing, their address being over its rate limit',
          registers: [registry],
          collect() {
            this.reset();
            this.inc(refused);
          },
        });
      },
    },
  };
}
