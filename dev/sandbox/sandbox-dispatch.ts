/**
 * `call_kw` for the sandbox: finds the model and the public method, binds positional and keyword
 * arguments the way Python would (with Python's TypeErrors when they do not fit), pops the
 * context, runs the ORM method and shapes the result as Odoo does (`create` of one dict → an
 * id, recordsets → ids).
 *
 * Both entry points share it: `execute_kw` (XML-RPC and JSON-RPC: ids are the first positional
 * argument of record methods) and JSON-2 (named arguments only, ids in `ids`, werkzeug statuses
 * for unknown models and methods and for arguments that do not bind).
 */
import type { PyValue } from './python-values.js';
import { repr } from './python-repr.js';
import {
  accessError,
  httpException,
  pythonError,
  userError,
  type OdooException,
} from './sandbox-exceptions.js';
import type { AccessOperation } from './models/field-spec.js';
import { webRead } from './sandbox-web-read.js';
import { langOf, readContextOf, type SandboxStore, type TransactionInfo } from './sandbox-store.js';

interface Parameter {
  name: string;
  /** Absent: the argument is required. */
  default?: unknown;
}

interface MethodSpec {
  /** `@api.model` methods take no ids; record methods take them first. */
  api: 'model' | 'records';
  params: readonly Parameter[];
  /** Accepts `**kwargs` (search_read's read_kwargs). */
  extraKwargs?: boolean;
  /** Only on these models. */
  models?: readonly string[];
  /** Only on models with an `active` field. */
  needsActive?: boolean;
  /** Only from this series on. */
  sinceMajor?: number;
  /** Gone from this series on (the method Odoo removed). */
  removedInMajor?: number;
  /** From this series on, each call logs Odoo's DeprecationWarning with this text. */
  deprecated?: { sinceMajor: number; warning: string };
  run(call: BoundCall): PyValue;
}

export interface BoundCall {
  store: SandboxStore;
  tx: TransactionInfo;
  model: string;
  ids: number[];
  args: Record<string, unknown>;
  context: Record<string, unknown>;
}

/** `check_access_rights(operation)` on the call's model; AccessError when refused. */
function checkRead(store: SandboxStore, model: string): void {
  store.access.check(store.requireTable(model).spec, 'read');
}

const OPERATIONS = new Set(['read', 'write', 'create', 'unlink']);

/** `operation` checked as `ir.model.access` checks it: one of the four. */
function accessOperation(operation: unknown): AccessOperation {
  if (typeof operation !== 'string' || !OPERATIONS.has(operation))
    throw pythonError('AssertionError', 'Invalid access mode');
  return operation as AccessOperation;
}

