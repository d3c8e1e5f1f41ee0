/**
 * Sends JSON text built elsewhere (by PostgreSQL, or kept by the Tryton cache) as it is: a string
 * with a JSON content type skips the response serializer. The route's response schema stays the
 * documented shape; the text must already match it.
 */
import type { FastifyReply } from 'fastify';

export function sendJsonText(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}
