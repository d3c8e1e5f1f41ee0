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
/*
 * Every pattern here runs in time linear in the text: it runs over every logged error's message
 * and stack, which may hold what a client sent or what an Odoo user typed. A secret query
 * parameter is found as any `[?&]name=` whose name is tested afterwards: a pattern that searched
 * for `pass` inside an unbounded name backtracked cubically over a text of `?pass?pass…`.
 */
// A scheme is short (32 covers every registered one): unbounded, each of the word starts of a
// text such as `a.a.a…` scanned the rest of it.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)[^\s/?#@]+@/gi;
// `%2F` too: a token sent with an encoded slash is still the token.
const SECRET_PATH_SEGMENT = /(\/hooks(?:\/|%2f)odoo(?:\/|%2f))[^/?#\s"'<>\\]+/gi;
/** The same test, once: whether a text holds a secret path segment at all. */
const HAS_SECRET_PATH_SEGMENT = new RegExp(SECRET_PATH_SEGMENT.source, 'i');
/**
 * An escape of printable ASCII. The router decodes those before it matches a route, but for the
 * reserved characters (decodeURI's), so `/hooks/%6fdoo/<token>` is the webhook route.
 */
const ASCII_ESCAPE = /%(?:[2-6][0-9a-f]|7[0-9a-e])/gi;
const RESERVED = new Set([...';/?:@&=+$,#%']);
// A name holds no `?` or `&`: every character of a text belongs to one candidate name at most.
const QUERY_NAME = /[?&]([^=&?#\s"]*)=/g;
const QUERY_VALUE_END = /[&#\s"]/g;
const SECRET_NAME = /pass|secret|token|api[_-]?key|session|auth/i;
// eslint-disable-next-line no-control-regex -- control characters are what this removes
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** The values of query parameters whose name says they carry a secret, masked. */
function maskSecretQueryValues(text: string): string {
  let out = '';
  let copied = 0;
  QUERY_NAME.lastIndex = 0;
  for (let name = QUERY_NAME.exec(text); name !== null; name = QUERY_NAME.exec(text)) {
    if (!SECRET_NAME.test(name[1]!)) continue;
    const valueStart = QUERY_NAME.lastIndex;
    QUERY_VALUE_END.lastIndex = valueStart;
    const valueEnd = QUERY_VALUE_END.exec(text)?.index ?? text.length;
    out += text.slice(copied, valueStart) + MASK;
    copied = valueEnd;
    // A value runs past any `?`: the secret is the whole of it, and no name starts inside it.
    QUERY_NAME.lastIndex = valueEnd;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * A URL, or a text holding URLs (a message, a stack), with every URL secret masked:
 * `http://sync:secret@odoo:8069` → `http://[redacted]@odoo:8069`. Use it wherever a configured
 * URL (ODOO_URL, TRYTON_RPC_URL, a Redis URL) is logged. Linear in the text's length; a caller
 * that logs text of any length bounds it first ({@link boundedText}).
 */
export function redactUrl(text: string): string {
  return maskSecretQueryValues(
    text.replace(URL_CREDENTIALS, `$1${MASK}@`).replace(SECRET_PATH_SEGMENT, `$1${MASK}`),
  );
}

/** Longest text a log line keeps of one message or stack; the rest is cut and marked. */
export const MAX_LOGGED_TEXT_LENGTH = 8_192;

/**
 * A text cut to `limit` characters, marked when cut, so that what a log line holds (and what
 * masking scans) is bounded whatever a client or an Odoo value put in it. Cut before masking: a
 * secret value cut short is still masked, a name cut short has no value left.
 */
export function boundedText(text: string, limit: number = MAX_LOGGED_TEXT_LENGTH): string {
  return text.length > limit ? `${text.slice(0, limit)}…(${text.length} characters)` : text;
}

/**
 * `url` with its path as the router reads it when that reveals a secret segment the text hides
 * (`/hooks/%6fdoo/<token>` → `/hooks/odoo/<token>`, which redactUrl then masks); else `url` as it
 * is. Only printable ASCII is decoded, never a reserved character: a segment ends where the router
 * ends it, and an escape it would refuse (the request is then a 400) hides nothing either.
 */
function routedForMasking(url: string): string {
  const end = url.search(/[?#]/);
  const path = end < 0 ? url : url.slice(0, end);
  if (!path.includes('%')) return url;
  const decoded = path.replace(ASCII_ESCAPE, (escape) => {
    const char = String.fromCharCode(parseInt(escape.slice(1), 16));
    return RESERVED.has(char) ? escape : char;
  });
  return decoded !== path && HAS_SECRET_PATH_SEGMENT.test(decoded)
    ? decoded + (end < 0 ? '' : url.slice(end))
    : url;
}

/** Longest request URL a log line keeps; the rest is cut and marked. */
export const MAX_LOGGED_URL_LENGTH = 512;

/**
 * A request URL (path and query) as a log line or an error message may show it: secrets masked
 * (in the path as the router reads it), control characters replaced, and at most {@link MAX_LOGGED_URL_LENGTH} characters — the URL
 * is the client's to choose.
 */
export function logSafeRequestUrl(url: string): string {
  const cut =
    url.length > MAX_LOGGED_URL_LENGTH * 2 ? url.slice(0, MAX_LOGGED_URL_LENGTH * 2) : url;
  const safe = redactUrl(routedForMasking(cut)).replace(CONTROL_CHARACTERS, '\uFFFD');
  return safe.length > MAX_LOGGED_URL_LENGTH || cut !== url
    ? `${safe.slice(0, MAX_LOGGED_URL_LENGTH)}…(${url.length} characters)`
    : safe;
}
