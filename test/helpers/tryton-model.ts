/**
 * For the tests: typed wrappers of the read methods every Tryton model exposes (`search`,
 * `search_read`, `read`, `search_count`, `fields_get`) over a client's `call`, so a test passes
 * named options instead of positional arrays whose order differs per method (docs/tryton.md §3).
 * The context is always the last positional argument, which trytond requires. The product calls
 * `client.call` itself (the gateway forwards what it was sent).
 */
import type { TrytonCallOptions, TrytonClient } from '../../src/clients/tryton/tryton-client.js';

/** A Tryton domain: `[['name', 'ilike', '%a%'], ['active', '=', true]]`, `['OR', …]`, `[]`. */
export type TrytonDomain = readonly unknown[];

/** An order clause: `[['name', 'ASC'], ['id', 'DESC']]`. */
export type TrytonOrder = readonly (readonly [
  field: string,
  direction:
    'ASC' | 'DESC' | 'ASC NULLS FIRST' | 'ASC NULLS LAST' | 'DESC NULLS FIRST' | 'DESC NULLS LAST',
])[];

/** The context dict sent as the last argument (language, `active_test`, `_datetime`…). */
export type TrytonContext = Readonly<Record<string, unknown>>;

export interface TrytonModelCallOptions extends TrytonCallOptions {
  context?: TrytonContext;
}

export interface TrytonSearchOptions extends TrytonModelCallOptions {
  offset?: number;
  limit?: number | null;
  order?: TrytonOrder | null;
}

/** A record as Tryton answers it: `id` plus the requested fields (dotted ones under `"field."`). */
export type TrytonRecord = { id: number } & Record<string, unknown>;

/** One field's definition from `fields_get` (the common keys; Tryton sends more). */
export interface TrytonFieldDefinition {
  name: string;
  type: string;
  string: string;
  relation?: string;
  required?: boolean;
  readonly?: boolean;
  [key: string]: unknown;
}

export interface TrytonModel<R extends TrytonRecord = TrytonRecord> {
  readonly name: string;
  search(domain: TrytonDomain, options?: TrytonSearchOptions): Promise<number[]>;
  searchRead(
    domain: TrytonDomain,
    fields: readonly string[],
    options?: TrytonSearchOptions,
  ): Promise<R[]>;
  read(
    ids: readonly number[],
    fields: readonly string[],
    options?: TrytonModelCallOptions,
  ): Promise<R[]>;
  searchCount(domain: TrytonDomain, options?: TrytonModelCallOptions): Promise<number>;
  /** All fields when `fields` is omitted. */
  fieldsGet(
    fields?: readonly string[],
    options?: TrytonModelCallOptions,
  ): Promise<Record<string, TrytonFieldDefinition>>;
}

/** The call function a model wraps (the client's `call`). */
export type TrytonCallFunction = (
  method: string,
  params: readonly unknown[],
  options?: TrytonCallOptions,
) => Promise<unknown>;

function callOptions(options: TrytonModelCallOptions | undefined): TrytonCallOptions {
  return { signal: options?.signal, timeoutMs: options?.timeoutMs };
}

export function createTrytonModel<R extends TrytonRecord = TrytonRecord>(
  call: TrytonCallFunction,
  name: string,
): TrytonModel<R> {
  const method = (suffix: string) => `model.${name}.${suffix}`;
  const context = (options: TrytonModelCallOptions | undefined) => options?.context ?? {};
  return {
    name,
    async search(domain, options) {
      // search(domain, offset, limit, order, context): `count=True` is broken over RPC.
      const params = [
        domain,
        options?.offset ?? 0,
        options?.limit ?? null,
        options?.order ?? null,
        context(options),
      ];
      return (await call(method('search'), params, callOptions(options))) as number[];
    },
    async searchRead(domain, fields, options) {
      const params = [
        domain,
        options?.offset ?? 0,
        options?.limit ?? null,
        options?.order ?? null,
        fields,
        context(options),
      ];
      return (await call(method('search_read'), params, callOptions(options))) as R[];
    },
    async read(ids, fields, options) {
      return (await call(
        method('read'),
        [ids, fields, context(options)],
        callOptions(options),
      )) as R[];
    },
    async searchCount(domain, options) {
      return (await call(
        method('search_count'),
        [domain, context(options)],
        callOptions(options),
      )) as number;
    },
    async fieldsGet(fields, options) {
      return (await call(
        method('fields_get'),
        [fields ?? null, context(options)],
        callOptions(options),
      )) as Record<string, TrytonFieldDefinition>;
    },
  };
}

/** The model `name` through `client`: `modelOf(client, 'party.party').searchCount([])`. */
export function modelOf<R extends TrytonRecord = TrytonRecord>(
  client: Pick<TrytonClient, 'call'>,
  name: string,
): TrytonModel<R> {
  return createTrytonModel<R>(
    (method, params, options) => client.call(method, params, options),
    name,
  );
}
