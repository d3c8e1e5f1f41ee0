/**
 * Secrets that travel in URLs, masked before a URL reaches a log line, an error or a metric:
 *
 * - the credentials of a URL (`http://sync:secret@odoo:8069`, a Redis URL's password);
 * - query parameters whose name says they carry one (`?password=`, `?token=`, `?api_key=`);
 * - path segments that are credentials themselves: the token of Odoo's webhook route,
 *   `/hooks/odoo/<token>`, which is that route's only credential.
 *
 * Masking is by shape, so it also covers text that merely contains a URL (an error message, a
 * stack). Not here: what else a logger redacts (logger.ts).
 */

/** The webhook route's path; the segment after it is the token (routes/hooks/odoo-webhook). */
export const ODOO_WEBHOOK_PATH_PREFIX = '/hooks/odoo/';

const MASK = '[redacted]';
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;
// `%2F` too: a token sent with an encoded slash is still the token.
const SECRET_PATH_SEGMENT = /(\/hooks(?:\/|%2f)odoo(?:\/|%2f))[^/?#\s"'<>\\]+/gi;
const SECRET_QUERY_VALUE =
  /([?&][^=&#\s"]*(?:pass|secret|token|api[_-]?key|session|auth)[^=&#\s"]*=)[^&#\s"]*/gi;
// eslint-disable-next-line no-control-regex -- control characters are what this removes
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * A URL, or a text holding URLs (a message, a stack), with every URL secret masked:
 * `http://sync:secret@odoo:8069` → `http://[redacted]@odoo:8069`. Use it wherever a configured
 * URL (ODOO_URL, TRYTON_RPC_URL, a Redis URL) is logged.
 */
export function redactUrl(text: string): string {
  return text
    .replace(URL_CREDENTIALS, `$1${MASK}@`)
    .replace(SECRET_PATH_SEGMENT, `$1${MASK}`)
    .replace(SECRET_QUERY_VALUE, `$1${MASK}`);
}

/** Longest request URL a log line keeps; the rest is cut and marked. */
export const MAX_LOGGED_URL_LENGTH = 512;

/**
 * A request URL (path and query) as a log line or an error message may show it: secrets masked,
 * control characters replaced, and at most {@link MAX_LOGGED_URL_LENGTH} characters — the URL
 * is the client's to choose.
 */
export function logSafeRequestUrl(url: string): string {
  const cut =
    url.length > MAX_LOGGED_URL_LENGTH * 2 ? url.slice(0, MAX_LOGGED_URL_LENGTH * 2) : url;
  const safe = redactUrl(cut).replace(CONTROL_CHARACTERS, '\uFFFD');
  return safe.length > MAX_LOGGED_URL_LENGTH || cut !== url
    ? `${safe.slice(0, MAX_LOGGED_URL_LENGTH)}…(${url.length} characters)`
    : safe;
}
