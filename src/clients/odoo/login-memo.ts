/**
 * Where a client keeps the uid Odoo's login answered, for the processes that come after it: a
 * fresh CLI run or a new worker then calls Odoo without logging in first (XML-RPC and JSON-RPC
 * send the uid with every call, and Odoo checks it with the password each time). A remembered uid
 * that Odoo refuses is forgotten and replaced by a real login; failures of the memo itself only
 * cost that login.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface LoginMemo {
  load(): Promise<number | undefined>;
  save(uid: number): Promise<void>;
  forget(): Promise<void>;
}

/** A day: a user deleted and created again in Odoo gets a new uid, and costs one refused call. */
const MEMO_TTL_SECONDS = 86_400;

/**
 * The memo in Redis, one key per Odoo URL, database and login (never the password: the uid is no
 * secret, and a changed password must still be checked by Odoo).
 */
export function createRedisLoginMemo(
  redis: Pick<Redis, 'get' | 'set' | 'del'>,
  keyPrefix: string,
  login: { url: string; database: string; username: string },
): LoginMemo {
  const digest = createHash('sha256')
    .update([login.url, login.database, login.username].join('\0'))
    .digest('hex')
    .slice(0, 24);
  const key = `${keyPrefix}:odoo-uid:${digest}`;
  return {
    async load() {
      const value = Number(await redis.get(key));
      return Number.isInteger(value) && value > 0 ? value : undefined;
    },
    async save(uid) {
      await redis.set(key, String(uid), 'EX', MEMO_TTL_SECONDS);
    },
    async forget() {
      await redis.del(key);
    },
  };
}
