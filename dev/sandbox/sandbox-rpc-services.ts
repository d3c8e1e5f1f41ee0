/**
 * `dispatch_rpc(service, method, params)`, the services XML-RPC and JSON-RPC share: `common`
 * (version, authenticate, login), `db` (list, server_version, db_exist) and `object`
 * (`execute_kw` and `execute`, checked against the user on every call), each call on the
 * database it names (sandbox-routing.ts).
 */
import type { OdooProtocol } from '../../src/clients/odoo/odoo-types.js';
import { idsOf } from './sandbox-answer.js';
import { APIKEYS_MODEL, apiKeyArguments } from './sandbox-apikeys.js';
import { dispatchExecuteKw } from './sandbox-dispatch.js';
import { accessDenied, pythonError } from './sandbox-exceptions.js';
import type { SandboxCallInfo } from './sandbox-faults.js';
import type { PyValue } from './python-values.js';
import type { SandboxDatabases } from './sandbox-routing.js';

/** The Odoo series the sandbox plays: what it answers and which routes it has. */
export type SandboxSeries = '17.0' | '18.0' | '19.0' | '20.0';

/** Every series the sandbox plays, oldest first. */
export const SANDBOX_SERIES: readonly SandboxSeries[] = ['17.0', '18.0', '19.0', '20.0'];

/** `common.version()` of a series. */
export function serverVersionOf(series: SandboxSeries) {
  const major = Number(series.slice(0, 2));
  return {
    server_version: series,
    server_version_info: [major, 0, 0, 'final', 0, ...(major >= 18 ? [''] : [])],
    server_serie: series,
    protocol_version: 1,
  };
}

export type SandboxServerVersion = ReturnType<typeof serverVersionOf>;

/** Methods whose first argument is the ids of the records they act on. */
const RECORD_METHODS = new Set([
  'read',
  'web_read',
  'write',
  'unlink',
  'action_archive',
  'action_unarchive',
]);

export interface RpcServices {
  dispatch(address: string, service: string, method: string, params: unknown[]): PyValue;
  /** The database a call names in its parameters (`login`, `authenticate`, `object`), if any. */
  databaseOf(service: string, method: string, params: unknown[]): unknown;
  /** What the fault rules and the call counts see of a call. */
  callInfo(
    protocol: OdooProtocol,
    service: string,
    method: string,
    params: unknown[],
  ): SandboxCallInfo;
}

export function createRpcServices(deps: {
  databases: SandboxDatabases;
  version: SandboxServerVersion;
  /** Odoo's `list_db`: whether `db.list` answers (Odoo's default) or is AccessDenied. */
  listDatabases: boolean;
}): RpcServices {
  const { databases, version } = deps;
  const major = Number(version.server_serie.slice(0, 2));
  return {
    dispatch(address, service, method, params) {
      switch (service) {
        case 'common':
          if (method === 'version') return version;
          if (method === 'authenticate' || method === 'login')
            return databases.require(params[0]).auth.authenticate(address, params[1], params[2]);
          if (method === 'about') return 'See http://openerp.com';
          throw pythonError('Exception', `Method not found: ${method}`);
        case 'db':
          if (method === 'list') {
            if (!deps.listDatabases) throw accessDenied();
            // PostgreSQL's list, by name.
            return [...databases.names].sort();
          }
          if (method === 'server_version') return version.server_version;
          if (method === 'db_exist') return databases.find(params[0]) !== undefined;
          throw pythonError('KeyError', `'${method}'`);
        case 'object': {
          if (method !== 'execute_kw' && method !== 'execute')
            throw pythonError('NameError', `Method not available ${method}`);
          if (params.length < 5)
            throw pythonError(
              'ValueError',
              `not enough values to unpack (expected at least 5, got ${params.length})`,
            );
          const [db, uid, secret, model, modelMethod, ...rest] = params;
          // 18 and 19 refuse an empty password before they open the database; 17 opens it
          // first, to check the password against its users.
          if (major >= 18 && (typeof secret !== 'string' || secret === '')) throw accessDenied();
          const database = databases.require(db);
          database.auth.checkUidPassword(address, uid, secret);
          if (typeof model !== 'string' || typeof modelMethod !== 'string')
            throw pythonError('TypeError', 'model and method must be strings');
          const tx = database.transaction();
          if (model === APIKEYS_MODEL) {
            const [args, kwargs] = method === 'execute' ? [rest, {}] : [rest[0], rest[1]];
            return database.apiKeys.dispatch(
              modelMethod,
              apiKeyArguments(
                modelMethod,
                Array.isArray(args) ? (args as unknown[]) : [],
                isDict(kwargs) ? kwargs : {},
              ),
              tx.uid,
              'execute_kw',
            );
          }
          const { store } = database;
          if (method === 'execute')
            return dispatchExecuteKw(store, tx, model, modelMethod, rest, {});
          return dispatchExecuteKw(store, tx, model, modelMethod, rest[0] ?? [], rest[1] ?? {});
        }
        default:
          throw pythonError('KeyError', `'${service}'`);
      }
    },
    databaseOf(service, method, params) {
      const names =
        service === 'object' ||
        (service === 'common' && (method === 'authenticate' || method === 'login'));
      return names ? params[0] : undefined;
    },
    callInfo(protocol, service, method, params) {
      const info: SandboxCallInfo = {
        protocol,
        service: service === 'common' || service === 'db' ? service : 'object',
        method,
      };
      if (service === 'object' && typeof params[3] === 'string') {
        info.model = params[3];
        if (typeof params[4] === 'string') info.modelMethod = params[4];
        const ids = idsOf(params[5]);
        if (
          ids !== undefined &&
          info.modelMethod !== undefined &&
          RECORD_METHODS.has(info.modelMethod)
        )
          info.ids = ids;
      }
      return info;
    },
  };
}

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
