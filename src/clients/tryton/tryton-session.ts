/**
 * The one Tryton session a client shares between all its calls, and the single-flight login
 * that creates and renews it (sao's `session.prm`: concurrent calls that find the session
 * expired share one login, then each replays its own call).
 *
 * A session is renewed when the server rejects it (401) or, proactively, once it is older than
 * the configured TTL. Every login is counted as a "generation": a call that met a 401 with an
 * older generation than the current one simply uses the current session, so 401 answers that
 * arrive after a re-login finished do not trigger another one.
 *
 * Not here: the login request itself (passed in), retries of calls, HTTP.
 */
import { untilAborted } from './tryton-shared-wait.js';

/** What a login yields: the user id and the 64-hex session key (a bearer secret). */
export interface TrytonLoginResult {
  userId: number;
  key: string;
}

/** The `Authorization` header for a session: `Session base64(login:userId:key)` (docs/tryton.md §2). */
export function trytonSessionAuthorization(login: string, result: TrytonLoginResult): string {
  // trytond checks only the user id and the key; the login part is informative.
  return `Session ${Buffer.from(`${login}:${result.userId}:${result.key}`, 'utf8').toString('base64')}`;
}

/** A live session. The key never appears when the handle is logged, inspected or serialised. */
export class TrytonSessionHandle {
  readonly generation: number;
  readonly userId: number;
  readonly createdAtMs: number;
  readonly #authorization: string;

  constructor(login: string, result: TrytonLoginResult, generation: number, createdAtMs: number) {
    this.generation = generation;
    this.userId = result.userId;
    this.createdAtMs = createdAtMs;
    this.#authorization = trytonSessionAuthorization(login, result);
  }

  /** The `Authorization` header value for this session. */
  authorization(): string {
    return this.#authorization;
  }

  toJSON(): { generation: number; userId: number } {
    return { generation: this.generation, userId: this.userId };
  }
}

export interface TrytonSession {
  /** The current session, logging in first when there is none or it outlived the TTL. */
  current(signal?: AbortSignal): Promise<TrytonSessionHandle>;
  /** A session newer than `rejected`, which the server just answered 401 to. */
  renew(rejected: TrytonSessionHandle, signal?: AbortSignal): Promise<TrytonSessionHandle>;
  /** Forgets the session (returns it, so the caller can log it out). */
  clear(): TrytonSessionHandle | undefined;
}

export interface TrytonSessionOptions {
  /** The login name, for the Authorization header. */
  login: string;
  /** Performs one login. Called by at most one caller at a time. */
  authenticate: () => Promise<TrytonLoginResult>;
  /** Age after which a session is renewed before use. */
  ttlMs: number;
  now?: () => number;
}

export function createTrytonSession(options: TrytonSessionOptions): TrytonSession {
  const now = options.now ?? Date.now;
  let session: TrytonSessionHandle | undefined;
  let pending: Promise<TrytonSessionHandle> | undefined;
  let generation = 0;

  function login(): Promise<TrytonSessionHandle> {
    // The login is shared, so it must not die with the first caller's signal: each waiter
    // races it against its own signal instead (untilAborted).
    pending ??= options
      .authenticate()
      .then((result) => {
        generation += 1;
        session = new TrytonSessionHandle(options.login, result, generation, now());
        return session;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  function fresh(handle: TrytonSessionHandle | undefined): handle is TrytonSessionHandle {
    return handle !== undefined && now() - handle.createdAtMs < options.ttlMs;
  }

  return {
    current(signal) {
      if (fresh(session)) return Promise.resolve(session);
      return untilAborted(login(), signal, 'the login');
    },
    renew(rejected, signal) {
      if (session && session.generation > rejected.generation) return Promise.resolve(session);
      if (session === rejected) session = undefined;
      return untilAborted(login(), signal, 'the login');
    },
    clear() {
      const previous = session;
      session = undefined;
      return previous;
    },
  };
}
