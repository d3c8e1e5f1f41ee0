/**
 * Wake-ups when the copy commits a change: the feed's trigger notifies `erp_bridge_feed` (LISTEN/
 * NOTIFY, delivered at commit, once per transaction), and a process listens once and wakes every
 * consumer waiting in it — a long poll, a stream, the worker's delivery pump. Consumers read again
 * when woken; they never poll in a tight loop. A process whose database cannot listen, or whose
 * listening connection is away, falls back to reading again every second.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type postgres from 'postgres';
import { hasReplayed, primaryWalPosition } from '../db/replica.js';
import type { Logger } from '../lib/logger.js';

export const FEED_CHANNEL = 'erp_bridge_feed';

/** Subscribes `onNotify` to the feed's channel; resolves with the function that unsubscribes. */
export type FeedListen = (onNotify: () => void) => Promise<() => Promise<void>>;

/** postgres.js: `sql.listen` keeps a connection of its own and listens again after a reconnect. */
export function postgresFeedListen(sql: {
  listen(
    channel: string,
    onNotify: (payload: string) => void,
  ): Promise<{ unlisten: () => Promise<void> }>;
}): FeedListen {
  return async (onNotify) => {
    const listening = await sql.listen(FEED_CHANNEL, () => onNotify());
    return () => listening.unlisten();
  };
}

/** A replica behind its primary is asked again after this long, doubled up to the longest. */
const REPLAY_CHECK_FIRST_MS = 10;
const REPLAY_CHECK_LONGEST_MS = 1_000;

/**
 * For consumers that read from a streaming replica: the primary's notifications (a replica
 * cannot listen: NOTIFY is not replicated), each passed on once the replica has replayed the
 * primary's WAL as it stood when the notification came, so a woken reader finds the change there.
 * Notifications that come while the replica catches up are passed on together, after it has
 * replayed past the last of them. A failing check passes the notification on at once: the reader
 * then reads what the replica has, and a change it does not see yet comes with the next wake-up.
 */
export function replicaFeedListen(
  primary: postgres.Sql,
  replica: postgres.Sql,
  logger: Logger,
): FeedListen {
  return async (onNotify) => {
    let pending = false;
    let catchingUp = false;
    const stopped = new AbortController();
    const catchUp = async () => {
      catchingUp = true;
      try {
        while (pending && !stopped.signal.aborted) {
          pending = false;
          const lsn = await primaryWalPosition(primary);
          for (
            let waitMs = REPLAY_CHECK_FIRST_MS;
            !(await hasReplayed(replica, lsn)) && !stopped.signal.aborted;
            waitMs = Math.min(waitMs * 2, REPLAY_CHECK_LONGEST_MS)
          )
            await delay(waitMs, undefined, { signal: stopped.signal }).catch(() => undefined);
          onNotify();
        }
      } catch (error) {
        logger.warn(
          { err: error },
          "cannot tell whether the replica has replayed the feed's change",
        );
        onNotify();
      } finally {
        catchingUp = false;
      }
    };
    const listening = await primary.listen(FEED_CHANNEL, () => {
      pending = true;
      if (!catchingUp) void catchUp();
    });
    return async () => {
      stopped.abort();
      await listening.unlisten();
    };
  };
}

export interface FeedSignal {
  /** Starts listening (once); consumers await it before their first read. */
  start(): Promise<void>;
  /** Moves at every notification: taken before a read, then waited on. */
  generation(): number;
  /** Resolves once the generation moved past `seen`, after `timeoutMs`, or when `abort` fires. */
  wait(seen: number, timeoutMs: number, abort?: AbortSignal): Promise<void>;
  /** Calls `onChange` at every notification; returns what stops it. */
  onChange(onChange: () => void): () => void;
  close(): Promise<void>;
}

/** Without a listening connection, waiters read again this often. */
const FALLBACK_POLL_MS = 1_000;

export function createFeedSignal(listen: FeedListen | undefined, logger: Logger): FeedSignal {
  let generation = 0;
  let listening = false;
  let started: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  const waiters = new Set<() => void>();
  const observers = new Set<() => void>();
  const notify = () => {
    generation += 1;
    for (const wake of [...waiters]) wake();
    for (const observer of [...observers]) observer();
  };
  return {
    start() {
      started ??= (async () => {
        if (!listen) return;
        try {
          unlisten = await listen(notify);
          listening = true;
        } catch (error) {
          logger.warn(
            { err: error },
            'cannot listen for the change feed: consumers read again every second',
          );
        }
      })();
      return started;
    },
    generation: () => generation,
    async wait(seen, timeoutMs, abort) {
      if (generation !== seen || abort?.aborted) return;
      const boundMs = listening ? timeoutMs : Math.min(timeoutMs, FALLBACK_POLL_MS);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          abort?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, boundMs);
        waiters.add(done);
        abort?.addEventListener('abort', done, { once: true });
      });
    },
    onChange(onChange) {
      observers.add(onChange);
      return () => observers.delete(onChange);
    },
    async close() {
      for (const wake of [...waiters]) wake();
      observers.clear();
      await started;
      await unlisten?.();
      listening = false;
    },
  };
}
