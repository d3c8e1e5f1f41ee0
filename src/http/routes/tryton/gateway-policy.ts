/**
 * What the gateway forwards to Tryton, decided per call before it leaves: least privilege by
 * default (no model at all), the read methods of the models operators list, any other method
 * they name by pattern, and bounds on what one call may ask for.
 *
 * - A model of `res.*` (users, their keys and reset passwords, groups) or `ir.*` (the system) is
 *   never reached through a wildcard: only when an operator names it, which logs a warning at boot.
 * - No pattern, not even one naming it, reaches a method that reads fields or renders records
 *   outside the field checks below (export_data, reports, wizards…: field-reading-methods); the
 *   read methods a pattern matches go through those checks. Every pattern that matches a method
 *   other than the read methods logs a warning at boot.
 * - A model listed with fields is read, searched and sorted on those fields only; a read that
 *   names no field is given that list.
 * - Every place a field name enters a read method — domain clauses at every nesting level, sort
 *   orders, field lists — is checked. A path through a relation (`create_uid.password_reset`,
 *   `create_uid/password_reset`) reaches another model, and so do `where` clauses and a clause's
 *   fourth element: all are refused. Domains are read as trytond reads them (tryton-domain), so
 *   no shape trytond evaluates differently slips a clause past the check.
 * - A search on `rec_name`, a model's name, runs that model's own code: party's also searches
 *   its identifiers' codes and its contact mechanisms, models nobody listed. It is forwarded only
 *   for a model listed with a field list that names `rec_name`: an operator's explicit choice.
 * - A relation field compared with text (`["identifiers", "ilike", "X%"]`, a many2one `=` a
 *   string) is such a name search of the related model, which trytond runs with that model's
 *   access checks off: it passes only when the related model's `rec_name` is listed so too.
 *   Which fields are relations, only Tryton knows: the caller of `check` passes a lookup of the
 *   model's relation fields, asked only for domains that compare with text.
 * - A search returns at most `maxSearchLimit` records (the limit is added when the caller sends
 *   none), and a read names at most as many ids.
 *
 * Tryton takes the context as the last positional parameter (see docs/tryton.md); params are
 * read and rebuilt with that in mind, and a read method given more arguments than its signature
 * is refused rather than forwarded.
 */
import type { ExposedModel } from '../../../config/tryton-exposure.js';
import {
  isFieldReadingModelMethod,
  isRenderingMethodType,
  readsFieldsOutsideThePolicy,
} from './field-reading-methods.js';
import { readDomain } from './tryton-domain.js';

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

/**
 * The relation fields of a model (many2one, one2many, many2many, one2one) with the model each
 * points to, as Tryton's `fields_get` describes them.
 */
export type RelationFields = (model: string) => Promise<ReadonlyMap<string, string>>;

export interface GatewayPolicy {
  check(
    method: string,
    params: readonly unknown[],
    relationFields: RelationFields,
  ): Promise<GatewayVerdict>;
  /**
   * Things operators should know at boot: sensitive models they exposed by name, and patterns
   * that forward more than the read methods.
   */
  readonly warnings: readonly string[];
}

/**
 * Read methods a listed model gets, with the arguments the gateway takes before the context;
 * writes and buttons only through a named pattern.
 */
const READ_METHOD_ARITY: ReadonlyMap<string, number> = new Map([
  ['search', 5],
  ['search_read', 5],
  ['search_count', 1],
  ['read', 2],
  ['fields_get', 1],
]);
const MODEL_READ_METHODS: ReadonlySet<string> = new Set(READ_METHOD_ARITY.keys());
/** Read methods served on Tryton's root, without a session. */
const ROOT_READ_METHODS: ReadonlySet<string> = new Set(['common.server.version', 'common.db.list']);
/** Users, the system, and web users (web_user: password hashes, reset tokens, sessions). */
const SENSITIVE_MODEL = /^(?:res|ir|web)\./;
const SEGMENT = '[A-Za-z0-9_]+';
/** A field of the called model itself; anything with `.` or `/` is a path to another model. */
const FIELD_NAME = /^[A-Za-z0-9_]+$/;
/** trytond's sort directions (`ModelSQL.search`), upper-cased there before it reads them. */
const ORDER_DIRECTION = /^(?:asc|desc)(?: nulls (?:first|last))?$/i;

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

/** What an operator should know about a pattern at boot, if it matches more than read methods. */
function patternWarning(pattern: string): string | undefined {
  const segments = pattern.split('.');
  const type = segments[0]!;
  const last = segments[segments.length - 1]!;
  const literalLast = segments.length >= 3 && last !== '*';
  if (ROOT_READ_METHODS.has(pattern)) return undefined;
  if (type === 'model' && literalLast && MODEL_READ_METHODS.has(last)) return undefined;
  if (
    isRenderingMethodType(type) ||
    (type === 'model' && literalLast && isFieldReadingModelMethod(last))
  )
    return `TRYTON_ALLOWED_METHODS: "${pattern}" matches only methods that read fields or render records outside the gateway's field policy; the gateway never forwards them`;
  return `TRYTON_ALLOWED_METHODS: "${pattern}" matches methods other than the read methods (writes, buttons…), and every operator key can call them; those that read fields or render records outside the field policy (export_data, on_change, autocomplete, reports, wizards…) stay refused`;
}

