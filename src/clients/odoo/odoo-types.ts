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
  /**
   * Whether `readTree` asks Odoo 17+'s `web_read` (default true); false: it answers undefined
   * and a page reads its roots and their children in calls of their own.
   */
  treeReads?: boolean;
}

/** What a call asks of its answer's large strings (OdooCallOptions.largeTexts). */
export interface OdooLargeTextsOption {
  /** A string is left in the answer's bytes from this many bytes on (escapes included). */
  readonly minBytes: number;
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
  /**
   * Strings of the answer past `minBytes` are left in its bytes, each an `OdooLargeText` in the
   * value's place, read a piece at a time and released by the caller (large-texts.ts).
   */
  largeTexts?: OdooLargeTextsOption;
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

/** What a tree read (`OdooClient.readTree`) reads of one model. */
export interface OdooTreeFields {
  readonly fields: readonly string[];
  /** The many2one among `fields`: read with their target's name, as `read` gives them. */
  readonly many2one: readonly string[];
}

/** A one2many of the roots whose records a tree read reads with them. */
export interface OdooTreeBranch extends OdooTreeFields {
  readonly field: string;
}

/** What a tree read reads: the roots' fields and the one2many whose records come with them. */
export interface OdooTreeRead extends OdooTreeFields {
  readonly branches: readonly OdooTreeBranch[];
}

/** The roots of a tree read and the records their branches list, each as `read` gives it. */
export interface OdooTree {
  /** Each branch's one2many holds its records' ids, as `read` gives it. */
  readonly records: OdooRecord[];
  /** The records each branch lists, in the order of the branches. */
  readonly branches: OdooRecord[][];
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
  /** A one2many's inverse many2one on its targets (`relation_field`), when described. */
  inverse?: string;
  /**
   * A one2many described with no domain and no context of its own: its value lists every
   * target whose inverse points at the record, archived ones included, as a search would.
   */
  unfiltered?: true;
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
  /** The answer's large strings left in its bytes (OdooCallOptions.largeTexts). */
  largeTexts?: OdooLargeTextsOption;
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

/** What `ODOO_PROTOCOL` may say. */
export type OdooProtocolSetting = OdooProtocol | 'auto';

export interface OdooTransportChoice {
  readonly protocol: OdooProtocol;
  /** What was configured. */
  readonly requested: OdooProtocolSetting;
  /** Why, in a sentence an operator reads in a start line or a status. */
  readonly reason: string;
  /** The server's version when it was read (`auto`), e.g. `19.0`. */
  readonly serverVersion?: string;
  /** Set when the server logs every call of this transport as deprecated. */
  readonly deprecationWarning?: string;
}

/** A client for one Odoo database and user. Every method takes `{ signal }` last. */
export interface OdooClient {
  /**
   * The transport and why; with `auto` the first call of the process reads the server's version
   * (no credentials needed) and every later call reuses the answer. A failure is not kept: the
   * next call tries again.
   */
  transport(options?: OdooCallOptions): Promise<OdooTransportChoice>;
  /** The transport chosen so far, without asking Odoo. */
  chosenTransport(): OdooTransportChoice | undefined;
  /** The server's version (`common.version`, or `/web/version` on JSON-2). */
  version(options?: OdooCallOptions): Promise<OdooVersion>;
  /**
   * The user's id, cached after the first success. Concurrent callers share one login.
   * @throws OdooError `ODOO_AUTH` (not retryable) when Odoo refuses the credentials.
   */
  authenticate(options?: OdooCallOptions): Promise<number>;
  /** The sync user's own context (`res.users.context_get`: `lang`, `tz`, `uid`). */
  userContext(options?: OdooCallOptions): Promise<OdooContext>;
  /** `execute_kw(model, method, args, kwargs)`; `undefined` kwargs are left out. */
  executeKw<T = unknown>(
    model: string,
    method: string,
    args?: readonly unknown[],
    kwargs?: Readonly<Record<string, unknown>>,
    options?: OdooCallOptions,
  ): Promise<T>;
  searchRead<T extends OdooRecord = OdooRecord>(
    model: string,
    domain: OdooDomain,
    readOptions: OdooSearchReadOptions,
    options?: OdooCallOptions,
  ): Promise<T[]>;
  search(
    model: string,
    domain: OdooDomain,
    searchOptions?: OdooSearchOptions,
    options?: OdooCallOptions,
  ): Promise<number[]>;
  searchCount(
    model: string,
    domain: OdooDomain,
    countOptions?: OdooSearchCountOptions,
    options?: OdooCallOptions,
  ): Promise<number>;
  /**
   * Records that no longer exist are missing from the answer (Odoo drops them silently); each
   * other record comes with its own values, read a second time when Odoo paired them wrong
   * (docs/odoo.md, "Reads by id").
   * @throws OdooError `ODOO_INCONSISTENT_READ` (retryable) when that keeps happening
   */
  read<T extends OdooRecord = OdooRecord>(
    model: string,
    ids: readonly number[],
    fields: readonly string[],
    readOptions?: OdooReadOptions,
    options?: OdooCallOptions,
  ): Promise<T[]>;
  /**
   * Records by id with the records their one2many `branches` list, in one call and one
   * transaction: Odoo 17's `web_read`, each value given back as `read` gives it (docs/odoo.md,
   * "Roots and their children in one call"). Undefined where Odoo has no `web_read` (before
   * 17.0, or a server that says it has no such method: then never asked again by this client).
   * @throws OdooError `ODOO_USER_ERROR` when a record asked for no longer exists (`web_read`
   * raises where `read` leaves it out); `ODOO_INCONSISTENT_READ` when a record lacks a field
   */
  readTree(
    model: string,
    ids: readonly number[],
    tree: OdooTreeRead,
    readOptions?: { context?: OdooContext },
    options?: OdooCallOptions,
  ): Promise<OdooTree | undefined>;
  /** `fields_get` with an explicit attribute list (an unbounded one can fault on Odoo 19). */
  fieldsGet(
    model: string,
    attributes: readonly string[],
    fieldsOptions?: OdooFieldsGetOptions,
    options?: OdooCallOptions,
  ): Promise<Record<string, OdooFieldDescription>>;
  /**
   * The model's stored fields (`store: true`) with their types, sorted by name: on JSON-2 from
   * `/doc-bearer/<model>.json` revalidated by its ETag when the user may read it (model-doc.ts),
   * else from `fields_get`.
   */
  storedFields(model: string, options?: OdooCallOptions): Promise<OdooStoredField[]>;
  /**
   * Whether the user may read the model, never raising: `has_access('read')` from Odoo 18 on,
   * `check_access_rights('read')` before (deprecated since 18: Odoo logs each call).
   */
  canRead(model: string, options?: OdooCallOptions): Promise<boolean>;
  /**
   * Pages of the records matching `domain`, by keyset on id (`id > last id`, `order: 'id asc'`):
   * each record that matches throughout is returned exactly once even while others change.
   */
  pages<T extends OdooRecord = OdooRecord>(
    model: string,
    domain: OdooDomain,
    pagesOptions: OdooPagesOptions,
    options?: OdooCallOptions,
  ): AsyncIterable<T[]>;
  /**
   * Odoo's clock as its last answer gave it (the HTTP `Date` header, to the second), or undefined
   * before any answer. Behind a proxy it is the proxy's clock.
   */
  serverTime(): Date | undefined;
  /**
   * Odoo's clock now: the `Date` of a fresh answer (one light call, `version`), where
   * `serverTime` is the last answer's, which may be hours old or from before a clock was set right.
   */
  clock(options?: OdooCallOptions): Promise<Date | undefined>;
  /**
   * Whether the reads of the transport chosen may come from a replica that lags: JSON-2 with
   * `readReplica`. Before the transport is chosen, whether it may be JSON-2.
   */
  readsMayLag(): boolean;
  /** Closes the connection pool the client created (a given dispatcher is left open). */
  close(): Promise<void>;
}
