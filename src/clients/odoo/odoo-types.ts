/**
 * The shapes the Odoo client speaks in: options, domains, records, field descriptions and the
 * transport contract. Types only; the behaviour lives in the client and the transports.
 */

/** Which wire the client uses: `/xmlrpc/2`, `/jsonrpc`, or Odoo 19's `/json/2`. */
export type OdooProtocol = 'xmlrpc' | 'jsonrpc' | 'json2';

export interface OdooClientOptions {
  /** Base URL of the Odoo server, e.g. `http://odoo:8069`. */
  url: string;
  database: string;
  username: string;
  /** Password (or an API key). Never logged, never put in an error. */
  password: string;
  /**
   * The API key: JSON-2's bearer, and in the password's place on XML-RPC and JSON-RPC (Odoo takes
   * a key wherever it takes the password). Never logged, never put in an error.
   */
  apiKey?: string;
  /** Timeout of one attempt of one call, connection to last byte. */
  timeoutMs: number;
  /** Further attempts after a retryable failure (0 = try once). */
  retries: number;
  /** `auto`: chosen from the server's version at the first call (transport-choice.ts). */
  protocol: OdooProtocol | 'auto';
  /**
   * Odoo may serve JSON-2's read-only methods from a read replica that lags (`db_replica_host`,
   * Odoo 18+); XML-RPC and JSON-RPC are served by the primary. Default false.
   */
  readReplica?: boolean;
  /** First backoff step; each retry waits a random time up to base × 2^attempt. Default 250. */
  retryBaseDelayMs?: number;
  /** Upper bound of one backoff wait. Default 10,000. */
  retryMaxDelayMs?: number;
  /**
   * After Odoo refuses the credentials, every call fails at once without reaching Odoo for this
   * long (default 60,000, Odoo's own login cooldown): a fleet of jobs meeting a revoked key must
   * not become a storm of failed logins that locks the IP out.
   */
  authCooldownMs?: number;
}

/** Per-call options every client method takes last. */
export interface OdooCallOptions {
  signal?: AbortSignal;
  /**
   * Retries of this call instead of the client's (0 for a call that must not run twice, such as
   * one that creates something: a timed-out attempt may have succeeded).
   */
  retries?: number;
  /**
   * The largest answer this call reads, in bytes: a larger one is refused with
   * `ODOO_ANSWER_TOO_LARGE` when its `Content-Length` arrives, or as soon as that many bytes
   * have come without one, and never held whole. Unset: any answer.
   */
  maxAnswerBytes?: number;
}

/** An Odoo context dictionary (`active_test`, `lang`, `tz`, …). */
export type OdooContext = Record<string, unknown>;

/** One leaf of a domain: `[field, operator, value]`. */
export type OdooDomainLeaf = readonly [string | number, string, unknown];

/** A prefix-notation domain: leaves and the operators `&`, `|`, `!`. */
export type OdooDomain = ReadonlyArray<OdooDomainLeaf | '&' | '|' | '!'>;

/** A record as Odoo sends it: `id` plus the requested fields, in Odoo's own conventions. */
export type OdooRecord = { id: number } & Record<string, unknown>;

/** `load` of `read`/`search_read`: `'_classic_read'` gives many2one `[id, name]`, `''` bare ids. */
export type OdooLoad = '_classic_read' | '';

export interface OdooSearchReadOptions {
  fields: readonly string[];
  /** Always pass one: a model's default `_order` is rarely `id`. */
  order: string;
  limit?: number;
  offset?: number;
  context?: OdooContext;
  load?: OdooLoad;
}

export interface OdooSearchOptions {
  order?: string;
  limit?: number;
  offset?: number;
  context?: OdooContext;
}

export interface OdooSearchCountOptions {
  limit?: number;
  context?: OdooContext;
}

export interface OdooReadOptions {
  context?: OdooContext;
  load?: OdooLoad;
}

export interface OdooFieldsGetOptions {
  /** Only these fields (default: all). */
  allfields?: readonly string[];
  context?: OdooContext;
}

export interface OdooPagesOptions {
  fields: readonly string[];
  pageSize: number;
  context?: OdooContext;
  load?: OdooLoad;
}

/** Odoo field types (`fields_get` → `type`). */
export type OdooFieldType =
  | 'char'
  | 'text'
  | 'html'
  | 'selection'
  | 'boolean'
  | 'integer'
  | 'float'
  | 'monetary'
  | 'date'
  | 'datetime'
  | 'many2one'
  | 'one2many'
  | 'many2many'
  | 'binary'
  | 'reference'
  | 'many2one_reference'
  | 'json'
  | 'properties'
  | 'properties_definition';

/** One entry of `fields_get`; only the attributes that were asked for are present. */
export interface OdooFieldDescription {
  type?: OdooFieldType;
  string?: string;
  store?: boolean;
  relation?: string;
  required?: boolean;
  readonly?: boolean;
  selection?: Array<[string, string]>;
  [attribute: string]: unknown;
}

/** A stored field, as `storedFields` lists it. */
export interface OdooStoredField {
  name: string;
  type: OdooFieldType;
  relation?: string;
  /** Odoo's `groups` (who may read it), when `fields_get` gives it. */
  groups?: string;
}

export interface OdooVersion {
  serverVersion: string;
  /** e.g. `[17, 0, 0, 'final', 0, '']`. */
  versionInfo: Array<number | string>;
  serverSerie?: string;
  protocolVersion?: number;
}

/**
 * Where the client takes its API key when the key can change under it: renewed by another
 * process and kept in a shared store. Implementations never throw for a store they cannot read:
 * they answer the key they have.
 */
export interface OdooApiKeySource {
  /** The key for the next call (a shared store read at most every few seconds). */
  current(): Promise<string>;
  /** After Odoo refused `refused`: a newer key stored since, to try once; else undefined. */
  newerThan(refused: string): Promise<string | undefined>;
  /** When the key in use lapses, when known. */
  expiresAt(): Date | undefined;
}

/** Options of one transport request; the client sets both on every attempt. */
export interface OdooRequestOptions {
  signal: AbortSignal;
  timeoutMs: number;
  /** Sees the `Date` header of each answer: Odoo's clock, to the second. */
  onServerDate?: (date: Date) => void;
  /** Sees the size of each exchange: the request's body and the answer's, in bytes. */
  onBytes?: (sentBytes: number, receivedBytes: number) => void;
  /** The largest answer read (OdooCallOptions.maxAnswerBytes). */
  maxAnswerBytes?: number;
}

/**
 * What the client needs from a wire. Implementations translate every failure into an
 * `OdooError`; none of them retries (the client does).
 */
export interface OdooTransport {
  readonly protocol: OdooProtocol;
  version(options: OdooRequestOptions): Promise<OdooVersion>;
  /** The user's id, or `false` when Odoo refuses the credentials. */
  authenticate(options: OdooRequestOptions): Promise<number | false>;
  /** `execute_kw(db, uid, password, model, method, args, kwargs)` or its JSON-2 equivalent. */
  executeKw(
    uid: number,
    model: string,
    method: string,
    args: readonly unknown[],
    kwargs: Readonly<Record<string, unknown>>,
    options: OdooRequestOptions,
  ): Promise<unknown>;
}
