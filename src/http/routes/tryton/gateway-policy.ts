/**
 * What the gateway forwards to Tryton, decided per call before it leaves: least privilege by
 * default (no model at all), the read methods of the models operators list, any other method
 * they name by pattern, and bounds on what one call may ask for.
 *
 * - A model of `res.*` (users, their keys and reset passwords, groups) or `ir.*` (the system) is
 *   never reached through a wildcard: only when an operator names it, which logs a warning at boot.
 * - A model listed with fields is read, searched and sorted on those fields only; a read that
 *   names no field is given that list.
 * - A field path through a relation (`create_uid.password_reset`) reaches another model, so it is
 *   refused unless the model lists that very path; so are `where` clauses, which search another
 *   model.
 * - A search returns at most `maxSearchLimit` records (the limit is added when the caller sends
 *   none), and a read names at most as many ids.
 *
 * Tryton takes the context as the last positional parameter (see docs/tryton.md); params are
 * read and rebuilt with that in mind.
 */
import type { ExposedModel } from '../../../config/tryton-exposure.js';

export interface GatewayPolicyOptions {
  readonly models: readonly ExposedModel[];
  readonly methodPatterns: readonly string[];
  readonly maxSearchLimit: number;
}

export type GatewayVerdict =
  | { readonly allowed: true; readonly params: readonly unknown[]; readonly model?: string }
  | {
      readonly allowed: false;
      readonly status: 400 | 403;
      readonly code: string;
      readonly message: string;
    };

export interface GatewayPolicy {
  check(method: string, params: readonly unknown[]): GatewayVerdict;
  /** Things operators should know at boot: sensitive models they exposed by name. */
  readonly warnings: readonly string[];
}

/** Read methods a listed model gets; writes and buttons only through a named pattern. */
const MODEL_READ_METHODS = new Set(['search', 'search_read', 'search_count', 'read', 'fields_get']);
const SENSITIVE_MODEL = /^(?:res|ir)\./;
const SEGMENT = '[A-Za-z0-9_]+';

interface Pattern {
  readonly expression: RegExp;
  /** The model a `model.<name>.<method>` pattern names literally, if it does. */
  readonly literalModel?: string;
}

function compilePattern(pattern: string): Pattern {
  const segments = pattern.split('.');
  const expression = new RegExp(
    `^${segments.map((segment) => (segment === '*' ? SEGMENT : segment)).join('\\.')}$`,
  );
  const modelSegments = segments.slice(1, -1);
  const literalModel =
    segments[0] === 'model' && modelSegments.length > 0 && !modelSegments.includes('*')
      ? modelSegments.join('.')
      : undefined;
  return { expression, literalModel };
}

