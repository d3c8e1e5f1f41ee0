/**
 * The `common` and `object` services as XML-RPC and JSON-RPC both expose them: a transport that
 * only knows how to make one service call gets `version`, `authenticate` and `execute_kw` here.
 */
import { toUid, toVersion } from './odoo-http.js';
import type { OdooProtocol, OdooRequestOptions, OdooTransport } from './odoo-types.js';

/** One call of a service method; `label` names it in errors (`dimagaz.bc.search_read`). */
export type ServiceCall = (
  service: 'common' | 'object',
  method: string,
  args: unknown[],
  label: string,
  options: OdooRequestOptions,
) => Promise<unknown>;

export function createServiceTransport(
  protocol: Exclude<OdooProtocol, 'json2'>,
  credentials: { database: string; username: string; secret: () => string },
  call: ServiceCall,
): OdooTransport {
  const { database, username, secret } = credentials;
  return {
    protocol,
    async version(options) {
      return toVersion(await call('common', 'version', [], 'common.version', options));
    },
    async authenticate(options) {
      const uid = await call(
        'common',
        'authenticate',
        [database, username, secret(), {}],
        'common.authenticate',
        options,
      );
      return toUid(uid, 'common.authenticate');
    },
    executeKw(uid, model, method, args, kwargs, options) {
      return call(
        'object',
        'execute_kw',
        [database, uid, secret(), model, method, [...args], { ...kwargs }],
        `${model}.${method}`,
        options,
      );
    },
  };
}
