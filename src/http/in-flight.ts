/**
 * Requests in flight per API key, in one API process: past the limit a key's next request is
 * refused at once (429, `Retry-After`), before it reads anything. Twelve slow requests of one key
 * would otherwise hold every connection of the pool, and every other key's reads would wait
 * behind them.
 *
 * A slot is given back when both the answer is built (the request's queries are over) and the
 * connection is done with it (sent, or the client gone): a client that hangs up does not free the
 * connection its query still holds, and one that does not read its answer keeps that answer's
 * memory counted. Not across replicas: each process has its own pool to protect.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-error.js';

interface Slot {
  readonly key: string;
  answered: boolean;
  closed: boolean;
}

export interface InFlightLimit {
  /** Takes a slot of the key for the request; the 429 to answer when the key has none left. */
  take(request: FastifyRequest, reply: FastifyReply, key: string): HttpError | undefined;
  /** The request's answer is built: its part of the slot is done (an onSend hook). */
  answered(request: FastifyRequest): void;
  /** Requests of the key in flight now. */
  inFlight(key: string): number;
}

export function createInFlightLimit(maxPerKey: number): InFlightLimit {
  const held = new Map<string, number>();
  const slots = new WeakMap<FastifyRequest, Slot>();
  const settle = (request: FastifyRequest, slot: Slot) => {
    if (!slot.answered || !slot.closed) return;
    slots.delete(request);
    const left = (held.get(slot.key) ?? 1) - 1;
    if (left > 0) held.set(slot.key, left);
    else held.delete(slot.key);
  };
  return {
    take(request, reply, key) {
      const count = held.get(key) ?? 0;
      if (count >= maxPerKey)
        return new HttpError(
          429,
          'TOO_MANY_IN_FLIGHT',
          `the key "${key}" has ${count} requests in flight, the most one key may have; send the next one when one has answered`,
          { headers: { 'retry-after': '1' } },
        );
      held.set(key, count + 1);
      const slot: Slot = { key, answered: false, closed: false };
      slots.set(request, slot);
      reply.raw.once('close', () => {
        slot.closed = true;
        settle(request, slot);
      });
      return undefined;
    },
    answered(request) {
      const slot = slots.get(request);
      if (!slot) return;
      slot.answered = true;
      settle(request, slot);
    },
    inFlight: (key) => held.get(key) ?? 0,
  };
}
