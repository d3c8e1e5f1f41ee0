/**
 * Records gone from Odoo (`includeArchived=true` on the records and BC routes) are an operator's
 * option: a record Odoo deleted may be one its users were meant to stop seeing, and a reader key
 * is the front end's. `API_READERS_SEE_ARCHIVED` gives it to readers too. One hook for every
 * route that takes the parameter: it runs once the query is validated, so only a route that
 * declares `includeArchived` ever has it true.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from '../http-error.js';
import { hasRole } from './api-key-auth.js';

/** What the parameter's description adds: who may ask for it. */
export const OPERATORS_ONLY = '; an operator key, or a reader key with API_READERS_SEE_ARCHIVED';

export const archivedAccess = fp(
  (app: FastifyInstance, { readersSeeArchived }: { readersSeeArchived: boolean }) => {
    if (readersSeeArchived) return;
    app.addHook('preHandler', (request, _reply, done) => {
      const asked = (request.query as { includeArchived?: unknown } | undefined)?.includeArchived;
      if (asked !== true || (request.caller && hasRole(request.caller.role, 'operator'))) {
        done();
        return;
      }
      done(
        new HttpError(
          403,
          'FORBIDDEN',
          `includeArchived=true needs the operator role (API_READERS_SEE_ARCHIVED gives it to readers); the key "${request.caller?.name ?? '?'}" has ${request.caller?.role ?? 'none'}`,
        ),
      );
    });
  },
  { name: 'archived-access', dependencies: ['api-key-auth'] },
);
