/** The Tryton gateway: its server, what it exposes, its cache (docs/tryton.md). Each key once: its parser, its default and its documentation (env-setting.ts). */
import { defaulted, setting } from '../env-setting.js';
import { booleanText, list, optionalText, optionalUrl, wholeNumber } from '../env-values.js';

/** Least privilege: the server version and no model; operators list what they expose. */
export const DEFAULT_TRYTON_ALLOWED_METHODS = 'common.server.version';

export const TRYTON_SETTINGS = {
  TRYTON_RPC_URL: setting(optionalUrl(['http:', 'https:']), {
    description: 'Tryton server base URL. Unset: the Tryton routes answer 503.',
  }),
  TRYTON_DATABASE: setting(optionalText(), { description: 'Tryton database name.' }),
  TRYTON_USER: setting(optionalText(), { description: 'Tryton login of the service account.' }),
  TRYTON_PASSWORD: setting(optionalText(), {
    description: 'Tryton password of the service account.',
    secret: true,
  }),
  TRYTON_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 100, 600_000),
    '10000',
    { description: 'Timeout of one Tryton call.' },
  ),
  TRYTON_LOGIN_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 1_000, 600_000),
    '45000',
    { description: 'Timeout of a Tryton login (trytond delays logins after failures).' },
  ),
  TRYTON_RETRIES: defaulted(wholeNumber('a whole number of retries', 0, 10), '3', {
    description: 'Retries of a Tryton call after a transport error or timeout.',
  }),
  TRYTON_SESSION_TTL_SECONDS: defaulted(
    wholeNumber('a whole number of seconds', 60, 31_536_000),
    '86400',
    {
      description:
        'Age after which the client logs in again before the server expires the session.',
    },
  ),
  TRYTON_MODELS: defaulted(list(), '', {
    description:
      "Models whose read methods (search, search_read, search_count, read, fields_get) the gateway forwards, comma-separated, each optionally with its only readable fields: party.party,product.product:name|code. Empty: no model. res.*, ir.* and web.* only when named here (a warning at boot). A search on rec_name, and a relation compared with text (party.identifiers ilike …), run the model's own name search: forwarded only for a model whose field list names rec_name (party.identifier:code|rec_name).",
  }),
  TRYTON_ALLOWED_METHODS: defaulted(list(), DEFAULT_TRYTON_ALLOWED_METHODS, {
    description:
      'Other methods the gateway forwards; comma-separated patterns where * matches exactly one dotted segment (model.party.party.create). A wildcard never reaches res.*, ir.* or web.* models; no pattern reaches a method that reads fields or renders records outside the field checks (export_data, fields_view_get, on_change…, autocomplete and on_scan_code of Tryton 7.0, report.*, wizard.*). A pattern matching more than the read methods is warned about at boot.',
  }),
  TRYTON_MAX_SEARCH_LIMIT: defaulted(wholeNumber('a whole number of records', 1, 100_000), '1000', {
    description:
      'Most records one proxied search returns (added when the caller sends no limit) and most ids one read names.',
  }),
  TRYTON_MAX_RESPONSE_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 1_024, 1_073_741_824),
    '10485760',
    {
      description:
        'Largest Tryton answer the client reads; past it the call fails (502 at the gateway).',
    },
  ),
  TRYTON_CACHE_TTL_SECONDS: defaulted(wholeNumber('a whole number of seconds', 0, 86_400), '60', {
    description:
      'Cache lifetime of proxied read calls (0 disables the cache), at most TRYTON_CACHE_MAX_TTL_SECONDS.',
  }),
  TRYTON_CACHE_MAX_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 0, 104_857_600),
    '262144',
    {
      description: 'Answers larger than this are not cached; at most TRYTON_CACHE_MAX_TOTAL_BYTES.',
    },
  ),
  TRYTON_CACHE_MAX_TTL_SECONDS: defaulted(
    wholeNumber('a whole number of seconds', 1, 86_400),
    '3600',
    {
      description:
        "Longest a cached Tryton answer is kept, whatever TRYTON_CACHE_TTL_SECONDS or Tryton's X-Tryton-Cache header (86400 for fields_get) asks.",
    },
  ),
  TRYTON_CACHE_MAX_ENTRIES: defaulted(
    wholeNumber('a whole number of entries', 1, 10_000_000),
    '10000',
    {
      description:
        'Most answers the Tryton cache holds in Redis, counted across API replicas; past it the soonest to expire go first. Callers choose the context, so each call may make a new entry.',
    },
  ),
  TRYTON_CACHE_MAX_TOTAL_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 1_024, 17_179_869_184),
    '67108864',
    {
      description:
        'Most bytes of answers the Tryton cache holds in Redis, counted across API replicas; past it the soonest to expire go first.',
    },
  ),
  TRYTON_CACHE_ALLOW_NOEVICTION: defaulted(booleanText(), 'false', {
    description:
      "Whether the Tryton cache writes to a Redis whose maxmemory-policy is noeviction (or cannot be read), such as the queue's. Off: it caches nothing there and warns; a full noeviction Redis stops the queues.",
  }),
};
