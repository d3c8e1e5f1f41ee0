/**
 * The ORM calls the sync makes, built on `execute_kw`: each names Odoo's method and its
 * arguments, and leaves transports, retries and credentials to the client.
 */
import { AppError } from '../../lib/errors.js';
import { isOdooError, OdooError } from './odoo-errors.js';
import type { OdooClient } from './odoo-types.js';
import type {
  OdooCallOptions,
  OdooContext,
  OdooFieldDescription,
  OdooRecord,
  OdooTreeFields,
} from './odoo-types.js';

type OrmCalls = Pick<
  OdooClient,
  | 'userContext'
  | 'searchRead'
  | 'search'
  | 'searchCount'
  | 'read'
  | 'fieldsGet'
  | 'canRead'
  | 'pages'
  | 'readTree'
>;

/** Reads of the same records, when Odoo keeps answering for records deleted meanwhile. */
const READ_ATTEMPTS = 3;

/**
 * The first series with `has_access(operation)`; from it on `check_access_rights` is deprecated
 * and Odoo logs a warning at each call of it (checked on 19.0.0: "deprecated since 18.0").
 */
export const HAS_ACCESS_SINCE_MAJOR = 18;

/**
 * Whether a read's records are each its own: every one with its id and every field asked for.
 * Odoo's read gives each record every field asked for but when it paired its answers wrong.
 */
function pairedRight(records: readonly OdooRecord[], fields: readonly string[]): boolean {
  return records.every(
    (record) =>
      typeof record.id === 'number' && fields.every((name) => Object.hasOwn(record, name)),
  );
}

/** The first series with `web_read` (and its specification): the tree reads. */
export const WEB_READ_SINCE_MAJOR = 17;

/**
 * Server faults of `web_read` in a row, with no tree read given whole between them, after which a
 * process asks it no more: a server that refuses it otherwise than Odoo does ("The method …
 * does not exist") would otherwise cost every page a failed call before its two reads.
 */
export const TREE_FAULTS_BEFORE_REFUSAL = 3;

/** A many2one asked of `web_read` with its target's name, which `read` gives beside its id. */
const NAMED_MANY2ONE = { fields: { display_name: {} } };

/** `web_read`'s specification of a model's fields (a one2many alone gives its ids). */
function specificationOf(read: OdooTreeFields): Record<string, unknown> {
  const many2one = new Set(read.many2one);
  return Object.fromEntries(
    read.fields.map((field) => [field, many2one.has(field) ? NAMED_MANY2ONE : {}]),
  );
}

/**
 * A record as `web_read` gives it, as `read` gives it: each many2one `{id, display_name}` as
 * `[id, display_name]`; undefined when a field asked for is missing (`web_read` gives a
 * co-record it could not read as its id alone).
 */
function asRead(record: unknown, read: OdooTreeFields): OdooRecord | undefined {
  if (record === null || typeof record !== 'object') return undefined;
  const values = record as OdooRecord;
  if (!pairedRight([values], read.fields)) return undefined;
  for (const field of read.many2one) {
    const value = values[field];
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const named = value as { id?: unknown; display_name?: unknown };
      values[field] = [named.id, named.display_name];
    }
  }
  return values;
}

/** Whether Odoo said it has no such method: a server without `web_read`, whatever its series. */
function isUnknownMethod(error: unknown): boolean {
  if (!(error instanceof OdooError)) return false;
  return /method '[^']*' does not exist/i.test(`${error.message}\n${error.faultString ?? ''}`);
}

function inconsistentTree(model: string): OdooError {
  return new OdooError(
    'ODOO_INCONSISTENT_READ',
    `${model}: web_read gave a record or one of its children without every field asked for`,
  );
}

/**
 * @param serverMajor the server's series (undefined when it cannot be read): which access check
 * it answers without a warning
 */
