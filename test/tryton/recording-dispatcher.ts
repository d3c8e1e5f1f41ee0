/**
 * An undici Agent that records what the Tryton client sends — each JSON-RPC method, the path, the
 * Authorization header and the answer's status — so tests can count logins and calls from the
 * outside, and learn the session header the client uses (to log it out on the server) without the
 * client exposing it.
 */
import { Agent, type Dispatcher } from 'undici';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  /** The answer's HTTP status, once it arrived. */
  status?: number;
}

export interface RecordingDispatcher {
  dispatcher: Dispatcher;
  requests: RecordedRequest[];
  /**
   * Requests of `method` the server took: a 405 is trytond's routing refusing the path before
   * anything runs (a fresh client's first request to trytond 8.0, docs/tryton.md §1).
   */
  count(method: string): number;
  /** The Authorization header of the last request that carried one. */
  lastAuthorization(): string | undefined;
  close(): Promise<void>;
}

function headerValue(
  headers: Dispatcher.DispatchOptions['headers'],
  name: string,
): string | undefined {
  if (!headers) return undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
    }
    return undefined;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

export function createRecordingDispatcher(): RecordingDispatcher {
  const agent = new Agent();
  const requests: RecordedRequest[] = [];
  const dispatcher = agent.compose((dispatch) => (options, handler) => {
    const body = options.body;
    const text = Buffer.isBuffer(body)
      ? body.toString('utf8')
      : typeof body === 'string'
        ? body
        : '';
    const method = text ? ((JSON.parse(text) as { method?: string }).method ?? '?') : '?';
    const authorization = headerValue(options.headers, 'authorization');
    const recorded: RecordedRequest = { method, path: options.path };
    if (authorization !== undefined) recorded.authorization = authorization;
    requests.push(recorded);
    return dispatch(options, {
      onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
      onRequestUpgrade: (controller, status, headers, socket) =>
        handler.onRequestUpgrade?.(controller, status, headers, socket),
      onResponseStart: (controller, status, headers, message) => {
        recorded.status = status;
        handler.onResponseStart?.(controller, status, headers, message);
      },
      onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
      onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
      onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
    });
  });
  return {
    dispatcher,
    requests,
    count: (method) =>
      requests.filter((request) => request.method === method && request.status !== 405).length,
    lastAuthorization: () => requests.findLast((request) => request.authorization)?.authorization,
    close: () => agent.close(),
  };
}
