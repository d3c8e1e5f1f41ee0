/**
 * An undici Agent that records what the Tryton client sends — each JSON-RPC method and the
 * Authorization header — so tests can count logins and calls from the outside, and learn the
 * session header the client uses (to log it out on the server) without the client exposing it.
 */
import { Agent, type Dispatcher } from 'undici';

export interface RecordedRequest {
  method: string;
  authorization?: string;
}

export interface RecordingDispatcher {
  dispatcher: Dispatcher;
  requests: RecordedRequest[];
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
    requests.push(authorization === undefined ? { method } : { method, authorization });
    return dispatch(options, handler);
  });
  return {
    dispatcher,
    requests,
    count: (method) => requests.filter((request) => request.method === method).length,
    lastAuthorization: () => requests.findLast((request) => request.authorization)?.authorization,
    close: () => agent.close(),
  };
}