export function createOrmCalls(
  executeKw: OdooClient['executeKw'],
  serverMajor: (callOptions?: OdooCallOptions) => Promise<number | undefined>,
  /** Told once when Odoo says it has no `web_read`. */
  onTreesRefused: (error: unknown) => void = () => undefined,
  /** False: `readTree` never asks (ODOO_TREE_READS). */
  treeReads = true,
): OrmCalls {
  const searchRead: OdooClient['searchRead'] = (model, domain, readOptions, callOptions) =>
    executeKw(
      model,
      'search_read',
      [domain],
      {
        fields: readOptions.fields,
        offset: readOptions.offset,
        limit: readOptions.limit,
        order: readOptions.order,
        context: readOptions.context,
        load: readOptions.load,
      },
      callOptions,
    );

  /** Whether this Odoo refused `web_read` as a method it does not have. */
  let treesRefused = false;
  /** Server faults of `web_read` since its last answer (TREE_FAULTS_BEFORE_REFUSAL). */
  let treeFaults = 0;

  return {
    async readTree(model, ids, tree, readOptions = {}, callOptions) {
      if (!treeReads || treesRefused) return undefined;
      const major = await serverMajor(callOptions);
      if (major === undefined || major < WEB_READ_SINCE_MAJOR) return undefined;
      const specification = specificationOf(tree);
      for (const branch of tree.branches)
        specification[branch.field] = { fields: specificationOf(branch) };
      let answer: unknown[];
      try {
        answer = await executeKw<unknown[]>(
          model,
          'web_read',
          [ids, specification],
          { context: readOptions.context },
          callOptions,
        );
      } catch (error) {
        const fault = isOdooError(error, 'ODOO_SERVER_FAULT') && !error.retryable;
        if (fault) treeFaults += 1;
        if (!isUnknownMethod(error) && !(fault && treeFaults >= TREE_FAULTS_BEFORE_REFUSAL))
          throw error;
        treesRefused = true;
        onTreesRefused(error);
        return undefined;
      }
      treeFaults = 0;
      const records: OdooRecord[] = [];
      const branches: OdooRecord[][] = tree.branches.map(() => []);
      for (const item of answer) {
        const record = asRead(item, tree);
        if (record === undefined) throw inconsistentTree(model);
        tree.branches.forEach((branch, i) => {
          const listed = Array.isArray(record[branch.field])
            ? (record[branch.field] as unknown[])
            : [];
          const children = listed.map((child) => asRead(child, branch));
          if (children.some((child) => child === undefined)) throw inconsistentTree(model);
          record[branch.field] = children.map((child) => child!.id);
          branches[i]!.push(...(children as OdooRecord[]));
        });
        records.push(record);
      }
      return { records, branches };
    },
    userContext: (callOptions) =>
      executeKw<OdooContext>('res.users', 'context_get', [], {}, callOptions),
    searchRead,
    search: (model, domain, searchOptions = {}, callOptions) =>
      executeKw<number[]>(
        model,
        'search',
        [domain],
        {
          offset: searchOptions.offset,
          limit: searchOptions.limit,
          order: searchOptions.order,
          context: searchOptions.context,
        },
        callOptions,
      ),
    searchCount: (model, domain, countOptions = {}, callOptions) =>
      executeKw<number>(
        model,
        'search_count',
        [domain],
        { limit: countOptions.limit, context: countOptions.context },
        callOptions,
      ),
    async read<T extends OdooRecord = OdooRecord>(
      model: string,
      ids: readonly number[],
      fields: readonly string[],
      readOptions: Parameters<OdooClient['read']>[3] = {},
      callOptions?: Parameters<OdooClient['read']>[4],
    ): Promise<T[]> {
      let asked = ids;
      for (let attempt = 1; asked.length > 0; attempt++) {
        const records = await executeKw<T[]>(
          model,
          'read',
          [asked],
          { fields, context: readOptions.context, load: readOptions.load },
          callOptions,
        );
        if (pairedRight(records, fields)) return records;
        // Odoo 17 read the properties of the records that exist and paired them, in order, with
        // every record asked for: a record deleted since it was listed shifts every later one's
        // (docs/odoo.md, "Reads by id"). The records it returned exist: asked again, they pair.
        if (attempt === READ_ATTEMPTS)
          throw new OdooError(
            'ODOO_INCONSISTENT_READ',
            `${model}: records kept disappearing while they were read (${READ_ATTEMPTS} reads)`,
            { retryable: true },
          );
        asked = records.flatMap((record) => (typeof record.id === 'number' ? [record.id] : []));
      }
      return [];
    },
    fieldsGet: (model, attributes, fieldsOptions = {}, callOptions) =>
      executeKw<Record<string, OdooFieldDescription>>(
        model,
        'fields_get',
        [],
        { allfields: fieldsOptions.allfields, attributes, context: fieldsOptions.context },
        callOptions,
      ),
    async canRead(model, callOptions) {
      const major = await serverMajor(callOptions);
      // On an empty recordset `has_access` checks the model's access rights alone, as
      // `check_access_rights(raise_exception=False)` did; Odoo 17 has only the latter.
      const answer =
        major !== undefined && major >= HAS_ACCESS_SINCE_MAJOR
          ? await executeKw<unknown>(model, 'has_access', [[], 'read'], {}, callOptions)
          : await executeKw<unknown>(
              model,
              'check_access_rights',
              ['read'],
              { raise_exception: false },
              callOptions,
            );
      return answer === true;
    },
    pages<T extends OdooRecord>(
      model: string,
      domain: Parameters<OdooClient['pages']>[1],
      pagesOptions: Parameters<OdooClient['pages']>[2],
      callOptions?: Parameters<OdooClient['pages']>[3],
    ) {
      const { pageSize } = pagesOptions;
      if (!Number.isInteger(pageSize) || pageSize < 1)
        throw new AppError('ODOO_CONFIG', `pageSize must be a positive integer, got ${pageSize}`);
      return {
        async *[Symbol.asyncIterator](): AsyncGenerator<T[]> {
          let lastId = 0;
          for (;;) {
            // Keyset, never offset: each call is its own transaction, so offsets shift under
            // concurrent inserts and archivals; `id > last` does not.
            const page = await searchRead<T>(
              model,
              [['id', '>', lastId], ...domain],
              {
                fields: pagesOptions.fields,
                limit: pageSize,
                order: 'id asc',
                context: pagesOptions.context,
                load: pagesOptions.load,
              },
              callOptions,
            );
            if (page.length === 0) return;
            yield page;
            if (page.length < pageSize) return;
            for (const record of page) if (record.id > lastId) lastId = record.id;
          }
        },
      };
    },
  };
}
