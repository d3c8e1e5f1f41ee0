/**
 * One JSON-RPC exchange with trytond over undici: Tryton's own envelope (exactly `id`, `method`,
 * `params` — any other key turns Tryton's error answers into bare HTTP statuses, see
 * docs/tryton.md §1), a per-request id checked on the answer, a timeout and the caller's
 * abort signal, and every answer classified: a result, "unauthorized" (the session is gone),
 * "moved" (nothing serves JSON-RPC at that path), or a typed `TrytonError`.
 *
 * Not here: which path to post to (tryton-rpc-paths), sessions, re-login, retries and caching
 * (the client's job).
 */
import { request, type Dispatcher } from 'undici';
import { encodeTrytonValue, parseTrytonJson } from './tryton-codec.js';
import type { TrytonError } from './tryton-errors.js';
import {
  TrytonAbortedError,
  TrytonAuthError,
  TrytonNetworkError,
  TrytonProtocolError,
  TrytonRPCError,
  TrytonResponseTooLargeError,
  TrytonTimeoutError,
} from './tryton-errors.js';

export interface TrytonExchange {
  /** Relative to the base URL: the server's or the database's endpoint (tryton-rpc-paths). */
  path: string;
  method: string;
  params: readonly unknown[];
  /** The full `Authorization` header value, when the call needs a session. */
  authorization?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export type TrytonAnswer =
  | {
      kind: 'result';
      result: unknown;
      /** `X-Tryton-Cache`, when the server sent it. */ cacheSeconds?: number;
    }
  /** HTTP 401: missing, invalid, logged-out or expired session — or, for a login, bad credentials. */
  | { kind: 'unauthorized' }
  /**
   * HTTP 405: this path serves no JSON-RPC POST. trytond 8.0 answers it on 6.0 and 7.0's paths,
   * and 7.0 on 8.0's (docs/tryton.md §1), before anything runs: the call may go elsewhere.
   */
  | { kind: 'moved' };

export interface TrytonTransport {
  exchange(exchange: TrytonExchange): Promise<TrytonAnswer>;
}

export interface TrytonTransportOptions {
  /** Base URL of trytond, without a trailing slash. */
  rpcUrl: string;
  dispatcher: Dispatcher;
  /** Masks secrets in any server text before it goes into an error message. */
  redact: (text: string) => string;
  /** Largest answer read; past it the body is dropped mid-stream and the call fails. */
  maxResponseBytes: number;
}

const MESSAGE_LIMIT = 300;

// Connection failures where the request never left this process: replaying even a write is safe.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Reads a body as text, giving up (and dropping the connection) past `limitBytes`. */
async function readBounded(
  body: Dispatcher.ResponseData['body'],
  limitBytes: number,
  method: string,
): Promise<string> {
  const chunks: Buffer[] = [];
  let sizeBytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    sizeBytes += chunk.byteLength;
    if (sizeBytes > limitBytes) {
      body.destroy();
      throw new TrytonResponseTooLargeError(
        `Tryton's answer to ${method} is over ${limitBytes} bytes`,
        limitBytes,
        { method },
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function createTrytonTransport(options: TrytonTransportOptions): TrytonTransport {
  const { rpcUrl, dispatcher, redact, maxResponseBytes } = options;
  let nextId = 1;

  async function exchange(call: TrytonExchange): Promise<TrytonAnswer> {
    const id = nextId++;
    // Exactly these three keys: trytond wraps errors as JSON only for this key set.
    const body = Buffer.from(
      JSON.stringify({ id, method: call.method, params: encodeTrytonValue(call.params) }),
    );
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      // trytond answers 411 to chunked bodies.
      'content-length': String(body.byteLength),
    };
    if (call.authorization !== undefined) headers.authorization = call.authorization;

    const timeoutSignal = AbortSignal.timeout(call.timeoutMs);
    const signal = call.signal ? AbortSignal.any([timeoutSignal, call.signal]) : timeoutSignal;
    const failed = (error: unknown): TrytonError => {
      if (call.signal?.aborted) {
        return new TrytonAbortedError('TRYTON_ABORTED', `Tryton call ${call.method} was aborted`, {
          method: call.method,
          cause: call.signal.reason,
        });
      }
      if (timeoutSignal.aborted) {
        return new TrytonTimeoutError(
          `Tryton call ${call.method} timed out after ${call.timeoutMs} ms`,
          call.timeoutMs,
          {
            method: call.method,
          },
        );
      }
      const code = (error as { code?: unknown } | null)?.code;
      return new TrytonNetworkError(
        'TRYTON_NETWORK',
        `Tryton call ${call.method} failed: ${describeNetworkError(error)}`,
        {
          method: call.method,
          cause: error,
          requestSent: !(typeof code === 'string' && NOT_SENT_CODES.has(code)),
        },
      );
    };

    let statusCode: number;
    let responseHeaders: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const response = await request(`${rpcUrl}${call.path}`, {
        method: 'POST',
        headers,
        body,
        signal,
        dispatcher,
      });
      statusCode = response.statusCode;
      responseHeaders = response.headers;
      text = await readBounded(response.body, maxResponseBytes, call.method);
    } catch (error) {
      if (error instanceof TrytonResponseTooLargeError) throw error;
      throw failed(error);
    }

    if (statusCode !== 200) {
      if (statusCode === 401) return { kind: 'unauthorized' };
      if (statusCode === 405) return { kind: 'moved' };
      throw statusError(call.method, statusCode, text, redact);
    }
    let answer: unknown;
    try {
      answer = parseTrytonJson(text);
    } catch (error) {
      throw new TrytonProtocolError(
        `Tryton answered ${call.method} with a body that is not Tryton JSON`,
        {
          method: call.method,
          httpStatus: statusCode,
          cause: error,
        },
      );
    }
    if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) {
      throw new TrytonProtocolError(`Tryton answered ${call.method} without a JSON-RPC envelope`, {
        method: call.method,
      });
    }
    const envelope = answer as { id?: unknown; result?: unknown; error?: unknown };
    if (envelope.id !== id) {
      throw new TrytonProtocolError(
        `Tryton answered ${call.method} with a response id that does not match the request`,
        {
          method: call.method,
        },
      );
    }
    if ('error' in envelope && envelope.error !== null && envelope.error !== undefined) {
      throw rpcError(call.method, envelope.error, redact);
    }
    const cacheSeconds = parseCacheSeconds(responseHeaders['x-tryton-cache']);
    return cacheSeconds === undefined
      ? { kind: 'result', result: envelope.result }
      : { kind: 'result', result: envelope.result, cacheSeconds };
  }

  return { exchange };
}

function parseCacheSeconds(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const seconds = Number(value);
  return Number.isInteger(seconds) && seconds > 0 ? seconds : undefined;
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} (${error.message})` : error.message;
  }
  return 'unknown transport error';
}

function shorten(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MESSAGE_LIMIT ? `${line.slice(0, MESSAGE_LIMIT - 1)}…` : line;
}

/** The `<p>` text of a Werkzeug error page, unescaped, or '' when there is none. */
function htmlMessage(html: string): string {
  const match = /<p>([\s\S]*?)<\/p>/i.exec(html);
  if (!match?.[1]) return '';
  return match[1]
    .replace(/<[^>]*>/g, '')
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function statusError(
  method: string,
  status: number,
  text: string,
  redact: (text: string) => string,
): TrytonError {
  const options = { method, httpStatus: status };
  if (status === 429) {
    return new TrytonAuthError(
      'TRYTON_AUTH_RATE_LIMITED',
      `Tryton refused ${method}: too many failed logins for this account, try again later`,
      options,
    );
  }
  if (status === 403) {
    return new TrytonRPCError(
      'TRYTON_FORBIDDEN_METHOD',
      `Tryton does not allow the method ${method} over RPC`,
      {
        errorName: 'Forbidden',
      },
      options,
    );
  }
  if (status === 408) {
    return new TrytonTimeoutError(`Tryton timed out running ${method} (HTTP 408)`, 0, options);
  }
  if (status === 502 || status === 503 || status === 504) {
    return new TrytonNetworkError(
      'TRYTON_UNAVAILABLE',
      `Tryton is unavailable (HTTP ${status} on ${method})`,
      {
        ...options,
        // A 503 comes from a proxy that did not forward; after a 502/504 the server may have run it.
        requestSent: status !== 503,
      },
    );
  }
  const detail = shorten(redact(htmlMessage(text)));
  return new TrytonProtocolError(
    `Tryton answered ${method} with HTTP ${status}${detail ? `: ${detail}` : ''}`,
    options,
  );
}

function asText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Maps Tryton's `error` member (`[name, args]`, docs/tryton.md §4) to a typed error. */
function rpcError(method: string, error: unknown, redact: (text: string) => string): TrytonError {
  const options = { method };
  if (!Array.isArray(error) || typeof error[0] !== 'string') {
    return new TrytonProtocolError(
      `Tryton answered ${method} with an error of unknown shape`,
      options,
    );
  }
  const name = error[0];
  const args: unknown = error[1];
  const list = Array.isArray(args) ? (args as unknown[]) : [];
  const clean = (value: string | undefined) =>
    value === undefined ? undefined : shorten(redact(value));
  switch (name) {
    case 'UserError': {
      const message = clean(asText(list[0])) ?? 'Tryton user error';
      const description = asText(list[1]);
      return new TrytonRPCError(
        'TRYTON_USER_ERROR',
        message,
        {
          errorName: name,
          ...(description === undefined ? {} : { description: redact(description) }),
          domain: list[2],
        },
        options,
      );
    }
    case 'UserWarning': {
      const message = clean(asText(list[1])) ?? 'Tryton user warning';
      const description = asText(list[2]);
      return new TrytonRPCError(
        'TRYTON_USER_WARNING',
        message,
        {
          errorName: name,
          ...(description === undefined ? {} : { description: redact(description) }),
        },
        options,
      );
    }
    case 'ConcurrencyException':
      return new TrytonRPCError(
        'TRYTON_CONCURRENCY',
        clean(asText(args)) ?? 'Records were modified in the meanwhile',
        {
          errorName: name,
        },
        options,
      );
    case 'LoginException':
      return new TrytonRPCError(
        'TRYTON_LOGIN_EXCEPTION',
        clean(asText(list[1])) ?? 'Tryton asks for a login parameter',
        {
          errorName: name,
          // The parameter Tryton asks for (`password`, `sms_code`…), so a login can say which.
          ...(asText(list[0]) === undefined ? {} : { description: asText(list[0]) }),
        },
        options,
      );
    default: {
      // `[str(exc), traceback]`: the text is the exception itself, e.g. `'no.such.model'`.
      const traceback = asText(args);
      return new TrytonRPCError(
        'TRYTON_SERVER_ERROR',
        clean(name) || `Tryton server error on ${method}`,
        {
          errorName: clean(name) ?? name,
          ...(traceback ? { description: redact(traceback) } : {}),
        },
        options,
      );
    }
  }
}