const METHODS: Readonly<Record<string, MethodSpec>> = {
  check_access_rights: {
    api: 'model',
    params: [{ name: 'operation' }, { name: 'raise_exception', default: true }],
    // Odoo 20 removed it: `BaseModel` has `has_access` and a private `check_access` alone
    // (odoo/odoo, odoo/orm/models.py at 00649da42372cf197edfbb2fa8ab437862e39be4; docs/odoo.md,
    // "Odoo 20.0").
    removedInMajor: 20,
    deprecated: {
      sinceMajor: 18,
      warning:
        'DeprecationWarning: check_access_rights() is deprecated since 18.0; use check_access() instead.',
    },
    run: ({ store, model, args }) => {
      const mode = accessOperation(args.operation);
      const spec = store.requireTable(model).spec;
      if (!isTruthy(args.raise_exception)) return store.access.allows(spec, mode);
      store.access.check(spec, mode);
      // Since 18 it returns what `check_access` returns: None.
      return store.major >= 18 ? null : true;
    },
  },
  // Odoo 18's `has_access(operation)`: on an empty recordset, the model's rights alone.
  has_access: {
    api: 'records',
    params: [{ name: 'operation' }],
    sinceMajor: 18,
    run: ({ store, model, args }) =>
      store.access.allows(store.requireTable(model).spec, accessOperation(args.operation)),
  },
  search_read: {
    api: 'model',
    params: [
      { name: 'domain', default: null },
      { name: 'fields', default: null },
      { name: 'offset', default: 0 },
      { name: 'limit', default: null },
      { name: 'order', default: null },
    ],
    extraKwargs: true,
    run: ({ store, model, args, context }) => {
      checkRead(store, model);
      const { domain, fields, offset, limit, order, ...readKwargs } = args;
      for (const key of Object.keys(readKwargs)) {
        if (key !== 'load')
          throw pythonError(
            'TypeError',
            `BaseModel._read_format() got an unexpected keyword argument '${key}'`,
          );
      }
      return store.searchReadList(model, domain, fields, {
        offset,
        limit,
        order,
        context,
        load: readKwargs.load ?? '_classic_read',
      });
    },
  },
  search: {
    api: 'model',
    params: [
      { name: 'domain' },
      { name: 'offset', default: 0 },
      { name: 'limit', default: null },
      { name: 'order', default: null },
    ],
    run: ({ store, model, args, context }) => {
      checkRead(store, model);
      return store.search(model, args.domain, {
        offset: args.offset,
        limit: args.limit,
        order: args.order,
        context,
      });
    },
  },
  search_count: {
    api: 'model',
    params: [{ name: 'domain' }, { name: 'limit', default: null }],
    run: ({ store, model, args, context }) => {
      checkRead(store, model);
      return store.searchCount(model, args.domain, { limit: args.limit, context });
    },
  },
  read: {
    api: 'records',
    params: [
      { name: 'fields', default: null },
      { name: 'load', default: '_classic_read' },
    ],
    run: ({ store, model, ids, args, context }) => {
      checkRead(store, model);
      return store.readList(model, ids, args.fields, args.load, readContextOf(context));
    },
  },
  web_read: {
    api: 'records',
    params: [{ name: 'specification' }],
    sinceMajor: 17,
    run: ({ store, model, ids, args, context, tx }) =>
      webRead(store, model, ids, args.specification, context, tx.uid),
  },
  fields_get: {
    api: 'model',
    params: [
      { name: 'allfields', default: null },
      { name: 'attributes', default: null },
    ],
    run: ({ store, model, args }) => store.fieldsGet(model, args.allfields, args.attributes),
  },
  create: {
    api: 'model',
    params: [{ name: 'vals_list' }],
    run: ({ store, model, args, tx, context }) => {
      const single =
        typeof args.vals_list === 'object' &&
        args.vals_list !== null &&
        !Array.isArray(args.vals_list);
      const ids = store.create(
        model,
        single ? [args.vals_list] : (args.vals_list as unknown[]),
        tx,
        undefined,
        { lang: langOf(context) },
      );
      return single ? ids[0] : ids;
    },
  },
  write: {
    api: 'records',
    params: [{ name: 'vals' }],
    run: ({ store, model, ids, args, tx, context }) => {
      store.write(model, ids, args.vals, tx, { lang: langOf(context) });
      return true;
    },
  },
  unlink: {
    api: 'records',
    params: [],
    run: ({ store, model, ids, tx }) => {
      store.unlink(model, ids, tx);
      return true;
    },
  },
  // Both return None (17: `toggle_active`'s; 19: none at all).
  action_archive: {
    api: 'records',
    params: [],
    needsActive: true,
    run: ({ store, model, ids, tx }) => {
      store.write(model, ids, { [activeFieldOf(store, model)]: false }, tx);
      return null;
    },
  },
  action_unarchive: {
    api: 'records',
    params: [],
    needsActive: true,
    run: ({ store, model, ids, tx }) => {
      store.write(model, ids, { [activeFieldOf(store, model)]: true }, tx);
      return null;
    },
  },
  context_get: {
    api: 'model',
    params: [],
    models: ['res.users'],
    run: ({ store, tx }) => ({ ...store.userContext, uid: tx.uid }),
  },
};

/**
 * The methods Odoo marks read-only (`@api.readonly`), which JSON-2 may serve from a read replica;
 * every other call, and every call over XML-RPC and JSON-RPC, runs on the primary.
 */
const READONLY_METHODS: ReadonlySet<string> = new Set([
  'search_read',
  'search',
  'search_count',
  'read',
  'web_read',
  'fields_get',
]);

export function isReadonlyMethod(method: string): boolean {
  return READONLY_METHODS.has(method);
}

/** The model's archive field (`needsActive` methods only run on models that have one). */
function activeFieldOf(store: SandboxStore, model: string): string {
  return store.requireTable(model).activeField as string;
}

/** Which wire called: decides how lookup failures are reported. */
export type DispatchStyle = 'execute_kw' | 'json2';

/** Looks the method up like `get_public_method`; JSON-2 reports misses as 404s. */
function resolve(
  store: SandboxStore,
  model: string,
  method: string,
  style: DispatchStyle,
): MethodSpec {
  const table = store.table(model);
  if (table === undefined) {
    throw style === 'json2'
      ? httpException(404, `the model ${repr(model)} does not exist`)
      : userError(`Object ${model} doesn't exist`);
  }
  if (method.startsWith('_')) {
    throw accessError(`Private methods (such as '${model}.${method}') cannot be called remotely.`);
  }
  const spec = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
  if (
    spec === undefined ||
    (spec.models !== undefined && !spec.models.includes(model)) ||
    (spec.needsActive === true && !table.hasActive) ||
    (spec.sinceMajor !== undefined && store.major < spec.sinceMajor) ||
    (spec.removedInMajor !== undefined && store.major >= spec.removedInMajor)
  ) {
    const message = `The method '${model}.${method}' does not exist`;
    throw style === 'json2' ? httpException(404, message) : pythonError('AttributeError', message);
  }
  if (spec.deprecated !== undefined && store.major >= spec.deprecated.sinceMajor)
    store.warnings.push(spec.deprecated.warning);
  return spec;
}

