/**
 * What the sync needs from Odoo: the Odoo client satisfies it, and `countCalls` wraps it so each
 * step can report how many calls it made (they must grow with pages, not with BCs).
 */
import type {
  OdooCallOptions,
  OdooContext,
  OdooDomain,
  OdooReadOptions,
  OdooRecord,
  OdooSearchOptions,
  OdooSearchReadOptions,
  OdooStoredField,
  OdooTree,
  OdooTreeRead,
} from '../clients/odoo/odoo-types.js';

export interface OdooSource {
  search(
    model: string,
    domain: OdooDomain,
    options?: OdooSearchOptions,
    call?: OdooCallOptions,
  ): Promise<number[]>;
  searchRead(
    model: string,
    domain: OdooDomain,
    options: OdooSearchReadOptions,
    call?: OdooCallOptions,
  ): Promise<OdooRecord[]>;
  read(
    model: string,
    ids: readonly number[],
    fields: readonly string[],
    options?: OdooReadOptions,
    call?: OdooCallOptions,
  ): Promise<OdooRecord[]>;
  /** Roots and their children in one call, where Odoo can (see the Odoo client). */
  readTree?(
    model: string,
    ids: readonly number[],
    tree: OdooTreeRead,
    options?: { context?: OdooContext },
    call?: OdooCallOptions,
  ): Promise<OdooTree | undefined>;
  storedFields(model: string, call?: OdooCallOptions): Promise<OdooStoredField[]>;
  canRead(model: string, call?: OdooCallOptions): Promise<boolean>;
  userContext(call?: OdooCallOptions): Promise<OdooContext>;
  /** Odoo's clock as its last answer gave it (see the Odoo client). */
  serverTime?(): Date | undefined;
  /** Odoo's clock now, from a fresh answer (see the Odoo client). */
  clock?(call?: OdooCallOptions): Promise<Date | undefined>;
  /** Whether the reads may come from a replica that lags (see the Odoo client). */
  readsMayLag?(): boolean;
}

export interface CountedSource extends OdooSource {
  readonly calls: number;
}

export function countCalls(source: OdooSource): CountedSource {
  let calls = 0;
  const count = <T>(promise: () => Promise<T>) => {
    calls += 1;
    return promise();
  };
  return {
    get calls() {
      return calls;
    },
    search: (...args) => count(() => source.search(...args)),
    searchRead: (...args) => count(() => source.searchRead(...args)),
    read: (...args) => count(() => source.read(...args)),
    // A tree read that answers undefined made no call, but for the one where Odoo refused
    // web_read (once a process), which goes uncounted.
    ...(source.readTree === undefined
      ? {}
      : {
          readTree: async (...args) => {
            const tree = await count(() => source.readTree!(...args));
            if (tree === undefined) calls -= 1;
            return tree;
          },
        }),
    storedFields: (...args) => count(() => source.storedFields(...args)),
    canRead: (...args) => count(() => source.canRead(...args)),
    userContext: (...args) => count(() => source.userContext(...args)),
    serverTime: () => source.serverTime?.(),
    clock: (...args) => count(() => source.clock?.(...args) ?? Promise.resolve(undefined)),
    readsMayLag: () => source.readsMayLag?.() ?? false,
  };
}
