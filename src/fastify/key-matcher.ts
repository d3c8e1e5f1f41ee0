/**
 * Who a request's API key belongs to (`API_KEYS`): the API and the worker's own port match keys
 * alike. A key comes as `Authorization: Bearer <key>`, or as the password of `Basic` (how a
 * browser sends one); it is checked against the SHA-256 hashes of the entries in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import { hashApiKey, type ApiKeyEntry, type ApiRole } from '../config/api-keys.js';

export interface Caller {
  readonly name: string;
  readonly role: ApiRole;
  /** The sources it reads, when limited to some. */
  readonly sources?: readonly string[];
}

/** Keys whose digest is remembered; past it the oldest is forgotten (random keys cannot grow it). */
const DIGEST_MEMO_SIZE = 1_000;

export function createKeyMatcher(entries: readonly ApiKeyEntry[]) {
  const hashes = entries.map((entry) => ({ entry, digest: Buffer.from(entry.sha256, 'hex') }));
  // A caller sends the same key on every request: hashing it once is enough. The memo only saves
  // the SHA-256; the digest is still compared with every entry in constant time below.
  const digests = new Map<string, Buffer>();
  const digestOf = (key: string): Buffer => {
    let digest = digests.get(key);
    if (digest === undefined) {
      digest = Buffer.from(hashApiKey(key), 'hex');
      if (digests.size >= DIGEST_MEMO_SIZE) digests.delete(digests.keys().next().value!);
      digests.set(key, digest);
    }
    return digest;
  };
  return (key: string): Caller | undefined => {
    const digest = digestOf(key);
    let found: ApiKeyEntry | undefined;
    // Compare against every entry, found or not, so the time taken says nothing about the keys.
    for (const candidate of hashes) {
      if (timingSafeEqual(candidate.digest, digest)) found ??= candidate.entry;
    }
    return found
      ? { name: found.name, role: found.role, ...(found.sources ? { sources: found.sources } : {}) }
      : undefined;
  };
}

/** The password of `Authorization: Basic …` (any user name): how browsers send a key. */
export function basicPassword(header: string | undefined): string | undefined {
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

export function bearerKey(request: { headers: { authorization?: string } }): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The key a request carries, Bearer or Basic (the password), if any. */
export function requestKey(request: { headers: { authorization?: string } }): string | undefined {
  return bearerKey(request) ?? basicPassword(request.headers.authorization);
}