/** `execute_kw(model, method, args, kwargs)`'s `call_kw`. */
export function dispatchExecuteKw(
  store: SandboxStore,
  tx: TransactionInfo,
  model: string,
  method: string,
  args: unknown,
  kwargs: unknown,
): PyValue {
  const spec = resolve(store, model, method, 'execute_kw');
  const positional = Array.isArray(args) ? [...(args as unknown[])] : [];
  const keywords =
    kwargs !== null && typeof kwargs === 'object' && !Array.isArray(kwargs)
      ? { ...(kwargs as Record<string, unknown>) }
      : {};
  const context = popContext(keywords);
  let ids: number[] = [];
  if (spec.api === 'records') {
    if (positional.length === 0) throw pythonError('IndexError', 'tuple index out of range');
    ids = toIds(positional.shift());
  }
  const bound = bind(spec, positional, keywords, (problem) =>
    pythonError('TypeError', `${method}() ${problem.call}`),
  );
  return spec.run({ store, tx, model, ids, args: bound, context });
}

/** JSON-2's `web_json_2_rpc`: named arguments, `ids` and `context` apart. */
export function dispatchJson2(
  store: SandboxStore,
  tx: TransactionInfo,
  model: string,
  method: string,
  body: Record<string, unknown>,
): PyValue {
  const spec = resolve(store, model, method, 'json2');
  const { ids: rawIds, context: rawContext, ...named } = body;
  const ids = rawIds === undefined || rawIds === null ? [] : toIds(rawIds);
  if (spec.api === 'model' && ids.length > 0)
    throw httpException(422, `cannot call ${model}.${method} with ids`);
  const context =
    rawContext !== null && typeof rawContext === 'object'
      ? (rawContext as Record<string, unknown>)
      : {};
  // JSON-2 binds the body with `inspect.signature(func).bind`, whose TypeErrors word it otherwise.
  const bound = bind(spec, [], named, (problem) => httpException(422, problem.signature), true);
  return spec.run({ store, tx, model, ids, args: bound, context });
}

function popContext(keywords: Record<string, unknown>): Record<string, unknown> {
  const context = keywords.context;
  delete keywords.context;
  return context !== null && typeof context === 'object' && !Array.isArray(context)
    ? (context as Record<string, unknown>)
    : {};
}

function toIds(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (value === false || value === null || value === undefined) return [];
  if (Array.isArray(value) && value.every((id) => typeof id === 'number')) return value;
  throw pythonError('TypeError', `Invalid ids ${repr(value)}`);
}

/**
 * Why arguments do not bind, as Python says it: a call's TypeError (after `<method>() `), and
 * `inspect.Signature.bind`'s.
 */
interface BindProblem {
  call: string;
  signature: string;
}

/**
 * Python's argument binding, with its TypeError texts. A call reports an unexpected keyword
 * before a missing argument; `Signature.bind` (`signatureOrder`) the other way round.
 */
function bind(
  spec: MethodSpec,
  positional: unknown[],
  keywords: Record<string, unknown>,
  error: (problem: BindProblem) => OdooException,
  signatureOrder = false,
): Record<string, unknown> {
  const bound: Record<string, unknown> = {};
  const missing = (): void => {
    for (const param of spec.params.slice(positional.length)) {
      if (!('default' in param) && !(param.name in keywords)) {
        throw error({
          call: `missing 1 required positional argument: '${param.name}'`,
          signature: `missing a required argument: '${param.name}'`,
        });
      }
    }
  };
  if (positional.length > spec.params.length) {
    throw error({
      call: `takes ${spec.params.length + 1} positional arguments but ${positional.length + 1} were given`,
      signature: 'too many positional arguments',
    });
  }
  positional.forEach((value, index) => {
    bound[(spec.params[index] as Parameter).name] = value;
  });
  if (signatureOrder) missing();
  for (const [name, value] of Object.entries(keywords)) {
    const known = spec.params.some((param) => param.name === name);
    if (!known && spec.extraKwargs !== true) {
      const problem = `got an unexpected keyword argument '${name}'`;
      throw error({ call: problem, signature: problem });
    }
    if (name in bound) {
      throw error({
        call: `got multiple values for argument '${name}'`,
        signature: `multiple values for argument '${name}'`,
      });
    }
    bound[name] = value;
  }
  missing();
  for (const param of spec.params) if (!(param.name in bound)) bound[param.name] = param.default;
  return bound;
}

/** Python truthiness of an argument. */
function isTruthy(value: unknown): boolean {
  return !(value === false || value === 0 || value === null || value === undefined || value === '');
}
