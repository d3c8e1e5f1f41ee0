/**
 * Where trytond serves JSON-RPC, for one client. 6.0 and 7.0 serve the server's methods at `/`
 * and a database's at `/<db>/`; 8.0 moved them to `/rpc/` and `/<db>/rpc/`. Each series answers
 * 405 on the other's paths, before it runs anything; and 7.0 takes `/rpc/` for the path of a
 * database named "rpc", answering 401 there (docs/tryton.md §1).
 *
 * The client posts where the server last answered, the older paths until it knows better. A 405
 * makes it ask the server: `common.server.version` on `/`, then on `/rpc/` (a 405 on the older
 * path is 8.0's signal); the first that answers is remembered, until the next 405 (trytond
 * upgraded, or downgraded, under a running client). Calls that meet the 405 together share one
 * lookup, and a call follows it once: another 405, or a lookup finding the paths the call just
 * used, fails typed (`TrytonRpcPathError`), never a loop.
 *
 * Not here: the exchange itself (tryton-transport), sessions, retries.
 */
import type { Logger } from '../../lib/logger.js';
import { TrytonRpcPathError } from './tryton-errors.js';
import { untilAborted } from './tryton-shared-wait.js';
import type { TrytonAnswer, TrytonExchange, TrytonTransport } from './tryton-transport.js';

/** `root`: `/` and `/<db>/` (trytond up to 7.0); `rpc`: `/rpc/` and `/<db>/rpc/` (8.0). */
export type TrytonRpcLayout = 'root' | 'rpc';

/** The order the lookup asks in, the older paths first. */
const LAYOUTS: readonly TrytonRpcLayout[] = ['root', 'rpc'];

export interface TrytonRoutedExchange extends Omit<TrytonExchange, 'path'> {
  /** `server` for `common.server.version` and `common.db.list`, `database` for the rest. */
  endpoint: 'server' | 'database';
}

/** An answer from the paths the server serves: a 405 never reaches the caller as an answer. */
export type TrytonRoutedAnswer = Exclude<TrytonAnswer, { kind: 'moved' }>;

export interface TrytonRouter {
  exchange(call: TrytonRoutedExchange): Promise<TrytonRoutedAnswer>;
}

export interface TrytonRouterOptions {
  transport: TrytonTransport;
  database: string;
  /** Timeout of each `common.server.version` the lookup sends. */
  probeTimeoutMs: number;
  logger: Logger;
}

/** The path of an endpoint under a layout, relative to `TRYTON_RPC_URL`. */
export function trytonRpcPath(
  layout: TrytonRpcLayout,
  endpoint: TrytonRoutedExchange['endpoint'],
  database: string,
): string {
  const base = endpoint === 'server' ? '/' : `/${encodeURIComponent(database)}/`;
  return layout === 'rpc' ? `${base}rpc/` : base;
}

interface Route {
  layout: TrytonRpcLayout;
  /** Bumped by each lookup: a call that met a 405 on an older route takes the newer one as is. */
  generation: number;
  /** Whether the server answered there: leaving it then means trytond changed series. */
  served: boolean;
}

/**
 * Whether the path serves the endpoint: not when it answers 405, nor when it answers 401 to a
 * method that needs no session (the path is a database's to this server).
 */
function servedHere(
  answer: TrytonAnswer,
  endpoint: TrytonRoutedExchange['endpoint'],
): answer is TrytonRoutedAnswer {
  return answer.kind !== 'moved' && !(endpoint === 'server' && answer.kind === 'unauthorized');
}

export function createTrytonRouter(options: TrytonRouterOptions): TrytonRouter {
  const { transport, database, probeTimeoutMs, logger: log } = options;
  const pathOf = (layout: TrytonRpcLayout, endpoint: TrytonRoutedExchange['endpoint']) =>
    trytonRpcPath(layout, endpoint, database);
  let route: Route = { layout: 'root', generation: 0, served: false };
  let pending: Promise<Route> | undefined;

  async function probe(): Promise<TrytonRpcLayout> {
    const tried: string[] = [];
    for (const layout of LAYOUTS) {
      const path = pathOf(layout, 'server');
      tried.push(path);
      const answer = await transport.exchange({
        path,
        method: 'common.server.version',
        params: [],
        timeoutMs: probeTimeoutMs,
      });
      if (servedHere(answer, 'server')) return layout;
    }
    throw new TrytonRpcPathError(
      `Tryton answers common.server.version at none of ${tried.join(', ')}: TRYTON_RPC_URL is not trytond's base URL, or something in front of trytond refuses POST`,
      tried,
      { method: 'common.server.version' },
    );
  }

  function relearn(stale: Route, signal: AbortSignal | undefined): Promise<Route> {
    if (route.generation > stale.generation) return Promise.resolve(route);
    // Shared, so it must not die with the first caller's signal: each waiter races its own.
    pending ??= probe()
      .then((layout) => {
        const previous = route;
        route = { layout, generation: previous.generation + 1, served: false };
        if (layout === previous.layout) return route;
        const paths = [pathOf(layout, 'server'), pathOf(layout, 'database')];
        if (!previous.served)
          log.info({ paths }, 'tryton: the server serves JSON-RPC at these paths');
        else
          log.warn(
            {
              paths,
              previous: [pathOf(previous.layout, 'server'), pathOf(previous.layout, 'database')],
            },
            'tryton: the server moved its JSON-RPC paths (trytond upgraded or downgraded); following them',
          );
        return route;
      })
      .finally(() => {
        pending = undefined;
      });
    return untilAborted(pending, signal, 'the lookup of its RPC paths');
  }

  return {
    async exchange(call) {
      const { endpoint, ...exchange } = call;
      const used = route;
      const first = await transport.exchange({ ...exchange, path: pathOf(used.layout, endpoint) });
      if (servedHere(first, endpoint)) {
        used.served = true;
        return first;
      }
      const found = await relearn(used, call.signal);
      const path = pathOf(found.layout, endpoint);
      if (found.layout !== used.layout) {
        const second = await transport.exchange({ ...exchange, path });
        if (servedHere(second, endpoint)) {
          found.served = true;
          return second;
        }
      }
      throw new TrytonRpcPathError(
        `Tryton answered ${call.method} at ${path} as a path it does not serve, though it serves common.server.version at ${pathOf(found.layout, 'server')}: something in front of trytond refuses POST there`,
        [...new Set([pathOf(used.layout, endpoint), path])],
        { method: call.method },
      );
    },
  };
}
