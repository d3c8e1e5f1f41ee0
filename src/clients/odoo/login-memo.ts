/**
 * Where a client keeps the uid Odoo's login answered, for the processes that come after it: a
 * fresh CLI run or a new worker then calls Odoo without logging in first (XML-RPC and JSON-RPC
 * send the uid with every call, and Odoo checks it with the password each time). A remembered uid
 * that Odoo refuses is forgotten and replaced by a real login; failures of the memo itself only
 * cost that login.
 */
import { createHash } from 'node:crypto';

export interface LoginMemo {
  load(): Promise<number | undefined>;
  save(uid: number): Promise<void>;
  forget(): Promise<void>;
}

/** Where the memo keeps its value, shared with later processes, each value for a given time. */
export interface LoginMemoStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** A day: a user deleted and created again in Odoo gets a new uid, and costs one refused call. */
const MEMO_TTL_MS = 86_400_000;

/**
 * The memo in `store`, one key per Odoo URL, database and login (never the password: the uid is
 * no secret, and a changed password must still be checked by Odoo).
 */
export function createLoginMemo(
  store: LoginMemoStore,
  login: { url: string; database: string; username: string },
): LoginMemo {
  const digest = createHash('sha256')
    .update([login.url, login.database, login.username].join('\0'))
    .digest('hex')
    .slice(0, 24);
  const key = `odoo-uid:${digest}`;
  return {
    async load() {
      const value = Number(await store.get(key));
      return Number.isInteger(value) && value > 0 ? value : undefined;
    },
    async save(uid) {
      await store.set(key, String(uid), MEMO_TTL_MS);
    },
    async forget() {
      await store.delete(key);
    },
  };
}