/** `model.party.party.read` → `{ model: 'party.party', name: 'read' }`. */
function modelMethod(method: string): { model: string; name: string } | undefined {
  const segments = method.split('.');
  if (segments[0] !== 'model' || segments.length < 3) return undefined;
  return { model: segments.slice(1, -1).join('.'), name: segments[segments.length - 1]! };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

class Refusal extends Error {
  constructor(
    readonly status: 400 | 403,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function createGatewayPolicy(options: GatewayPolicyOptions): GatewayPolicy {
  const patterns = options.methodPatterns.map(compilePattern);
  const models = new Map(options.models.map((entry) => [entry.model, entry]));
  const named = new Set([
    ...models.keys(),
    ...patterns.flatMap((pattern) => (pattern.literalModel ? [pattern.literalModel] : [])),
  ]);
  const warnings = [...named]
    .filter((model) => SENSITIVE_MODEL.test(model))
    .map(
      (model) =>
        `the Tryton gateway exposes ${model}, a user or system model: every operator key can reach it`,
    );

  const allowedByPattern = (method: string, model: string | undefined) =>
    patterns.some(
      (pattern) =>
        pattern.expression.test(method) &&
        (model === undefined || !SENSITIVE_MODEL.test(model) || pattern.literalModel === model),
    );

  function checkField(entry: ExposedModel | undefined, field: unknown, where: string): void {
    if (typeof field !== 'string')
      throw new Refusal(400, 'TRYTON_BAD_PARAMS', `${where}: a field name must be a string`);
    const listed = entry?.fields;
    if (listed ? listed.includes(field) : !field.includes('.')) return;
    throw new Refusal(
      403,
      'TRYTON_FIELD_NOT_ALLOWED',
      field.includes('.') && !listed
        ? `${where}: the field path ${field} reaches another model; list it in TRYTON_MODELS to allow it`
        : `${where}: the field ${field} is not exposed`,
    );
  }

  function checkDomain(entry: ExposedModel | undefined, domain: unknown, depth = 0): void {
    if (domain === undefined || domain === null) return;
    if (!Array.isArray(domain) || depth > 32)
      throw new Refusal(400, 'TRYTON_BAD_PARAMS', 'the domain must be a list of clauses');
    const [first, operator] = domain as unknown[];
    if (typeof first === 'string' && first !== 'AND' && first !== 'OR') {
      if (typeof operator === 'string' && /^not where$|^where$/i.test(operator))
        throw new Refusal(
          403,
          'TRYTON_FIELD_NOT_ALLOWED',
          `domain: "${operator}" searches another model`,
        );
      checkField(entry, first, 'domain');
      return;
    }
    for (const item of domain) if (Array.isArray(item)) checkDomain(entry, item, depth + 1);
  }

  function checkFields(entry: ExposedModel | undefined, names: unknown, where: string) {
    if (!Array.isArray(names))
      throw new Refusal(400, 'TRYTON_BAD_PARAMS', `${where} must be a list`);
    for (const name of names) checkField(entry, name, where);
  }

  function checkOrder(entry: ExposedModel | undefined, order: unknown): void {
    if (order === undefined || order === null) return;
    if (!Array.isArray(order)) throw new Refusal(400, 'TRYTON_BAD_PARAMS', 'order must be a list');
    for (const item of order) checkField(entry, Array.isArray(item) ? item[0] : item, 'order');
  }

  function checkLimit(limit: unknown): number {
    if (limit === undefined || limit === null) return options.maxSearchLimit;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)
      throw new Refusal(400, 'TRYTON_BAD_PARAMS', 'limit must be a whole number');
    if (limit > options.maxSearchLimit)
      throw new Refusal(
        400,
        'TRYTON_LIMIT_TOO_LARGE',
        `limit ${limit} is over the gateway's maximum of ${options.maxSearchLimit}; page with offset`,
      );
    return limit;
  }

  /** Checks the arguments of a model read method; returns them with the bounds filled in. */
  function boundArguments(
    entry: ExposedModel | undefined,
    name: string,
    args: unknown[],
  ): unknown[] {
    const readAll = (names: unknown) =>
      entry?.fields &&
      (names === undefined || names === null || (Array.isArray(names) && names.length === 0))
        ? [...entry.fields]
        : names;
    switch (name) {
      case 'search':
      case 'search_read': {
        const [domain = [], offset = 0, limit, order = null, fieldNames, ...rest] = args;
        checkDomain(entry, domain);
        checkOrder(entry, order);
        const bounded = [domain, offset, checkLimit(limit), order];
        if (name === 'search')
          return [...bounded, ...(fieldNames === undefined ? [] : [fieldNames]), ...rest];
        const names = readAll(fieldNames);
        if (names !== undefined && names !== null) checkFields(entry, names, 'fields');
        return [...bounded, names ?? null, ...rest];
      }
      case 'search_count':
        checkDomain(entry, args[0]);
        return args;
      case 'read': {
        const [ids, fieldNames, ...rest] = args;
        if (!Array.isArray(ids))
          throw new Refusal(400, 'TRYTON_BAD_PARAMS', 'read takes a list of ids');
        if (ids.length > options.maxSearchLimit)
          throw new Refusal(
            400,
            'TRYTON_LIMIT_TOO_LARGE',
            `read of ${ids.length} ids is over the gateway's maximum of ${options.maxSearchLimit}`,
          );
        const names = readAll(fieldNames);
        if (names !== undefined && names !== null) checkFields(entry, names, 'fields');
        return [ids, names ?? null, ...rest];
      }
      case 'fields_get': {
        const [fieldNames, ...rest] = args;
        const names = readAll(fieldNames);
        if (names !== undefined && names !== null) checkFields(entry, names, 'fields');
        return names === undefined ? args : [names, ...rest];
      }
      default:
        return args;
    }
  }

  return {
    warnings,
    check(method, params) {
      const target = modelMethod(method);
      const entry = target ? models.get(target.model) : undefined;
      const viaModels = entry !== undefined && MODEL_READ_METHODS.has(target!.name);
      if (!viaModels && !allowedByPattern(method, target?.model)) {
        return {
          allowed: false,
          status: 403,
          code: 'TRYTON_METHOD_NOT_ALLOWED',
          message: `The method ${method} is not allowed through the gateway`,
        };
      }
      if (!target || !MODEL_READ_METHODS.has(target.name))
        return { allowed: true, params, model: target?.model };
      const last = params[params.length - 1];
      const context = isPlainObject(last) ? last : undefined;
      const args = context ? params.slice(0, -1) : [...params];
      try {
        const bounded = boundArguments(entry, target.name, args);
        return { allowed: true, params: [...bounded, context ?? {}], model: target.model };
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        return { allowed: false, status: error.status, code: error.code, message: error.message };
      }
    },
  };
}