/** `model.party.party.read` → `{ model: 'party.party', name: 'read' }`. */
function modelMethod(method: string): { model: string; name: string } | undefined {
  const segments = method.split('.');
  if (segments[0] !== 'model' || segments.length < 3) return undefined;
  return { model: segments.slice(1, -1).join('.'), name: segments[segments.length - 1]! };
}

/** A caller's field name in a message, cut short: it comes from the request. */
const shown = (field: string) =>
  JSON.stringify(field.length > 80 ? `${field.slice(0, 80)}…` : field);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Whether trytond could take a clause value for names to search on a relation: text turns into
 * a `rec_name` search there. A list holding text is counted too: 6.0 and 7.0 compare ids with it,
 * and it matches no record id anyway.
 */
const comparesText = (value: unknown): boolean =>
  typeof value === 'string' ||
  (Array.isArray(value) && value.some((item) => typeof item === 'string'));

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
  const warnings = [
    ...[...named]
      .filter((model) => SENSITIVE_MODEL.test(model))
      .map(
        (model) =>
          `the Tryton gateway exposes ${model}, a user or system model: every operator key can reach it`,
      ),
    ...options.methodPatterns.flatMap((pattern) => patternWarning(pattern) ?? []),
  ];

  const allowedByPattern = (method: string, model: string | undefined) =>
    patterns.some(
      (pattern) =>
        pattern.expression.test(method) &&
        (model === undefined || !SENSITIVE_MODEL.test(model) || pattern.literalModel === model),
    );

  function checkField(entry: ExposedModel | undefined, field: unknown, where: string): void {
    if (typeof field !== 'string')
      throw new Refusal(400, 'TRYTON_BAD_PARAMS', `${where}: a field name must be a string`);
    if (field.includes('.') || field.includes('/'))
      throw new Refusal(
        403,
        'TRYTON_FIELD_NOT_ALLOWED',
        `${where}: the field path ${shown(field)} reaches another model; the gateway forwards no path through a relation`,
      );
    if (!FIELD_NAME.test(field))
      throw new Refusal(400, 'TRYTON_BAD_PARAMS', `${where}: ${shown(field)} is not a field name`);
    if (entry?.fields && !entry.fields.includes(field))
      throw new Refusal(
        403,
        'TRYTON_FIELD_NOT_ALLOWED',
        `${where}: the field ${shown(field)} is not exposed`,
      );
  }

  /** Checks a domain; adds to `textFields` each field it compares with text. */
  function checkDomain(
    entry: ExposedModel | undefined,
    domain: unknown,
    textFields: Set<string>,
  ): void {
    const reading = readDomain(domain);
    if (!reading.ok) throw new Refusal(400, 'TRYTON_BAD_DOMAIN', `domain: ${reading.problem}`);
    for (const clause of reading.clauses) {
      if (clause.operator === 'where' || clause.operator === 'not where')
        throw new Refusal(
          403,
          'TRYTON_FIELD_NOT_ALLOWED',
          `domain: "${clause.operator}" searches another model`,
        );
      if (clause.hasTarget)
        throw new Refusal(
          403,
          'TRYTON_FIELD_NOT_ALLOWED',
          `domain: the fourth element of a clause on ${clause.field} names another model or its field`,
        );
      checkField(entry, clause.field, 'domain');
      if (clause.field === 'rec_name' && !namesListed(entry?.model))
        throw new Refusal(
          403,
          'TRYTON_FIELD_NOT_ALLOWED',
          "domain: a search on rec_name runs the model's own name search, which may reach other models; TRYTON_MODELS must list the model with fields naming rec_name",
        );
      if (comparesText(clause.value)) textFields.add(clause.field);
    }
  }

  /** Whether an operator listed `model` with a field list naming `rec_name`. */
  const namesListed = (model: string | undefined): boolean =>
    model !== undefined && models.get(model)?.fields?.includes('rec_name') === true;

  async function checkTextOnRelations(
    model: string,
    textFields: ReadonlySet<string>,
    relationFields: RelationFields,
  ): Promise<void> {
    const relations = await relationFields(model);
    for (const field of textFields) {
      const related = relations.get(field);
      if (related !== undefined && !namesListed(related))
        throw new Refusal(
          403,
          'TRYTON_FIELD_NOT_ALLOWED',
          `domain: text compared with the relation ${shown(field)} searches ${related} records by name, which TRYTON_MODELS does not list (${related}:…|rec_name); compare ids instead`,
        );
    }
  }

  function checkFields(entry: ExposedModel | undefined, names: unknown, where: string) {
    if (!Array.isArray(names))
      throw new Refusal(400, 'TRYTON_BAD_PARAMS', `${where} must be a list`);
    for (const name of names) checkField(entry, name, where);
  }

  function checkOrder(entry: ExposedModel | undefined, order: unknown): void {
    if (order === undefined || order === null) return;
    if (!Array.isArray(order)) throw new Refusal(400, 'TRYTON_BAD_PARAMS', 'order must be a list');
    for (const item of order) {
      if (!Array.isArray(item) || item.length !== 2)
        throw new Refusal(400, 'TRYTON_BAD_PARAMS', 'order: each item is [field, direction]');
      const [field, direction] = item as unknown[];
      checkField(entry, field, 'order');
      if (
        direction !== null &&
        direction !== '' &&
        !(typeof direction === 'string' && ORDER_DIRECTION.test(direction))
      )
        throw new Refusal(
          400,
          'TRYTON_BAD_PARAMS',
          'order: a direction is ASC or DESC, optionally with NULLS FIRST or NULLS LAST',
        );
    }
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

  function checkOffset(offset: unknown): void {
    if (offset !== null && !(Number.isSafeInteger(offset) && (offset as number) >= 0))
      throw new Refusal(400, 'TRYTON_BAD_PARAMS', 'offset must be a whole number from 0');
  }

  function checkIds(ids: unknown): void {
    if (!Array.isArray(ids) || !ids.every((id) => Number.isSafeInteger(id) && (id as number) >= 0))
      throw new Refusal(400, 'TRYTON_BAD_PARAMS', 'read takes a list of record ids');
    if (ids.length > options.maxSearchLimit)
      throw new Refusal(
        400,
        'TRYTON_LIMIT_TOO_LARGE',
        `read of ${ids.length} ids is over the gateway's maximum of ${options.maxSearchLimit}`,
      );
  }

  /**
   * Checks the arguments of a model read method; returns them with the bounds filled in. Fields
   * its domain compares with text go to `textFields`, for the relation check.
   */
  function boundArguments(
    entry: ExposedModel | undefined,
    name: string,
    args: unknown[],
    textFields: Set<string>,
  ): unknown[] {
    // Positional arguments past the signature would land elsewhere than the checks assumed.
    if (args.length > (READ_METHOD_ARITY.get(name) ?? 0))
      throw new Refusal(
        400,
        'TRYTON_BAD_PARAMS',
        `${name} takes at most ${READ_METHOD_ARITY.get(name)} arguments before the context`,
      );
    const readAll = (names: unknown) =>
      entry?.fields &&
      (names === undefined || names === null || (Array.isArray(names) && names.length === 0))
        ? [...entry.fields]
        : names;
    switch (name) {
      case 'search':
      case 'search_read': {
        const [domain = [], offset = 0, limit, order = null, last] = args;
        checkDomain(entry, domain, textFields);
        checkOffset(offset);
        checkOrder(entry, order);
        const bounded = [domain, offset, checkLimit(limit), order];
        if (name === 'search') {
          if (last !== undefined && typeof last !== 'boolean')
            throw new Refusal(400, 'TRYTON_BAD_PARAMS', 'count must be true or false');
          return last === undefined ? bounded : [...bounded, last];
        }
        const names = readAll(last);
        if (names !== undefined && names !== null) checkFields(entry, names, 'fields');
        return [...bounded, names ?? null];
      }
      case 'search_count':
        checkDomain(entry, args[0], textFields);
        return args;
      case 'read': {
        const [ids, fieldNames] = args;
        checkIds(ids);
        const names = readAll(fieldNames);
        if (names !== undefined && names !== null) checkFields(entry, names, 'fields');
        return [ids, names ?? null];
      }
      default: {
        // fields_get: its level argument, which would describe related models, is not taken.
        const [fieldNames] = args;
        const names = readAll(fieldNames);
        if (names !== undefined && names !== null) checkFields(entry, names, 'fields');
        return names === undefined ? args : [names];
      }
    }
  }

  return {
    warnings,
    async check(method, params, relationFields) {
      const target = modelMethod(method);
      const entry = target ? models.get(target.model) : undefined;
      const readMethod = target !== undefined && MODEL_READ_METHODS.has(target.name);
      if (!readMethod && readsFieldsOutsideThePolicy(method))
        return {
          allowed: false,
          status: 403,
          code: 'TRYTON_METHOD_NOT_ALLOWED',
          message: `The method ${method} reads fields or renders records outside the gateway's field checks; no pattern forwards it`,
        };
      const viaModels = entry !== undefined && readMethod;
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
        const textFields = new Set<string>();
        const bounded = boundArguments(entry, target.name, args, textFields);
        if (textFields.size > 0)
          await checkTextOnRelations(target.model, textFields, relationFields);
        return { allowed: true, params: [...bounded, context ?? {}], model: target.model };
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        return { allowed: false, status: error.status, code: error.code, message: error.message };
      }
    },
  };
}
