/**
 * One HTTP exchange with Odoo over undici, shared by the three transports.
 *
 * It owns the translation of transport failures into `OdooError`s: refused/reset connections
 * and bodies cut short → `ODOO_NETWORK`, undici's own timeouts → `ODOO_TIMEOUT`, the caller's
 * signal → whatever error the signal was aborted with (the client aborts with an `OdooError`
 * saying whether its timer or the caller's signal fired). It does not look at statuses or
 * bodies beyond the checks every protocol shares (a non-200 status, an HTML page).
 */
import type { Dispatcher } from 'undici';
import { OdooError, isRetryableHttpStatus } from './odoo-errors.js';
import type { OdooRequestOptions, OdooVersion } from './odoo-types.js';
import { looksLikeHtml } from './xmlrpc-decoder.js';

/** What every transport needs to reach one Odoo database as one user. */
export interface OdooTransportSettings {
  url: string;
  database: string;
  username: string;
  /**
   * The password or API key to send now, read at each request: a renewed key replaces the old
   * one between two calls without a new transport.
   */
  secret: () => string;
  dispatcher: Dispatcher;
}

export interface OdooHttpRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface OdooHttpResponse {
  status: number;
  contentType: string;
  /** The raw body: the XML-RPC decoder reads bytes faster than a decoded string. */
  body: Buffer;
  /** The `ETag` header, when the answer has one. */
  etag?: string;
  /** The `Retry-After` header (seconds or an HTTP date), when the answer has one. */
  retryAfter?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Sends one request and reads the whole body. */
export async function sendOdooRequest(
  dispatcher: Dispatcher,
  origin: string,
  request: OdooHttpRequest,
  label: string,
  options: OdooRequestOptions,
): Promise<OdooHttpResponse> {
  const { signal, timeoutMs } = options;
  try {
    const response = await dispatcher.request({
      origin,
      path: request.path,
      method: request.method,
      headers: request.headers,
      body: request.body ?? null,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const date = response.headers.date;
    if (options.onServerDate && typeof date === 'string') {
      const parsed = new Date(date);
      if (!Number.isNaN(parsed.getTime())) options.onServerDate(parsed);
    }
    const body = await readBody(
      response.body,
      response.headers['content-length'],
      label,
      options.maxAnswerBytes,
    );
    options.onBytes?.(
      request.body === undefined ? 0 : Buffer.byteLength(request.body),
      body.length,
    );
    const contentType = response.headers['content-type'];
    const etag = response.headers.etag;
    const retryAfter = response.headers['retry-after'];
    return {
      status: response.statusCode,
      contentType: (Array.isArray(contentType) ? contentType[0] : contentType) ?? '',
      body,
      ...(typeof etag === 'string' ? { etag } : {}),
      ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
    };
  } catch (error) {
    throw translateTransportError(error, label, signal, timeoutMs);
  }
}

/**
 * The whole body. With a Content-Length (Odoo sends one), each chunk is copied into one buffer
 * as it arrives and can be collected at once: collecting the chunks and concatenating them at the
 * end held a page's answer (megabytes) twice.
 *
 * An answer larger than `maxBytes` is refused before it is read, from its Content-Length, or once
 * that many bytes have come without one: the connection is dropped with the rest of the body, and
 * the caller asks for fewer records (docs/sync.md, "Large values").
 */
async function readBody(
  body: Dispatcher.ResponseData['body'],
  contentLength: string | string[] | undefined,
  label: string,
  maxBytes: number | undefined,
): Promise<Buffer> {
  const length = typeof contentLength === 'string' ? Number(contentLength) : Number.NaN;
  const limit = maxBytes ?? Number.POSITIVE_INFINITY;
  const tooLarge = (bytes?: number) => {
    body.destroy();
    return new OdooError(
      'ODOO_ANSWER_TOO_LARGE',
      `${label}: the answer (${bytes ?? `over ${limit}`} bytes) is larger than the ${limit} bytes this call reads`,
      bytes === undefined ? {} : { answerBytes: bytes },
    );
  };
  if (length > limit) throw tooLarge(length);
  if (!Number.isSafeInteger(length) || length <= 0) {
    if (limit === Number.POSITIVE_INFINITY) {
      const bytes = await body.bytes();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > limit) throw tooLarge();
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, received);
  }
  const buffer = Buffer.allocUnsafe(length);
  let offset = 0;
  // undici fails the read when the body's length differs from Content-Length.
  for await (const chunk of body as AsyncIterable<Buffer>) {
    offset += chunk.copy(buffer, offset);
  }
  return buffer.subarray(0, offset);
}

/** The `OdooError` for anything thrown while sending a request or reading its answer. */
export function translateTransportError(
  error: unknown,
  label: string,
  signal: AbortSignal,
  timeoutMs: number,
): OdooError {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof OdooError) return reason;
    return new OdooError('ODOO_ABORTED', `${label} was aborted`, { cause: reason ?? error });
  }
  if (error instanceof OdooError) return error;
  const code = errorCode(error);
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    // undici's own timers race the attempt's: whichever fires, the message names the same bound.
    return new OdooError('ODOO_TIMEOUT', `${label} timed out after ${timeoutMs} ms (${code})`, {
      cause: error,
      retryable: true,
    });
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    const what =
      code === 'ECONNREFUSED'
        ? 'connection refused'
        : code === 'UND_ERR_SOCKET' ||
            code === 'ECONNRESET' ||
            code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'
          ? 'connection closed before the answer was complete'
          : 'network failure';
    return new OdooError('ODOO_NETWORK', `${label}: ${what} (${code})`, {
      cause: error,
      retryable: true,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new OdooError('ODOO_NETWORK', `${label}: request failed: ${message}`, {
    cause: error,
    safeMessage: `${label}: request failed`,
  });
}

function errorCode(error: unknown): string | undefined {
  // undici nests the socket's own error (ECONNRESET…) as `cause` of its SocketError.
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || TIMEOUT_CODES.has(code)))
      return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * The body as text, its bytes freed: an answer is never held as bytes and as text while it is
 * parsed (for a text of 100 MB in a record, a hundred megabytes more at the worker's peak).
 */
export function takeBodyText(response: OdooHttpResponse): string {
  const text = response.body.toString('utf8');
  releaseBody(response);
  return text;
}

/** Bodies smaller than this are left to the garbage collector. */
const RELEASED_MIN_BYTES = 65_536;

/**
 * Frees the body's bytes now, once what the caller needs of them is decoded into values of their
 * own. Left to the garbage collector, a page's answer (megabytes) stays mapped until the next
 * full collection, which can be many pages later: the worker's peak held half a dozen answers
 * that way (docs/performance.md). Only a buffer that owns all of its memory, as every answer read
 * with a Content-Length does, is freed; the response's body is empty afterwards.
 */
export function releaseBody(response: OdooHttpResponse): void {
  const body = response.body;
  response.body = Buffer.alloc(0);
  const memory = body.buffer;
  if (
    body.byteLength >= RELEASED_MIN_BYTES &&
    body.byteOffset === 0 &&
    body.byteLength === memory.byteLength &&
    memory instanceof ArrayBuffer
  ) {
    memory.transfer(0);
  }
}

/** The first part of a body, for messages about answers that are not what they should be. */
export function bodyExcerpt(body: Buffer): string {
  const flat = body.subarray(0, 512).toString('utf8').replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 119)}…` : flat;
}

/** True when the answer is an HTML page (by its type or its first bytes). */
export function isHtmlResponse(response: OdooHttpResponse): boolean {
  return (
    response.contentType.includes('text/html') ||
    looksLikeHtml(response.body.subarray(0, 512).toString('latin1'))
  );
}

/**
 * Refuses an answer that is not an XML-RPC document: a non-200 status or an HTML page (a proxy's
 * 502/504, a login redirect). Shared with the JSON transports, which say their own protocol.
 */
export function checkHttpResponse(
  response: OdooHttpResponse,
  label: string,
  protocol: string,
): void {
  const html = isHtmlResponse(response);
  if (response.status !== 200) throw httpStatusError(response, label, protocol, html);
  if (html) {
    throw new OdooError(
      'ODOO_PROTOCOL',
      `${label}: HTML page (HTTP ${response.status}) instead of ${protocol}`,
      {
        retryable: true,
        httpStatus: response.status,
      },
    );
  }
}

/** The error for a non-200 answer that is not an Odoo error document. */
export function httpStatusError(
  response: OdooHttpResponse,
  label: string,
  protocol: string,
  html: boolean,
): OdooError {
  const status = response.status;
  const what = html
    ? `HTML page (HTTP ${status}) instead of ${protocol}`
    : `HTTP ${status} instead of ${protocol}${response.body.length === 0 ? '' : `: ${bodyExcerpt(response.body)}`}`;
  const retryAfterMs = retryAfterMsOf(response);
  return new OdooError('ODOO_HTTP', `${label}: ${what}`, {
    httpStatus: status,
    retryable: isRetryableHttpStatus(status),
    safeMessage: `${label}: HTTP ${status}${html ? ' (HTML page)' : ''} instead of ${protocol}`,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/**
 * The answer's `Retry-After` in milliseconds from now: delay-seconds or an HTTP date (RFC 9110);
 * undefined without one or when it cannot be read.
 */
export function retryAfterMsOf(
  response: Pick<OdooHttpResponse, 'retryAfter'>,
  nowMs = Date.now(),
): number | undefined {
  const value = response.retryAfter?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1_000;
  const atMs = Date.parse(value);
  return Number.isNaN(atMs) ? undefined : Math.max(0, atMs - nowMs);
}

/** Splits a base URL into the origin undici wants and a path prefix (Odoo behind `/odoo`). */
export function splitUrl(url: string): { origin: string; basePath: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new OdooError('ODOO_PROTOCOL', `invalid Odoo URL`, { cause: error });
  }
  return { origin: parsed.origin, basePath: parsed.pathname.replace(/\/+$/, '') };
}

/** `common.version()`'s struct → {@link OdooVersion}. */
export function toVersion(value: unknown): OdooVersion {
  if (typeof value !== 'object' || value === null) {
    throw new OdooError('ODOO_PROTOCOL', `common.version: unexpected answer`);
  }
  const raw = value as Record<string, unknown>;
  const versionInfo = Array.isArray(raw.server_version_info)
    ? (raw.server_version_info as Array<number | string>)
    : [];
  const version: OdooVersion = {
    serverVersion: typeof raw.server_version === 'string' ? raw.server_version : '',
    versionInfo,
  };
  if (typeof raw.server_serie === 'string') version.serverSerie = raw.server_serie;
  if (typeof raw.protocol_version === 'number') version.protocolVersion = raw.protocol_version;
  return version;
}

/** `authenticate`'s answer: a positive uid, or `false` for refused credentials. */
export function toUid(value: unknown, label: string): number | false {
  if (value === false) return false;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new OdooError(
    'ODOO_PROTOCOL',
    `${label}: expected a user id or False, got ${typeof value}`,
  );
}
