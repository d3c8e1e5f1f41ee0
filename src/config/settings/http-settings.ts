/** The API and the workers' ports, their limits, shutdown and logs. Each key once: its parser, its default and its documentation (env-setting.ts). */
import { z } from 'zod';
import { defaulted, setting } from '../env-setting.js';
import {
  blankToUndefined,
  booleanText,
  list,
  oneOf,
  optionalText,
  trustProxy,
  wholeNumber,
} from '../env-values.js';

export const HTTP_SETTINGS = {
  API_KEYS: setting(optionalText(), {
    description:
      "Comma-separated name:role:sha256hex[:source+source] entries (role: reader, operator, admin); a key given sources reads only those sources' copies and changes (docs/sources.md). `npm run apikey` makes one.",
    secret: true,
  }),
  PORT: defaulted(wholeNumber('a TCP port', 0, 65_535), '3000', {
    description: 'API listen port.',
  }),
  HOST: defaulted(z.string().trim(), '0.0.0.0', { description: 'API listen address.' }),
  WORKER_HTTP_PORT: defaulted(wholeNumber('a TCP port', 0, 65_535), '3001', {
    description:
      "Worker's health and metrics port (/health/live, /health/ready, and /metrics for an operator key unless WORKER_METRICS_HOST), on HOST; 0 picks a free one.",
  }),
  WORKER_METRICS_HOST: setting(optionalText(), {
    description:
      "An address of its own for the worker's /metrics (one only Prometheus reaches, e.g. a pod's internal interface): served there on WORKER_METRICS_PORT with no key, and no longer on WORKER_HTTP_PORT. Unset: /metrics on WORKER_HTTP_PORT answers an operator key of API_KEYS (Bearer) only.",
  }),
  WORKER_METRICS_PORT: defaulted(wholeNumber('a TCP port', 0, 65_535), '9464', {
    description: 'With WORKER_METRICS_HOST: the port of /metrics; 0 picks a free one.',
  }),
  CORS_ORIGINS: defaulted(list(), '', {
    description: 'Comma-separated origins allowed by CORS; empty disables CORS.',
  }),
  HTTP_BODY_LIMIT_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 1_024, 104_857_600),
    '1048576',
    { description: 'Largest request body the API accepts.' },
  ),
  RATE_LIMIT_PER_MINUTE: defaulted(wholeNumber('a whole number of requests', 1, 1_000_000), '600', {
    description:
      "Requests per minute allowed per API key, counted in Redis across API replicas (before the route's own checks).",
  }),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: defaulted(
    wholeNumber('a whole number of requests', 1, 1_000_000),
    '120',
    {
      description:
        'Requests per minute allowed per client address without a valid key (an IPv6 client by its /64 network): every refused key and unknown path counts here; only /health/live and /health/ready are exempt.',
    },
  ),
  TRUST_PROXY: defaulted(trustProxy(), 'false', {
    description:
      'Whether X-Forwarded-For is believed for the client address: false, true, a number of proxy hops, or proxy addresses/CIDR ranges.',
  }),
  API_DOCS: defaulted(oneOf(['public', 'protected', 'off']), 'protected', {
    description:
      'The OpenAPI document and page at /docs: public, protected (a reader key, Bearer or Basic) or off. The demo serves them public.',
  }),
  API_STATEMENT_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 100, 600_000),
    '5000',
    { description: "PostgreSQL statement timeout of the API's queries." },
  ),
  // The limits a client of the API meets (README, API).
  API_MAX_IN_FLIGHT_PER_KEY: defaulted(wholeNumber('a whole number of requests', 1, 1_000), '4', {
    description:
      "Requests of one API key an API process serves at once; past it, 429 with Retry-After. Below DATABASE_POOL_MAX, one key's slow requests never hold every connection.",
  }),
  API_PAGE_MAX_BYTES: defaulted(
    wholeNumber('a whole number of bytes', 65_536, 268_435_456),
    '4194304',
    {
      description:
        "Largest answer of a list page (and of a detail's child pages, together): a page stops short of it, with its nextCursor, and always holds one record at least.",
    },
  ),
  API_READERS_SEE_ARCHIVED: defaulted(booleanText(), 'false', {
    description:
      'Whether a reader key may ask for records gone from Odoo (includeArchived=true); without it, only operator and admin keys may.',
  }),
  API_RECONCILE_COOLDOWN_SECONDS: defaulted(
    wholeNumber('a whole number of seconds', 0, 604_800),
    '900',
    {
      description:
        'After a reconcile or a verify of a family ran (whoever asked for it), how long POST /api/sync/reconcile or /api/sync/verify answers 409 for that family, as it does while one is queued or running; 0: only then.',
    },
  ),
  SHUTDOWN_TIMEOUT_MS: defaulted(
    wholeNumber('a whole number of milliseconds', 100, 600_000),
    '15000',
    { description: 'How long a process waits for work in flight when asked to stop.' },
  ),
  LOG_LEVEL: defaulted(
    oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    'info',
    { description: 'fatal, error, warn, info, debug, trace or silent.' },
  ),
  LOG_PRETTY: setting(z.preprocess(blankToUndefined, booleanText().optional()), {
    description: 'Human-readable logs; defaults to true on a terminal, JSON lines otherwise.',
  }),
  LOG_FORMAT: setting(z.preprocess(blankToUndefined, oneOf(['pretty', 'json']).optional()), {
    description:
      'pretty (one readable line per event) or json (one JSON object per line, for log shippers). Defaults to LOG_PRETTY, else pretty on a terminal and json otherwise.',
  }),
};
