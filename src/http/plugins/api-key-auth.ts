/**
 * API keys: `Authorization: Bearer <key>`, checked against the SHA-256 hashes of `API_KEYS` in
 * constant time. Each key has a role; `app.authorize(role)` is the onRequest hook a route uses to
 * demand at least that role, before its body is read. No key → 401, too low a role → 403.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { hashApiKey, type ApiKeyEntry, type ApiRole } from '../../config/api-keys.js';
import { HttpError } from '../http-error.js';

const RANK: Record<ApiRole, number> = { reader: 1, operator: 2, admin: 3 };

export interface Caller {
  readonly name: string;
  readonly role: ApiRole;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** An onRequest hook that lets through callers with at least `role`. */
    authorize(role: ApiRole): onRequestHookHandler;
    /** The caller a raw key belongs to, if any (for bull-board's basic auth). */
    identify(key: string): Caller | undefined;
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}

export function createKeyMatcher(entries: readonly ApiKeyEntry[]) {
  const hashes = entries.map((entry) => ({ entry, digest: Buffer.from(entry.sha256, 'hex') }));
  return (key: string): Caller | undefined => {
    const digest = Buffer.from(hashApiKey(key), 'hex');
    let found: ApiKeyEntry | undefined;
    // Compare against every entry, found or not, so the time taken says nothing about the keys.
    for (const candidate of hashes) {
      if (timingSafeEqual(candidate.digest, digest)) found ??= candidate.entry;
    }
    return found ? { name: found.name, role: found.role } : undefined;
  };
}

function bearerKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export const apiKeyAuth = fp(
  (app: FastifyInstance, options: { keys: readonly ApiKeyEntry[] }) => {
    const identify = createKeyMatcher(options.keys);
    app.decorateRequest('caller', undefined);
    app.decorate('identify', identify);
    app.decorate('authorize', (role: ApiRole): onRequestHookHandler => {
      return (request, _reply, done) => {
        const key = bearerKey(request);
        const caller = key ? identify(key) : undefined;
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
        if (RANK[caller.role] < RANK[role]) {
          done(
            new HttpError(
              403,
              'FORBIDDEN',
              `this route needs the ${role} role; the key "${caller.name}" has ${caller.role}`,
            ),
          );
          return;
        }
        done();
      };
    });
  },
  { name: 'api-key-auth' },
);
